# Test helpers: every test file gets a private Nix store and, where it
# asks for one, its own nix-daemon.  Nothing here touches /nix or the
# network: substituters are empty and the sandbox is off.
#
# The defaults below give a file a store and a daemon, used by keep-paths
# and nix-store alike (NIX_REMOTE=daemon); a file that needs no daemon
# defines its own setup_file.

bats_require_minimum_version 1.5.0
export BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats}
bats_load_library bats-support
bats_load_library bats-assert

: "${KEEP_PATHS:?run the tests through make check, or set KEEP_PATHS}"

setup_file() {
	kp_store_setup
	kp_daemon_start
	# As root, "auto" would choose the local store: these files test the
	# daemon back end.  nix-store commands go through the daemon too.
	export NIX_REMOTE=daemon
}

teardown_file() {
	kp_daemon_stop
}

# Stops what a test started and left: a fake listener, a paused
# collector.  A test that passed must leave nothing of keep-paths'
# running once those are gone (kp_assert_no_leftovers); one that failed
# half-way must not leave its keep-paths running either.
kp_teardown() {
	[ -z "${fakepid:-}" ] || kill "$fakepid" 2>/dev/null || true
	[ -z "${gcpid:-}" ] || gc_end
	local rc=0
	[ -z "${BATS_TEST_COMPLETED:-}" ] || kp_assert_no_leftovers || rc=$?
	[ -z "${KP_PID_SAVED:-}" ] || kill "$KP_PID_SAVED" 2>/dev/null || true
	return "$rc"
}

# What is left of this file's sessions, one line each: keep-paths,
# keep-paths-sweep or an ssh of theirs (found by this file's NIX_STATE_DIR
# in their environment, so an orphan counts too), a worker of this file's
# daemon, a session of this file's sshd.
kp_leftovers() {
	local d w pid
	local -a words
	for d in /proc/[0-9]*; do
		[ "${d#/proc/}" != "$$" ] || continue
		grep -qzxF "NIX_STATE_DIR=$NIX_STATE_DIR" "$d/environ" 2>/dev/null ||
		    continue
		mapfile -d '' -t words <"$d/cmdline" 2>/dev/null || continue
		for w in "${words[@]}"; do
			case ${w##*/} in
			keep-paths | keep-paths-sweep | ssh)
				echo "${d#/proc/} ${words[*]}"
				break ;;
			esac
		done
	done
	pid=$(cat "$KP_NIX/daemon.pid" 2>/dev/null) &&
	    pgrep -a -P "$pid" | sed 's/^/daemon worker: /'
	pid=$(cat "$BATS_FILE_TMPDIR/ssh/sshd.pid" 2>/dev/null) &&
	    pgrep -a -P "$pid" | sed 's/^/sshd session: /'
	return 0
}

# No stale process: everything kp_leftovers finds is gone within 10 s
# (a daemon worker notices its client's end a moment later).
kp_assert_no_leftovers() {
	local i left
	for i in $(seq 100); do
		left=$(kp_leftovers)
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	printf 'left running after the test:\n%s\n' "$left" >&2
	return 1
}

teardown() {
	kp_teardown
}

kp_store_setup() {
	export KP_NIX="$BATS_FILE_TMPDIR/nix"
	export NIX_STORE_DIR="$KP_NIX/store" NIX_STATE_DIR="$KP_NIX/var"
	export NIX_LOG_DIR="$KP_NIX/log" NIX_CONF_DIR="$KP_NIX/etc"
	unset NIX_REMOTE NIX_DAEMON_SOCKET_PATH NIX_STORE NIX_PATH
	mkdir -p "$NIX_STORE_DIR" "$NIX_STATE_DIR" "$NIX_LOG_DIR" "$NIX_CONF_DIR"
	cat >"$NIX_CONF_DIR/nix.conf" <<-CONF
	substituters =
	sandbox = false
	build-users-group =
	CONF
	# No config file of the user's or the machine's may change a test.
	export XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/xdg" HOME="$BATS_FILE_TMPDIR/home"
	mkdir -p "$XDG_CONFIG_HOME" "$HOME"
	# Which Nix this file runs against, at the top of its log.
	echo "# $(nix-store --version) ($(command -v nix-store))" >&3
	export KP_SOCKET="$NIX_STATE_DIR/daemon-socket/socket"
}

