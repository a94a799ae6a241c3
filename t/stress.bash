# The GC race proof, shared by t/keep-paths-stress.bats and
# t/keep-paths-stress-drop.bats (two files, so that make -j runs them side
# by side).
#
# The proof: several keep-paths sessions root freshly added paths while
# nix-store --gc runs in a loop, for each back end.  Every path answered
# "ok" must exist until its session ends, or until it is dropped: sessions
# with drops release roots one by one as they go, and every root that
# stays must survive each make-before-break.  Bounded: STRESS_SESSIONS
# sessions of STRESS_PATHS paths each.

: "${STRESS_SESSIONS:=4}" "${STRESS_PATHS:=30}"

setup_file() {
	kp_store_setup
	kp_daemon_start
	kp_gc	# the store's database exists before any session starts
}

teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	[ -z "${looppid:-}" ] || wait "$looppid" || true
	kp_teardown
	kp_sshd_stop
}

# The store the sessions use: this file's, or with STRESS_REMOTE the remote
# one behind ssh-ng (kp_sshd_start).
st_nix_store() {
	if [ -n "${STRESS_REMOTE:-}" ]; then
		remote_nix_store "$@"
	else
		nix-store "$@"
	fi
}

st_has() {
	if [ -n "${STRESS_REMOTE:-}" ]; then
		remote_has "$1"
	else
		[ -e "$1" ]
	fi
}

# Collects in a loop until the file "stop" appears; counts the runs, the
# runs that failed (a temp-roots record Nix could not parse fails every
# one), and those that aborted in Nix's own GC-socket server.  That abort
# ("terminate called without an active exception") is a race in Nix
# itself, up to master: a client connection that ends before the server
# has filed its thread leaves an entry whose fd number the next client
# reuses, and std::map::insert then drops a joinable std::thread.  Nix's
# own short-lived clients (nix-store --add here) trigger it.
#
# Nix 2.8 leaves that abort to libstdc++ ("terminate called without an
# active exception"); 2.26 and 2.34 print their own crash report
# ("std::terminate() called without exception").
NIX_ABORT='^(terminate called without an active exception|std::terminate\(\) called without exception)'

# Each run is held, by Nix's own test hook (see gc_paused), for 0 to 200
# ms after it has read the roots and before it deletes: the window in
# which a root added too late, or acknowledged too early, loses its path.
gc_loop() {
	local runs=0 failed=0 aborted=0 out=$BATS_TEST_TMPDIR/gc.run gcpid writer
	local sync=$BATS_TEST_TMPDIR/gc.sync
	mkfifo "$sync"
	while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
		# (Nix 2.8 reads the first hook, 2.26 and 2.34 the second.)
		_NIX_TEST_GC_SYNC=$sync _NIX_TEST_GC_SYNC_2=$sync \
		    st_nix_store --gc >"$out" 2>&1 &
		gcpid=$!
		sleep "0.$((RANDOM % 200))"
		# A run that aborted never opens the fifo: do not wait on it.
		{ echo >"$sync"; } 2>/dev/null &
		writer=$!
		if ! wait "$gcpid"; then
			if grep -qE "$NIX_ABORT" "$out"; then
				aborted=$((aborted + 1))
			else
				failed=$((failed + 1))
				{ echo "GC run $((runs + 1)) failed:"; cat "$out"; } \
				    >>"$BATS_TEST_TMPDIR/gc.failed"
			fi
		fi
		kill "$writer" 2>/dev/null || true
		wait "$writer" 2>/dev/null || true
		cat "$out" >>"$BATS_TEST_TMPDIR/gc.log"
		runs=$((runs + 1))
		echo "$runs $failed $aborted" >"$BATS_TEST_TMPDIR/gc.count.tmp"
		mv "$BATS_TEST_TMPDIR/gc.count.tmp" "$BATS_TEST_TMPDIR/gc.count"
	done
}

gc_runs() {
	local runs rest
	read -r runs rest <"$BATS_TEST_TMPDIR/gc.count"
	echo "$runs"
}

