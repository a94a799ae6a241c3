#!/usr/bin/env bats
# Capture mode: keep-paths --capture -- CMD serves CMD's Nix clients a
# private daemon socket, relays them to this file's store, and holds every
# store path in their traffic until CMD ends.  Every proof is the real
# nix-store --gc, run by CMD itself through the socket.

load helpers
load stress

setup_file() {
	kp_store_setup
	kp_daemon_start
	export NIX_REMOTE=daemon
	# A trivial derivation, built by /bin/sh with the sandbox off.
	export TRIV="$BATS_FILE_TMPDIR/triv.nix"
	cat >"$TRIV" <<-'NIX'
	{ n }: derivation {
	  name = "triv-${n}";
	  system = builtins.currentSystem;
	  builder = "/bin/sh";
	  args = [ "-c" "echo ${n} > $out" ];
	}
	NIX
	kp_gc
}

teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	[ -z "${looppid:-}" ] || wait "$looppid" || true
	kp_teardown
}

# The daemon's workers: one per open connection.
workers() {
	pgrep -c -P "$(cat "$KP_NIX/daemon.pid")" || true
}

# For kp_wait_cmd: no worker is left.
no_workers() {
	[ "$(workers)" = 0 ]
}

# This file's "nix-daemon --stdio" processes, one line each.
stdio_daemons() {
	local pid
	for pid in $(pgrep -f -- 'nix-daemon --stdio' || true); do
		grep -qzxF "NIX_STATE_DIR=$NIX_STATE_DIR" "/proc/$pid/environ" \
		    2>/dev/null && echo "$pid"
	done
	return 0
}

# Reads every line keep-paths still writes, until EOF, into $rest.
kp_rest() {
	mapfile -t rest <&"$KP_OUT"
}

@test "the path scanner finds the same paths however its stream is cut" {
	run -0 "$PATHSCAN_SPLIT"
	assert_output --partial "ok: 5 paths"
}

@test "without capture, a --no-out-link build is collected under its script (the problem)" {
	run -0 bash -ec '
		out=$(nix-build --no-out-link --argstr n "$1" "$TRIV")
		nix-store --gc >/dev/null 2>&1
		test ! -e "$out"' _ "plain-$BATS_TEST_NUMBER"
}

@test "capture: nix-build's output and its .drv survive a collection while the command runs, and are collected after" {
	run -0 "$KEEP_PATHS" --capture -- bash -ec '
		out=$(nix-build --no-out-link --argstr n "$1" "$TRIV")
		drv=$(nix-store -q --deriver "$out")
		echo "$out $drv" >"$2"
		nix-store --gc
		test -e "$out" && test -e "$drv"' _ "build-$BATS_TEST_NUMBER" \
	    "$BATS_TEST_TMPDIR/paths"
	read -r out drv <"$BATS_TEST_TMPDIR/paths"
	assert [ -n "$out" ]
	assert [ -n "$drv" ]
	kp_gc
	refute [ -e "$out" ]
	refute [ -e "$drv" ]
}

@test "capture: nix-store --add, nix-instantiate (the .drv) and nix-store -r are held" {
	# Instantiated out here, unrooted: only nix-store -r inside touches it.
	local drv2
	drv2=$(nix-instantiate --argstr n "realise-$BATS_TEST_NUMBER" "$TRIV" 2>/dev/null)
	echo "file $RANDOM$RANDOM" >"$BATS_TEST_TMPDIR/file"
	run -0 "$KEEP_PATHS" --capture -- bash -ec '
		add=$(nix-store --add "$1/file")
		drv=$(nix-instantiate --argstr n "inst-$2" "$TRIV" 2>/dev/null)
		out2=$(nix-store -r "$3" 2>/dev/null)
		echo "$add $drv $out2" >"$1/paths"
		nix-store --gc
		test -e "$add" && test -e "$drv" && test -e "$out2" && test -e "$3"
		' _ "$BATS_TEST_TMPDIR" "$BATS_TEST_NUMBER" "$drv2"
	read -r add drv out2 <"$BATS_TEST_TMPDIR/paths"
	assert [ -n "$out2" ]
	kp_gc
	refute [ -e "$add" ]
	refute [ -e "$drv" ]
	refute [ -e "$out2" ]
	refute [ -e "$drv2" ]
}