# Starts a nix-daemon for this file's store; its pid goes to daemon.pid.
kp_daemon_start() {
	rm -f "$KP_SOCKET"
	# Never with NIX_REMOTE=daemon: a daemon whose store is a daemon
	# forwards every connection to its own socket, without end.
	env -u NIX_REMOTE nix-daemon >>"$KP_NIX/daemon.log" 2>&1 3>&- &
	echo "$!" >"$KP_NIX/daemon.pid"
	disown "$!"
	kp_wait_until -S "$KP_SOCKET" || { cat "$KP_NIX/daemon.log" >&2; return 1; }
}

# Waits (up to 10 s) until test(1) with these arguments succeeds, e.g.
# "kp_wait_until -S SOCKET" or "kp_wait_until -s FILE".
kp_wait_until() {
	kp_wait_cmd test "$@"
}

# Waits (up to 10 s) until the command succeeds.
kp_wait_cmd() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	echo "still not true after 10 s: $*" >&2
	return 1
}

# Succeeds while a collector (or a stand-in) holds gc.lock.
gc_lock_held() {
	! flock -n "$NIX_STATE_DIR/gc.lock" true
}

# Stops the daemon by pid and waits until it is gone.
kp_daemon_stop() {
	local pid
	pid=$(cat "$KP_NIX/daemon.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	kp_wait_gone "$pid"
	rm -f "$KP_NIX/daemon.pid"
}

# Kills the daemon and its workers at once, as a crash or a restart would.
# Stopped first: a keep-paths that reconnects at once must not reach it
# between its workers' death and its own, or the new worker outlives it.
daemon_crash() {
	local dpid
	dpid=$(cat "$KP_NIX/daemon.pid")
	kill -STOP "$dpid"
	pkill -KILL -P "$dpid"
	kill -KILL "$dpid"
	kp_wait_gone "$dpid"
	rm -f "$KP_NIX/daemon.pid"
}

# Waits (up to 10 s) for a process to exit.
kp_wait_gone() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "process $1 did not exit" >&2
	return 1
}

# Adds a fresh file to the store (unrooted) and prints its store path.
kp_add() {
	local f="$BATS_TEST_TMPDIR/$1"
	printf '%s\n' "${2:-$1 $RANDOM $RANDOM}" >"$f"
	nix-store --add "$f"
}

# Prints N well-formed store paths that no store has (TAG-0001 ...).
kp_unbuilt_paths() {
	local i
	for i in $(seq "$1"); do
		printf '%s/%032d-%s-%04d\n' "$NIX_STORE_DIR" "$i" "$2" "$i"
	done
}

# kp_send_until_full N TAG GLOB: sends N unbuilt paths to keep-paths,
# for a store that runs out of room on the way, and reads every reply:
# $rooted counts "missing", $full the replies that match GLOB (the error
# for no room).  Any other reply fails, and so does none for no room.
kp_send_until_full() {
	local i
	kp_unbuilt_paths "$1" "$2" >"$BATS_TEST_TMPDIR/many"
	cat "$BATS_TEST_TMPDIR/many" >&"$KP_IN"
	rooted=0 full=0
	for i in $(seq "$1"); do
		kp_reply
		case $reply in
		"missing "*) rooted=$((rooted + 1)) ;;
		$3) full=$((full + 1)) ;;
		*) fail "unexpected reply: $reply" ;;
		esac
	done
	(( full > 0 ))
}

# stdin_open: $hold is an fd for a stdin that never reaches EOF (whoever
# gets it holds the fifo open for writing too), for runs that must end by
# an error, not by EOF.
stdin_open() {
	mkfifo "$BATS_TEST_TMPDIR/stdin"
	exec {hold}<>"$BATS_TEST_TMPDIR/stdin"
}

kp_gc() {
	nix-store --gc >>"$KP_NIX/gc.log" 2>&1
}

# For a holder that could not say goodbye (SIGKILL): its daemon worker
# drops the roots when it notices, a moment later.  Collects until PATH is
# gone, for up to 10 s.
kp_gc_until_gone() {
	local i
	for i in $(seq 100); do
		kp_gc
		[ -e "$1" ] || return 0
		sleep 0.1
	done
	return 1
}