# Waits until two more collections have finished: the last ack is then
# older than a whole collection.
two_more_collections() {
	local start deadline=$((SECONDS + 120))
	start=$(gc_runs)
	while [ "$(gc_runs)" -lt $((start + 2)) ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# With STRESS_DROP, a session that holds three or more paths drops the
# oldest one time in three: the other roots move to a new connection first.
maybe_drop() {
	[ -n "${STRESS_DROP:-}" ] && [ "${#held[@]}" -ge 3 ] &&
	    [ $((RANDOM % 3)) = 0 ] || return 0
	echo "drop ${held[0]}" >&$sin
	IFS= read -r -t 60 reply <&$sout || {
		echo "session $i: no reply for drop ${held[0]}" >>"$dir/violations"
		errors=$((errors + 1)); return 1; }
	[[ $reply != lost* ]] || { session_lost; return 1; }
	if [ "$reply" != "dropped ${held[0]}" ]; then
		echo "session $i: $reply" >>"$dir/violations"
		errors=$((errors + 1))
		return 0
	fi
	drops=$((drops + 1))
	held=("${held[@]:1}")
}

# The store dropped the session's roots ("lost"), or a reconnect found one
# collected in the gap ("lost PATH"); keep-paths said so and exits 75.
# Its paths are held no longer.  Whether Nix's own worker abort explains
# it is for stress() to tell.
session_lost() {
	echo "$i" >>"$dir/lost"
	held=()
	expect=75
}

# One session: add a fresh path, leave it unrooted for up to 0.3 s, root
# it, check it, perhaps drop an older one; then, after two more
# collections, check every path still held again.  Writes
# "acks missing violations errors drops" to session.N.
stress_session() {
	local i=$1 store=$2 dir=$BATS_TEST_TMPDIR n p reply
	local ok=0 missing=0 violations=0 errors=0 drops=0 held=() expect=0 st=0
	# A keep-paths that ended is no reason to die writing to it.
	trap '' PIPE
	coproc S { exec "$KEEP_PATHS" --store "$store" 2>>"$dir/kp.$i.err" 3>&-; }
	local pid=$S_PID
	exec {sin}>&"${S[1]}" {sout}<&"${S[0]}"
	exec {S[1]}>&- {S[0]}<&-
	for n in $(seq "$STRESS_PATHS"); do
		echo "stress $i $n $RANDOM$RANDOM" >"$dir/f.$i.$n"
		p=$(st_nix_store --add "$dir/f.$i.$n" 2>>"$dir/add.err") || {
			errors=$((errors + 1)); continue; }
		# Unrooted for a while: a collection may find it dead.
		sleep "0.$((RANDOM % 300))"
		echo "$p" >&$sin 2>/dev/null || {
			echo "session $i: keep-paths gone before $p" >>"$dir/violations"
			errors=$((errors + 1)); break; }
		IFS= read -r -t 60 reply <&$sout || {
			echo "session $i: no reply for $p" >>"$dir/violations"
			errors=$((errors + 1)); break; }
		case $reply in
		"ok $p")
			ok=$((ok + 1))
			held+=("$p")
			st_has "$p" || {
				echo "session $i: ok but gone at once: $p" >>"$dir/violations"
				violations=$((violations + 1)); } ;;
		"missing $p")
			missing=$((missing + 1)) ;;
		lost | "lost "*)
			session_lost
			break ;;
		*)
			echo "session $i: $reply" >>"$dir/violations"
			errors=$((errors + 1)) ;;
		esac
		maybe_drop || break
	done
	two_more_collections || {
		echo "session $i: the collection loop stopped" >>"$dir/violations"
		errors=$((errors + 1)); }
	for p in "${held[@]}"; do
		st_has "$p" && continue
		echo "session $i: ok, then collected while held: $p" >>"$dir/violations"
		violations=$((violations + 1))
	done
	exec {sin}>&-
	wait "$pid" || st=$?
	[ "$st" = "$expect" ] || {
		echo "session $i: keep-paths exited $st" >>"$dir/violations"
		errors=$((errors + 1)); }
	echo "$ok $missing $violations $errors $drops" >"$dir/session.$i"
}

# How often a Nix process of this file's aborted in Nix's own GC-socket
# race (gc_loop): the daemon's workers log to daemon.log, a remote
# nix-daemon --stdio to its keep-paths' stderr.  keep-paths' barrier is a
# collection that deletes nothing, run by the session's own daemon worker,
# so that worker serves the GC socket for a moment and can abort the same
# way, taking the session's roots with it.
worker_aborts() {
	cat "$KP_NIX/daemon.log" "$BATS_TEST_TMPDIR"/kp.*.err 2>/dev/null |
	    grep -cE "$NIX_ABORT" || true
}