@test "capture: the command's status is its own, and its environment names the socket" {
	run -3 "$KEEP_PATHS" --capture -- bash -c '
		echo "$NIX_REMOTE $NIX_DAEMON_SOCKET_PATH"
		stat -c %a "${NIX_DAEMON_SOCKET_PATH%/socket}"
		test -S "$NIX_DAEMON_SOCKET_PATH" && exit 3'
	sock=${lines[0]##* }
	assert_equal "${lines[0]}" "unix://$sock $sock"
	assert_equal "${lines[1]}" 700
	# The socket and its directory are gone.
	refute [ -e "${sock%/socket}" ]
	run -143 "$KEEP_PATHS" --capture -- sh -c 'kill -TERM $$'
}

@test "capture: the socket's directory is under XDG_RUNTIME_DIR, else TMPDIR" {
	mkdir -p "$BATS_TEST_TMPDIR/run" "$BATS_TEST_TMPDIR/tmp"
	run -0 env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run" "$KEEP_PATHS" \
	    --capture -- sh -c 'echo "$NIX_DAEMON_SOCKET_PATH"'
	assert_output --regexp "^$BATS_TEST_TMPDIR/run/keep-paths\.[^/]+/socket\$"
	run -0 env -u XDG_RUNTIME_DIR TMPDIR="$BATS_TEST_TMPDIR/tmp" \
	    "$KEEP_PATHS" --capture -- sh -c 'echo "$NIX_DAEMON_SOCKET_PATH"'
	assert_output --regexp "^$BATS_TEST_TMPDIR/tmp/keep-paths\.[^/]+/socket\$"
	run -0 find "$BATS_TEST_TMPDIR/run" "$BATS_TEST_TMPDIR/tmp" -mindepth 1
	assert_output ""
}

@test "capture as root: a base another user owns, or may write unsticky, is passed over" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	mkdir -m 700 "$BATS_TEST_TMPDIR/user" "$BATS_TEST_TMPDIR/tmp"
	chown 4242:4242 "$BATS_TEST_TMPDIR/user"
	mkdir -m 777 "$BATS_TEST_TMPDIR/open"
	# The user's own runtime directory (su without -, sudo -E): not ours.
	run -0 env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/user" \
	    TMPDIR="$BATS_TEST_TMPDIR/tmp" "$KEEP_PATHS" -v --capture -- \
	    sh -c 'echo "$NIX_DAEMON_SOCKET_PATH"'
	assert_line "keep-paths: $BATS_TEST_TMPDIR/user: not used for the capture socket: owned by another user"
	assert_line --regexp "^$BATS_TEST_TMPDIR/tmp/keep-paths\.[^/]+/socket\$"
	# Writable by all without the sticky bit: anyone could rename ours.
	run -0 env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/open" "$KEEP_PATHS" -v \
	    --capture -- sh -c 'echo "$NIX_DAEMON_SOCKET_PATH"'
	assert_line "keep-paths: $BATS_TEST_TMPDIR/open: not used for the capture socket: writable by others, and not sticky"
	assert_line --regexp "^/tmp/keep-paths\.[^/]+/socket\$"
	run -0 find "$BATS_TEST_TMPDIR/user" "$BATS_TEST_TMPDIR/open" -mindepth 1
	assert_output ""
}

@test "capture: the end removes the socket and directory it made, not what a link in their place names" {
	mkdir -m 700 "$BATS_TEST_TMPDIR/run" "$BATS_TEST_TMPDIR/victim"
	: >"$BATS_TEST_TMPDIR/victim/socket"
	# A racer renames the directory away and puts a link in its place.
	run -0 env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run" "$KEEP_PATHS" \
	    --capture -- sh -c 'd=${NIX_DAEMON_SOCKET_PATH%/socket}
		mv "$d" "$1/run/away" && ln -s "$1/victim" "$d" && echo "$d"' \
	    _ "$BATS_TEST_TMPDIR"
	assert_line --partial "not removed: no longer the directory made"
	assert [ -e "$BATS_TEST_TMPDIR/victim/socket" ]
	# Its own socket went, through the directory's fd, wherever it was.
	refute [ -e "$BATS_TEST_TMPDIR/run/away/socket" ]
}