# Starts keep-paths as a coproc KP with the given arguments; its stderr
# goes to $BATS_TEST_TMPDIR/kp.err.  It execs only once its fds are
# copied to $KP_IN and $KP_OUT: bash closes a coproc's own fds as soon as
# it notices the coproc ended, and a keep-paths that ends at once (a
# refused handshake) would leave nothing to read its end from.
kp_start() {
	local go="$BATS_TEST_TMPDIR/kp.go.$RANDOM"
	mkfifo "$go"
	coproc KP {
		: <"$go"
		exec "$KEEP_PATHS" "$@" 2>"$BATS_TEST_TMPDIR/kp.err" 3>&-
	}
	KP_PID_SAVED=$KP_PID
	# Plain copies: bash hides coproc fds from subshells and pipelines.
	# (Copies of them stay close-on-exec, as the originals are.)
	exec {KP_IN}>&"${KP[1]}" {KP_OUT}<&"${KP[0]}"
	exec {KP[1]}>&- {KP[0]}<&-
	: >"$go"
	rm -f "$go"
}

# Sends each argument as one request line.
kp_send() {
	printf '%s\n' "$@" >&"$KP_IN" || kp_said
}

# Reads one reply line into $reply (fails after SECONDS, 20 by default).
kp_reply() {
	IFS= read -r -t "${1:-20}" reply <&"$KP_OUT" || kp_said
}

# For a failed test's log, when keep-paths took no request or gave no
# reply: what it said on stderr.  Fails.
kp_said() {
	echo "keep-paths is gone or silent; it said:" >&2
	cat "$BATS_TEST_TMPDIR/kp.err" >&2
	return 1
}

# kp_hold_fresh NAME [ARG...]: roots a fresh path (kp_add NAME), $p, in a
# new session started with the ARGs, and checks the reply is "ok".
kp_hold_fresh() {
	p=$(kp_add "$1")
	shift
	kp_start "$@"
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
}

# Closes keep-paths' stdin (EOF: release) and waits; $kp_status is its
# exit status.
kp_stop() {
	exec {KP_IN}>&-
	kp_status=0
	wait "$KP_PID_SAVED" || kp_status=$?
	exec {KP_OUT}<&-
}

# A unix-socket listener that is not a Nix daemon: it answers every
# connection with the bytes given (perl is essential in Debian), after the
# seconds given if any, and hangs up.
fake_listener() {
	perl -MIO::Socket::UNIX -MTime::HiRes=sleep -e '
		my $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 5)
		    or die "listen: $!";
		while (my $c = $s->accept) {
			sleep($ARGV[2]); print $c $ARGV[1]; close $c
		}
	' "$1" "$2" "${3:-0}" 3>&- &
	fakepid=$!
	kp_wait_until -S "$1"
}

# Skips a test that needs strace when it is missing or cannot trace.
need_strace() {
	command -v strace >/dev/null || skip "no strace (Debian: strace)"
	strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
}

# Runs a command whose every write(2) is held back for 0.4 s (strace's
# fault injection): a peer can answer and hang up after the command's
# poll() said it could write, and before it does.  LeakSanitizer cannot
# run under ptrace (it aborts), so an ASan build checks leaks elsewhere.
slow_writes() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -qq -o /dev/null -e trace=write \
	    -e inject=write:delay_enter=400000 "$@"
}

# Starts nix-store --gc, paused (by Nix's own test hook) after it has found
# the roots and holding gc.lock, until something is written to sync.  It
# collects in-process (the daemon would not see the hook's variable), and
# logs every root it is told of meanwhile (gc_told).  Nix 2.8 pauses there
# on _NIX_TEST_GC_SYNC; later ones (2.26, 2.34) split the hook and pause
# there on _NIX_TEST_GC_SYNC_2 (_1 comes before the roots server starts,
# which is no use here).
gc_paused() {
	mkfifo "$BATS_TEST_TMPDIR/sync"
	NIX_REMOTE=local _NIX_TEST_GC_SYNC="$BATS_TEST_TMPDIR/sync" \
	    _NIX_TEST_GC_SYNC_2="$BATS_TEST_TMPDIR/sync" nix-store --gc \
	    --debug >"$BATS_TEST_TMPDIR/gc.log" 2>&1 3>&- &
	gcpid=$!
	kp_wait_cmd gc_at_pause
}

# nix_at_least MAJOR.MINOR: the Nix under test is that version or newer.
nix_at_least() {
	local v
	v=$(nix-store --version | sed -n 's/^nix-store (Nix) \([0-9]*\.[0-9]*\).*/\1/p')
	[ -n "$v" ] && [ "$(printf '%s\n%s\n' "$1" "$v" | sort -V | head -n 1)" = "$1" ]
}