# Runs the sessions against one back end with the loop collecting, then
# prints the counts and fails on any violation.
stress() {
	local store=$1 i acks=0 missing=0 violations=0 errors=0 drops=0 pids=()
	local a m v e d lost=0 aborts_at
	aborts_at=$(worker_aborts)
	rm -f "$BATS_TEST_TMPDIR/stop"
	echo "0 0 0" >"$BATS_TEST_TMPDIR/gc.count"
	gc_loop 3>&- &
	looppid=$!
	for i in $(seq "$STRESS_SESSIONS"); do
		stress_session "$i" "$store" 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$looppid"
	looppid=
	for i in $(seq "$STRESS_SESSIONS"); do
		read -r a m v e d <"$BATS_TEST_TMPDIR/session.$i"
		acks=$((acks + a)) missing=$((missing + m)) drops=$((drops + d))
		violations=$((violations + v)) errors=$((errors + e))
	done
	local runs failed aborted
	read -r runs failed aborted <"$BATS_TEST_TMPDIR/gc.count"
	[ ! -e "$BATS_TEST_TMPDIR/lost" ] || lost=$(wc -l <"$BATS_TEST_TMPDIR/lost")
	local workers=$(($(worker_aborts) - aborts_at))
	echo "# $store: sessions $STRESS_SESSIONS, requests $((STRESS_SESSIONS * STRESS_PATHS)), acks $acks, missing $missing, drops $drops, GC runs $runs (failed $failed, aborted by Nix's own race $aborted), sessions lost $lost (daemon workers aborted by that race $workers), violations $violations, errors $errors" >&3
	[ ! -e "$BATS_TEST_TMPDIR/violations" ] || cat "$BATS_TEST_TMPDIR/violations"
	[ ! -e "$BATS_TEST_TMPDIR/gc.failed" ] || cat "$BATS_TEST_TMPDIR/gc.failed"
	assert_equal "$violations" 0
	assert_equal "$errors" 0
	assert_equal "$failed" 0
	# A session may be lost (and say so) only to a worker that aborted.
	assert [ "$lost" -le "$workers" ]
	# The race was run: collections overlapped the sessions.
	assert [ "$runs" -ge 2 ]
	assert [ "$acks" -gt 0 ]
	[ -z "${STRESS_DROP:-}" ] || assert [ "$drops" -gt 0 ]
}


# The burst: BURST_FRESH fresh paths, unrooted until the burst roots them,
# among BURST_LINES well-formed paths that are not valid, written at once
# while the loop collects.  The fresh ones come one every 100 lines after
# the first 1,000, the most keep-paths reads at once: they arrive while
# the first batch is in flight, and are rooted ahead of its barrier.  A
# fresh path answered "ok" must survive until the session ends, and every
# reply must name its request, in order.
: "${BURST_LINES:=20000}" "${BURST_FRESH:=20}"

burst_input() {	# FRESH...: the burst's lines
	awk -v sd="$NIX_STORE_DIR" -v lines="$BURST_LINES" -v fresh="$*" '
	BEGIN {
		nf = split(fresh, f, " ")
		for (i = 1; i <= lines; i++) {
			printf "%s/000000000000000000000000%08d-filler\n", sd, i
			k = (i - 1000) / 100
			if (i > 1000 && i % 100 == 0 && k <= nf)
				print f[k]
		}
	}'
}

stress_burst() {
	local store=$1 dir=$BATS_TEST_TMPDIR i p fresh=() ok=0 st=0 runs
	for i in $(seq "$BURST_FRESH"); do
		echo "burst $i $RANDOM$RANDOM" >"$dir/b.$i"
		fresh+=("$(nix-store --add "$dir/b.$i")")
	done
	burst_input "${fresh[@]}" >"$dir/burst"
	rm -f "$dir/stop"
	echo "0 0 0" >"$dir/gc.count"
	# First: forked later, the loop would hold keep-paths' stdin open.
	gc_loop 3>&- &
	looppid=$!
	coproc B { exec "$KEEP_PATHS" --store "$store" 2>"$dir/kp.burst.err" 3>&-; }
	local pid=$B_PID
	exec {bin}>&"${B[1]}" {bout}<&"${B[0]}"
	exec {B[1]}>&- {B[0]}<&-
	cat "$dir/burst" >&$bin &
	head -n "$(wc -l <"$dir/burst")" <&$bout >"$dir/replies"
	two_more_collections
	# Each reply names its request, in order; fillers are missing.
	paste -d ' ' "$dir/burst" "$dir/replies" | awk '
		$3 != $1 || ($2 != "ok" && $2 != "missing") ||
		    ($1 ~ /-filler$/ && $2 != "missing") { print; bad++ }
		END { exit bad > 0 }'
	for p in "${fresh[@]}"; do
		grep -qxF "ok $p" "$dir/replies" || continue
		ok=$((ok + 1))
		[ -e "$p" ] || { echo "ok, then collected while held: $p"; return 1; }
	done
	exec {bin}>&-
	wait "$pid" || st=$?
	touch "$dir/stop"
	wait "$looppid"
	looppid=
	read -r runs _ <"$dir/gc.count"
	echo "# $store burst: $(wc -l <"$dir/burst") requests, fresh $BURST_FRESH, acked $ok, GC runs $runs" >&3
	assert_equal "$st" 0
	assert [ "$runs" -ge 2 ]
}