@test "capture: after the command's nix-build exits, its daemon worker is gone and the roots stay" {
	run -0 "$KEEP_PATHS" --capture -- bash -ec '
		dpid=$2
		workers() { pgrep -c -P "$dpid" || true; }
		before=$(workers)
		out=$(nix-build --no-out-link --argstr n "$1" "$TRIV" 2>/dev/null)
		for i in $(seq 100); do
			[ "$(workers)" -le "$before" ] && break
			sleep 0.1
		done
		echo "workers $before $(workers)"
		nix-store --gc >/dev/null 2>&1
		test -e "$out" && echo held' _ "workers-$BATS_TEST_NUMBER" \
	    "$(cat "$KP_NIX/daemon.pid")"
	before=$(echo "${lines[0]}" | cut -d" " -f2)
	assert_equal "${lines[0]}" "workers $before $before"
	assert_equal "${lines[1]}" held
}

@test "capture over the local store: a nix-daemon --stdio per client, none left after" {
	run -0 env -u NIX_REMOTE "$KEEP_PATHS" --store local --capture -- bash -ec '
		out=$(nix-build --no-out-link --argstr n "$1" "$TRIV")
		echo "$out" >"$2"
		nix-store --gc
		test -e "$out"' _ "local-$BATS_TEST_NUMBER" "$BATS_TEST_TMPDIR/out"
	run -0 stdio_daemons
	assert_output ""
	kp_gc
	refute [ -e "$(cat "$BATS_TEST_TMPDIR/out")" ]
}