# The paused collection is at its pause, opening the sync fifo: it holds
# gc.lock and has read the roots.  (Holding gc.lock is not enough: the
# lock comes before the roots are read.)
gc_at_pause() {
	[ "$(cat "/proc/$gcpid/wchan" 2>/dev/null)" = wait_for_partner ]
}

# A fresh path (kp_add NAME) sent to keep-paths (started with the other
# arguments) while a real collection is paused mid-run: no reply while it
# runs (the barrier holds), then "ok", and the path survives that
# collection and the next.  Leaves the session running; $p is the path.
kp_root_during_paused_gc() {
	p=$(kp_add "$1")
	shift
	gc_paused
	kp_start "$@"
	kp_send "$p"
	# Resumed too soon, the collection would take $p before keep-paths
	# could tell it (the reply would then be "missing", and rightly).
	kp_wait_cmd gc_told "$p"
	run ! read -r -t 1 reply <&"$KP_OUT"
	gc_resume
	kp_reply
	assert_equal "$reply" "ok $p"
	assert [ -e "$p" ]
	kp_gc
	assert [ -e "$p" ]
}

# A fresh path sent while a real collection is paused, then EOF before
# it ends: keep-paths must exit at once.  Leaves the collector paused.
kp_eof_during_paused_gc() {
	p=$(kp_add "$1")
	shift
	gc_paused
	kp_start "$@"
	kp_send "$p"
	run ! read -r -t 1 reply <&"$KP_OUT"
	exec {KP_IN}>&-
	kp_wait_gone "$KP_PID_SAVED"
	wait "$KP_PID_SAVED"
}

# The paused collection has been told of root PATH (over its socket).
gc_told() {
	grep -qF "got new GC root '$1'" "$BATS_TEST_TMPDIR/gc.log"
}

# The collector's own race, in Nix 2.5 to 2.34 and Lix (fixed in 2.35):
# when a collection reaches a dead path D, it visits D's referrers, marks
# the last one visited "pending", and deletes them all, referrers first,
# without looking at the temp roots again.  A root for an earlier one, R1,
# that arrives while the pending R2 is being deleted is acknowledged at
# once (only "pending" waits), and R1 is deleted anyway.  So an ack right
# after AddTempRoot and a valid path means nothing here: only the barrier
# (wait for the collection to end, then check) gives an honest answer.
#
# kp_component_race [ARG...]: stages exactly that against a keep-paths
# started with the ARGs.  D sorts before its referrers R1 < R2 (a set of
# store paths is ordered by name, and nix-store --delete takes them in
# that order); strace holds every unlinkat(2) of the collection (how it
# deletes a path; stale temp-roots files go by unlink(2)) for 1 s, so R2's
# deletion is a window wide enough to root R1 in.  Then "ok R1" must mean
# that R1 survives; "missing R1" is honest only if R1 is gone.  $reply
# and $r1 are left for the caller.
kp_component_race() {
	local d r2 i
	need_strace
	# A referrer left over from a try would keep that D alive: each try
	# starts from a new D.
	for i in $(seq 100); do
		d=$(kp_add race-d)
		[[ ${d#"$NIX_STORE_DIR/"} < 4 ]] || continue
		r1=$(kp_referrer race-r "$d") r2=$(kp_referrer race-r "$d")
		[[ $r1 > $d && $r2 > $d ]] && break
	done
	[[ $r1 > $d && $r2 > $d ]] || fail "no D that sorts before its referrers"
	[[ $r1 < $r2 ]] || { local t=$r1; r1=$r2 r2=$t; }
	kp_start "$@"
	NIX_REMOTE=local strace -f -qq -o /dev/null \
	    -e trace=unlinkat -e inject=unlinkat:delay_enter=1000000 \
	    nix-store --delete --debug "$d" "$r1" "$r2" \
	    >"$BATS_TEST_TMPDIR/gc.log" 2>&1 3>&- &
	gcpid=$!
	for i in $(seq 300); do
		gc_deleting "$r2" && break
		kill -0 "$gcpid" 2>/dev/null ||
		    gc_log_fail "the collection ended before it deleted $r2"
		sleep 0.1
	done
	gc_deleting "$r2" || gc_log_fail "not deleting $r2 after 30 s"
	kp_send "$r1"
	kp_reply 60
	wait "$gcpid" || gc_log_fail "the collection failed"
	gcpid=
	# The race was run: R1 was told to the collection while R2 went.
	gc_told "$r1" || gc_log_fail "the collection was not told of $r1"
	case $reply in
	"ok $r1")
		[ -e "$r1" ] || fail "acked ok, then collected by the running collection: $r1"
		kp_gc
		[ -e "$r1" ] || fail "acked ok, then collected by the next collection: $r1" ;;
	"missing $r1")
		[ ! -e "$r1" ] || fail "answered missing, but it is there: $r1" ;;
	*)
		fail "unexpected reply: $reply" ;;
	esac
}

