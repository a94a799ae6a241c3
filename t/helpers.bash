# Test helpers: every test file gets a private Nix store and, where it
# asks for one, its own nix-daemon.  Nothing here touches /nix or the
# network: substituters are empty and the sandbox is off.
#
# The defaults below give a file a store and a daemon; a file that needs
# no daemon defines its own setup_file.

bats_require_minimum_version 1.5.0
export BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats}
bats_load_library bats-support
bats_load_library bats-assert

: "${KEEP_PATHS:?run the tests through make check, or set KEEP_PATHS}"

setup_file() {
	kp_store_setup
	kp_daemon_start
}

teardown_file() {
	kp_daemon_stop
}

# A test that failed half-way must not leave its keep-paths running.
teardown() {
	[ -z "${KP_PID_SAVED:-}" ] || kill "$KP_PID_SAVED" 2>/dev/null || true
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
	export KP_SOCKET="$NIX_STATE_DIR/daemon-socket/socket"
}

# Starts a nix-daemon for this file's store; its pid goes to daemon.pid.
kp_daemon_start() {
	rm -f "$KP_SOCKET"
	nix-daemon >>"$KP_NIX/daemon.log" 2>&1 3>&- &
	echo "$!" >"$KP_NIX/daemon.pid"
	disown "$!"
	kp_wait_until -S "$KP_SOCKET" || { cat "$KP_NIX/daemon.log" >&2; return 1; }
}

# Waits (up to 10 s) until test(1) with these arguments succeeds, e.g.
# "kp_wait_until -S SOCKET" or "kp_wait_until -s FILE".
kp_wait_until() {
	local i
	for i in $(seq 100); do
		test "$@" && return 0
		sleep 0.1
	done
	echo "still not true after 10 s: test $*" >&2
	return 1
}

# Stops the daemon by pid and waits until it is gone.
kp_daemon_stop() {
	local pid
	pid=$(cat "$KP_NIX/daemon.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	kp_wait_gone "$pid"
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
# goes to $BATS_TEST_TMPDIR/kp.err.
kp_start() {
	coproc KP { exec "$KEEP_PATHS" "$@" 2>"$BATS_TEST_TMPDIR/kp.err" 3>&-; }
	KP_PID_SAVED=$KP_PID
	# Plain copies: bash hides coproc fds from subshells and pipelines.
	exec {KP_IN}>&"${KP[1]}" {KP_OUT}<&"${KP[0]}"
	exec {KP[1]}>&- {KP[0]}<&-
}

# Sends each argument as one request line.
kp_send() {
	printf '%s\n' "$@" >&"$KP_IN"
}

# Reads one reply line into $reply (fails after 20 s).
kp_reply() {
	IFS= read -r -t 20 reply <&"$KP_OUT"
}

# Closes keep-paths' stdin (EOF: release) and waits; $kp_status is its
# exit status.
kp_stop() {
	exec {KP_IN}>&-
	kp_status=0
	wait "$KP_PID_SAVED" || kp_status=$?
	exec {KP_OUT}<&-
}