@test "capture --hold: the socket on the first line, request lines too, the roots until stdin closes" {
	kp_start --capture --hold --print-roots
	kp_reply
	assert_regex "$reply" '^socket /'
	sock=${reply#socket }
	assert [ -S "$sock" ]
	p=$(NIX_REMOTE=unix://$sock kp_add through-socket)
	q=$(kp_add by-line)
	kp_send "$q"
	kp_reply
	assert_equal "$reply" "ok $q"
	kp_gc
	assert [ -e "$p" ]
	assert [ -e "$q" ]
	exec {KP_IN}>&-
	kp_rest
	wait "$KP_PID_SAVED"
	# Only what went through the socket is listed.
	assert_equal "${rest[*]}" "ok $p"
	refute [ -e "${sock%/socket}" ]
	kp_gc
	refute [ -e "$p" ]
	refute [ -e "$q" ]
}

@test "capture --print-roots: ok and missing, sorted by path; --json: one object per line" {
	run -0 "$KEEP_PATHS" --capture --print-roots -- bash -ec '
		nix-instantiate --argstr n "$1" "$TRIV" 2>/dev/null >"$2"
		' _ "inst-$BATS_TEST_NUMBER" "$BATS_TEST_TMPDIR/drv"
	drv=$(cat "$BATS_TEST_TMPDIR/drv")
	out=$(nix-store -q --outputs "$drv")
	expected=$(printf 'ok %s\nmissing %s\n' "$drv" "$out" | sort -k2)
	assert_output "$expected"
	# The client reads the .drv's file itself: only the path it sends
	# crosses the socket, and keep-paths reads the outputs from the file.
	run -0 "$KEEP_PATHS" --capture --json -- nix-store -q --outputs "$drv"
	assert_equal "${lines[0]}" "$out"
	expected=$(printf '{"path":"%s","reply":"%s"}\n' "$drv" ok "$out" missing |
	    sort -t'"' -k4)
	assert_equal "$(printf '%s\n' "${lines[@]:1}")" "$expected"
}

@test "capture: 40 clients at once, more than are served together, all get through and all is held" {
	run -0 "$KEEP_PATHS" --capture --print-roots -- bash -ec '
		for i in $(seq 40); do
			echo "many $i $RANDOM" >"$1/many.$i"
			nix-store --add "$1/many.$i" >"$1/many.$i.path" 2>>"$1/many.err" &
		done
		wait
		nix-store --gc >/dev/null 2>&1
		for i in $(seq 40); do test -e "$(cat "$1/many.$i.path")"; done
		' _ "$BATS_TEST_TMPDIR"
	[ ! -s "$BATS_TEST_TMPDIR/many.err" ] || cat "$BATS_TEST_TMPDIR/many.err"
	assert_equal "$(grep -c '^ok ' <<<"$output")" 40
}

@test "capture: a client speaking garbage, or closing mid-handshake, ends alone; the session goes on" {
	kp_start --capture --hold --print-roots
	kp_reply
	sock=${reply#socket }
	p=$(kp_add named-by-garbage)
	perl -MIO::Socket::UNIX -e '
		my $c = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$!";
		print $c "GET / HTTP/1.0\r\n$ARGV[1]\r\n\r\n"; sleep 1; close $c;
		$c = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$!";
		syswrite $c, "\x63\x78\x69\x6e"; close $c;
		' "$sock" "$p"
	q=$(NIX_REMOTE=unix://$sock kp_add after-garbage)
	kp_gc
	assert [ -e "$p" ]
	assert [ -e "$q" ]
	exec {KP_IN}>&-
	kp_rest
	kp_status=0
	wait "$KP_PID_SAVED" || kp_status=$?
	assert_equal "$kp_status" 0
	# A path is a path, whatever the protocol around it.
	assert_equal "${rest[*]}" "$(printf 'ok %s\n' "$p" "$q" | sort -k2 | paste -sd' ')"
}

@test "capture: the command exiting while a transfer runs leaves no worker and no socket" {
	head -c 64000000 /dev/zero >"$BATS_TEST_TMPDIR/big"
	run -0 "$KEEP_PATHS" --capture -- bash -c '
		nix-store --add "$1" >/dev/null 2>&1 &
		echo "$NIX_DAEMON_SOCKET_PATH"
		sleep 0.3' _ "$BATS_TEST_TMPDIR/big" 3>&-
	refute [ -e "${output%/socket}" ]
	kp_wait_cmd no_workers
}

@test "capture, --no-reconnect: the daemon dying is lost roots (75), loudly; the socket goes" {
	p=$(kp_add before-crash)
	kp_start --capture --hold --no-reconnect "$p"
	kp_reply
	sock=${reply#socket }
	kp_reply
	assert_equal "$reply" "ok $p"
	daemon_crash
	kp_reply
	assert_equal "$reply" lost
	kp_stop
	assert_equal "$kp_status" 75
	run grep -c LOST "$BATS_TEST_TMPDIR/kp.err"
	assert_output 1
	refute [ -e "${sock%/socket}" ]
	kp_daemon_start
	# With a command, it runs on and the status says so at its end.
	p=$(kp_add before-crash-2)
	run -75 "$KEEP_PATHS" --capture --no-reconnect "$p" -- bash -c '
		dpid=$(cat "$KP_NIX/daemon.pid")
		kill -STOP "$dpid"; pkill -KILL -P "$dpid"; kill -KILL "$dpid"
		sleep 0.5; exit 0'
	assert_output --partial "LOST 1 root"
	rm -f "$KP_NIX/daemon.pid"
	kp_daemon_start
}

# XDG_RUNTIME_DIR, not TMPDIR: valgrind (make check-valgrind) needs that.
@test "capture: a runtime directory it cannot use is a clear error (71), and the command is not run" {
	run -71 env XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/none" \
	    "$KEEP_PATHS" --capture -- touch "$BATS_TEST_TMPDIR/ran"
	assert_output "keep-paths: $BATS_TEST_TMPDIR/none: cannot make the socket's directory: No such file or directory"
	refute [ -e "$BATS_TEST_TMPDIR/ran" ]
	long=$BATS_TEST_TMPDIR/$(printf 'd%.0s' $(seq 100))
	mkdir -p "$long"
	run -71 env XDG_RUNTIME_DIR="$long" \
	    "$KEEP_PATHS" --capture -- touch "$BATS_TEST_TMPDIR/ran"
	assert_output --partial "too long for a unix socket"
	assert_output --partial "set XDG_RUNTIME_DIR or TMPDIR to a shorter directory"
	refute [ -e "$BATS_TEST_TMPDIR/ran" ]
	run -0 find "$long" -mindepth 1
	assert_output ""
}

@test "capture: usage errors say which option, and exit 64" {
	run -64 "$KEEP_PATHS" --hold
	assert_output "keep-paths: --hold: only with --capture"
	run -64 "$KEEP_PATHS" --json -- true
	assert_output "keep-paths: --json: only with --capture"
	run -64 "$KEEP_PATHS" --capture
	assert_output "keep-paths: --capture needs -- COMMAND, or --hold"
	run -64 "$KEEP_PATHS" --capture --hold -- true
	assert_output "keep-paths: --capture: --hold or -- COMMAND, not both"
	run -64 "$KEEP_PATHS" --capture --store daemon --store local -- true
	assert_output "keep-paths: --capture: one --store only"
	run -64 "$KEEP_PATHS" --capture --store ssh-ng://nowhere.invalid -- true
	assert_output --partial "ssh-ng stores are not captured"
}

# The command of the stress test: builds and adds fresh paths while the
# loop collects, checks each at once and again after two more
# collections.  Writes "paths failed" to $dir/counts, violations to
# $dir/violations, the paths to $dir/held.
capture_stress_cmd() {
	cat <<-'SH'
	dir=$1 n=$2 paths=() failed=0
	runs() { read -r r rest <"$dir/gc.count"; echo "$r"; }
	for i in $(seq "$n"); do
		if [ $((i % 2)) = 0 ]; then
			echo "stress $i $RANDOM$RANDOM" >"$dir/f.$i"
			p=$(nix-store --add "$dir/f.$i" 2>>"$dir/nix.err")
		else
			p=$(nix-build --no-out-link --argstr n "stress-$i-$RANDOM" \
			    "$TRIV" 2>>"$dir/nix.err")
		fi || { failed=$((failed + 1)); continue; }
		test -e "$p" || echo "gone at once: $p" >>"$dir/violations"
		paths+=("$p")
		sleep "0.$((RANDOM % 200))"
	done
	start=$(runs) deadline=$((SECONDS + 120))
	while [ "$(runs)" -lt $((start + 2)) ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.05
	done
	for p in "${paths[@]}"; do
		test -e "$p" || echo "collected while held: $p" >>"$dir/violations"
	done
	printf '%s\n' "${paths[@]}" >"$dir/held"
	echo "${#paths[@]} $failed" >"$dir/counts"
	SH
}

@test "capture under a collection loop: nothing built or added is collected until the command ends" {
	local dir=$BATS_TEST_TMPDIR held failed runs gcfailed aborted
	rm -f "$dir/stop"
	echo "0 0 0" >"$dir/gc.count"
	gc_loop 3>&- &
	looppid=$!
	run "$KEEP_PATHS" --capture -- bash -c "$(capture_stress_cmd)" _ "$dir" 24
	touch "$dir/stop"
	wait "$looppid"
	looppid=
	read -r held failed <"$dir/counts"
	read -r runs gcfailed aborted <"$dir/gc.count"
	echo "# capture: paths $held (Nix commands that failed: $failed), GC runs $runs (failed $gcfailed, aborted by Nix's own race $aborted), violations $( [ -e "$dir/violations" ] && wc -l <"$dir/violations" || echo 0)" >&3
	[ ! -e "$dir/violations" ] || cat "$dir/violations"
	[ ! -e "$dir/gc.failed" ] || cat "$dir/gc.failed"
	refute [ -e "$dir/violations" ]
	assert_equal "$status" 0
	assert_equal "$gcfailed" 0
	assert [ "$runs" -ge 2 ]
	assert [ "$held" -gt 0 ]
	# Released at the end: the next collection takes them all.
	kp_gc
	while read -r p; do
		refute [ -e "$p" ]
	done <"$dir/held"
}

# N distinct store paths that name nothing: 32 nix-base32 digits and a name.
fake_paths() {
	perl -e 'my @d = split //, "0123456789abcdfghijklmnpqrsvwxyz";
		for my $i (1 .. $ARGV[1]) {
			my $h = join "", map { $d[($i * 7 + $_ * 13 + int($i / 32 ** ($_ % 3))) % 32] } 0 .. 31;
			print "$ARGV[0]/$h-fake-$i\n";
		}' "$NIX_STORE_DIR" "$1"
}

@test "capture: at most --capture-max distinct paths are held; past it, loudly, and exit 75" {
	fake_paths 50 >"$BATS_TEST_TMPDIR/fakes"
	assert_equal "$(sort -u "$BATS_TEST_TMPDIR/fakes" | wc -l)" 50
	# A client (a build log, a garbage peer) names 50 paths.
	run -75 --separate-stderr "$KEEP_PATHS" --capture --capture-max 10 --print-roots -- \
	    perl -MIO::Socket::UNIX -e '
		my $c = IO::Socket::UNIX->new(Peer => $ENV{NIX_DAEMON_SOCKET_PATH}) or die "$!";
		open(my $f, "<", $ARGV[0]) or die; local $/; my $d = <$f>; print $c $d; close $c; sleep 1' \
	    "$BATS_TEST_TMPDIR/fakes"
	assert_equal "${#lines[@]}" 10
	[[ "$stderr" == *"capture: more than 10 distinct store paths seen (--capture-max): "*" and every further new one are NOT held"* ]]
	[[ "$stderr" == *"capture: 40 distinct store paths seen past --capture-max were NOT held"* ]]
	# The config key, and the option's checks.
	printf 'capture-max = 60\n' >"$BATS_TEST_TMPDIR/conf"
	run -0 "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/conf" --capture --print-roots -- \
	    perl -MIO::Socket::UNIX -e '
		my $c = IO::Socket::UNIX->new(Peer => $ENV{NIX_DAEMON_SOCKET_PATH}) or die "$!";
		open(my $f, "<", $ARGV[0]) or die; local $/; my $d = <$f>; print $c $d; close $c; sleep 1' \
	    "$BATS_TEST_TMPDIR/fakes"
	assert_equal "${#lines[@]}" 50
	run -64 "$KEEP_PATHS" --capture --capture-max 0 -- true
	assert_output "keep-paths: --capture-max 0: not a number from 1 to 10000000"
	run -64 "$KEEP_PATHS" --capture-max 5 -- true
	assert_output "keep-paths: --capture-max: only with --capture"
}

@test "capture: once the store is lost, gone clients free their places: the 33rd and later clients are served" {
	run -75 "$KEEP_PATHS" --capture --store local -- bash -c '
		echo first >"$1/first"
		nix-store --add "$1/first" >/dev/null
		rm "$NIX_STATE_DIR/temproots/$PPID"
		for i in $(seq 40); do
			echo "client $i $RANDOM" >"$1/c.$i"
			timeout 10 nix-store --add "$1/c.$i" >/dev/null ||
			    echo "client $i failed: $?"
		done
		echo done' _ "$BATS_TEST_TMPDIR"
	assert_line done
	refute_output --partial failed
	assert_output --partial "LOST"
}

# Nix 2.35's nix-store -r sends the .drv and learns its output from the
# file, so the output never crosses the socket.  Staged here on any Nix:
# the .drv crosses (a query), the build goes to the daemon directly.
@test "capture: a derivation seen has its outputs held, though they never cross the socket" {
	drv=$(nix-instantiate --argstr n "unseen-out-$BATS_TEST_NUMBER" "$TRIV" 2>/dev/null)
	run -0 "$KEEP_PATHS" --capture --print-roots -- bash -ec '
		nix-store -q --hash "$1" >/dev/null
		# The daemon itself, not the relay (NIX_DAEMON_SOCKET_PATH is it).
		out=$(NIX_REMOTE=unix://$3 nix-store -r "$1" 2>/dev/null)
		echo "$out" >"$2/out"
		NIX_REMOTE=unix://$3 nix-store --gc >/dev/null 2>&1
		test -e "$out"
		' _ "$drv" "$BATS_TEST_TMPDIR" "$KP_SOCKET"
	out=$(cat "$BATS_TEST_TMPDIR/out")
	assert [ -n "$out" ]
	assert_line "ok $drv"
	assert_line "ok $out"
	kp_gc
	refute [ -e "$out" ]
	refute [ -e "$drv" ]
}

# A path the session could not hold keeps gone clients' upstreams open (their
# workers' roots cover it), but never all 32 places: a new client takes the
# oldest one's.  A refusal, staged: the gcroots session directory made
# immutable, so the path's link cannot be made.
@test "capture: after a refused path, pinned connections give their places to new clients: the 33rd and later are served" {
	command -v chattr >/dev/null || skip "no chattr"
	echo "refused $RANDOM" >"$BATS_TEST_TMPDIR/refused"
	run "$KEEP_PATHS" --capture --store gcroots -- bash -c '
		chattr +i "$KEEP_PATHS_SESSION" || exit 3
		nix-store --add "$1/refused" >/dev/null
		for i in $(seq 40); do
			timeout 10 nix-store -q --hash "$(nix-store --add "$1/refused")" \
			    >/dev/null 2>&1 || echo "client $i failed: $?"
		done
		chattr -i "$KEEP_PATHS_SESSION"
		echo done' _ "$BATS_TEST_TMPDIR"
	[ "$status" != 3 ] || skip "chattr +i does not work here"
	assert_line done
	refute_output --partial failed
	assert_output --partial "not held, so every daemon connection of the command stays open"
}