# Fails with MESSAGE after the collection's log.
gc_log_fail() {
	cat "$BATS_TEST_TMPDIR/gc.log" >&2
	fail "$1"
}

# A text file in the store (builtins.toFile) that refers to store path $2.
kp_referrer() {
	nix-instantiate --eval --read-write-mode -E \
	    "builtins.toFile \"$1\" \"$RANDOM $RANDOM \${builtins.storePath \"$2\"}\"" |
	    tr -d '"'
}

# The collection's log says it is deleting PATH (2.8 quotes it with '…',
# later versions with "…").
gc_deleting() {
	grep -F "$1" "$BATS_TEST_TMPDIR/gc.log" | grep -q '^deleting '
}

gc_resume() {
	echo >"$BATS_TEST_TMPDIR/sync"
	wait "$gcpid"
	gcpid=
}

# Teardown's end of a collection that a test left paused, or that never
# paused: a write to the fifo that nobody opens would block for ever (and
# hold the whole file's output open), so it waits at most 2 s, then the
# collector is killed.
gc_end() {
	timeout 2 bash -c 'echo >"$1"' _ "$BATS_TEST_TMPDIR/sync" 2>/dev/null || true
	timeout 5 tail --pid="$gcpid" -f /dev/null || kill -KILL "$gcpid" 2>/dev/null || true
	wait "$gcpid" 2>/dev/null || true
	gcpid=
}

# A "remote host" for ssh-ng:// tests: sshd on 127.0.0.1 at a free high
# port, with a throwaway host key and client key, serving a second store
# to "nix-daemon --stdio": a chroot store at $KP_REMOTE with the same
# logical store directory; or with --namespace, a plain local store whose
# store directory is this one's path backed by other files
# ($KP_REMOTE/store), bind-mounted in a private mount namespace that sshd,
# and so every session on the "host", runs in.  Either way
# $KP_TARGET_STORE is where the target's store files are seen from here,
# and $KP_ON_TARGET runs a command as on the target (its Nix, its store).
# Sets KP_SSH (the store URI), KP_SSH_PORT and NIX_SSHOPTS; kp_sshd_stop
# stops it by pid.  The remote side gets this PATH, so its nix-daemon is
# the Nix under test, not sshd's default one.  Needs root and OpenSSH's
# sshd (as CI has; not in a Nix build), and for --namespace, unshare and
# nsenter: without them it sets KP_SSHD_MISSING, for kp_need_sshd, and
# starts nothing.  It never skips: bats 1.8 fails every teardown_file
# after a setup_file that skipped.
kp_sshd_start() {
	local d="$BATS_FILE_TMPDIR/ssh" port i sshd ns= env
	export KP_SSHD_MISSING=
	[ "${1:-}" = --namespace ] && ns=1
	if ! sshd=$(PATH=$PATH:/usr/sbin command -v sshd); then
		KP_SSHD_MISSING="no sshd (Debian: openssh-server)"
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		KP_SSHD_MISSING="sshd needs root"
		return 0
	fi
	if [ -n "$ns" ] && ! unshare -m true 2>/dev/null; then
		KP_SSHD_MISSING="no private mount namespace (unshare -m)"
		return 0
	fi
	export KP_REMOTE="$BATS_FILE_TMPDIR/remote"
	export KP_ON_TARGET="$d/on-target"
	mkdir -p "$d" "$KP_REMOTE" /run/sshd
	if [ -n "$ns" ]; then
		export KP_TARGET_STORE="$KP_REMOTE/store"
		mkdir -p "$KP_TARGET_STORE"
		env="NIX_REMOTE=local NIX_STATE_DIR=$KP_REMOTE/var/nix NIX_LOG_DIR=$KP_REMOTE/var/log/nix"
	else
		export KP_TARGET_STORE="$KP_REMOTE/nix/store"
		env="NIX_REMOTE=$KP_REMOTE NIX_STATE_DIR=$KP_REMOTE/nix/var/nix NIX_LOG_DIR=$KP_REMOTE/nix/var/log/nix"
	fi
	chmod 700 "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
	cp "$d/client_key.pub" "$d/authorized_keys"
	for i in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		cat >"$d/sshd_config" <<-CONF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $d/host_key
		AuthorizedKeysFile $d/authorized_keys
		PidFile $d/sshd.pid
		StrictModes no
		UsePAM no
		UseDNS no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		SetEnv PATH=$PATH NIX_STORE_DIR=$NIX_STORE_DIR NIX_CONF_DIR=$NIX_CONF_DIR $env
		CONF
		rm -f "$d/sshd.pid"
		if [ -n "$ns" ]; then
			# sshd forks into the background in the namespace.
			unshare -m --propagation private sh -c \
			    'mount --bind "$0" "$1" && exec "$2" -f "$3" -E "$4"' \
			    "$KP_TARGET_STORE" "$NIX_STORE_DIR" "$sshd" \
			    "$d/sshd_config" "$d/sshd.log" 3>&-
		else
			"$sshd" -f "$d/sshd_config" -E "$d/sshd.log" 3>&-
		fi && kp_wait_until -s "$d/sshd.pid" && break
	done
	if [ -n "$ns" ]; then
		cat >"$KP_ON_TARGET" <<-EOF
		#!/bin/sh
		# As on the target: in sshd's mount namespace, with its Nix.
		exec nsenter -t "\$(cat "$d/sshd.pid")" -m env $env "\$@"
		EOF
	else
		cat >"$KP_ON_TARGET" <<-EOF
		#!/bin/sh
		exec env $env "\$@"
		EOF
	fi
	chmod +x "$KP_ON_TARGET"
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" \
	    >"$d/known_hosts"
	export KP_SSH_PORT=$port KP_SSH="ssh-ng://root@127.0.0.1:$port"
	export NIX_SSHOPTS="-F /dev/null -i $d/client_key -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$d/known_hosts -o StrictHostKeyChecking=yes"
}

# Skips the test if kp_sshd_start could not start sshd.
kp_need_sshd() {
	[ -z "${KP_SSHD_MISSING:-}" ] || skip "$KP_SSHD_MISSING"
}

kp_sshd_stop() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/ssh/sshd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	kp_wait_gone "$pid"
}

# The remote store's nix-store, as on the target.
remote_nix_store() {
	"$KP_ON_TARGET" nix-store "$@"
}

# Adds a fresh file to the remote store (unrooted); prints its path.
remote_add() {
	local f="$BATS_TEST_TMPDIR/$1"
	printf '%s\n' "${2:-$1 $RANDOM $RANDOM}" >"$f"
	remote_nix_store --add "$f"
}

remote_gc() {
	remote_nix_store --gc >>"$KP_NIX/remote-gc.log" 2>&1
}

# Succeeds if the remote store has the store path (by its logical name).
remote_has() {
	[ -e "$KP_TARGET_STORE/${1##*/}" ]
}

# deep_tree DIR LEVELS NAME [FILES]: DIR/d, LEVELS directories deep below
# it, each named NAME, with FILES files at the bottom.  Built from the
# bottom up, wrapping the tree in a new top level each time, so that no
# process here ever stands deep: a cwd longer than PATH_MAX fails every
# collection on the machine while it lasts (see rmtree.c).
deep_tree() {
	perl -e 'my ($dir, $levels, $name, $files) = @ARGV;
	    chdir $dir or die; mkdir "d" or die;
	    for (1 .. $files) { open(my $f, ">", "d/f$_") or die }
	    for (1 .. $levels) {
		mkdir "n" or die; rename "d", "n/$name" or die;
		rename "n", "d" or die;
	    }' "$1" "$2" "$3" "${4:-1}"
}

# What Nix's collector does to every process for its runtime roots:
# readlink(2) each /proc/PID/fd link of pid, until it exits; fails on one
# longer than PATH_MAX (ENAMETOOLONG fails the collection).
proc_fd_probe() {
	perl -MErrno=ENAMETOOLONG -e '
	    my ($pid, $seen) = ($ARGV[0], 0);
	    while (kill 0, $pid) {
		opendir(my $d, "/proc/$pid/fd") or last;
		for (grep { /^\d+$/ } readdir $d) {
			next if defined readlink "/proc/$pid/fd/$_";
			die "fd $_: $!\n" if $! == ENAMETOOLONG;
		}
		$seen++;
	    }
	    print "looked $seen times\n";' "$1"
}
