# Sourced: a private, throwaway Nix store under $1 with its own nix-daemon.
# Sets NIX_STORE_DIR, NIX_STATE_DIR, NIX_LOG_DIR, NIX_CONF_DIR and
# KP_DAEMON_PID; private_store_stop stops the daemon.  Never touches /nix,
# never reaches the network (no substituters).

private_store_start() {
	local root=$1
	export NIX_STORE_DIR="$root/store" NIX_STATE_DIR="$root/var"
	export NIX_LOG_DIR="$root/log" NIX_CONF_DIR="$root/etc"
	unset NIX_REMOTE NIX_DAEMON_SOCKET_PATH NIX_STORE
	mkdir -p "$NIX_STORE_DIR" "$NIX_STATE_DIR" "$NIX_LOG_DIR" "$NIX_CONF_DIR"
	printf 'substituters =\nsandbox = false\nbuild-users-group =\n' \
	    >"$NIX_CONF_DIR/nix.conf"
	env -u NIX_REMOTE nix-daemon >"$root/daemon.log" 2>&1 &
	KP_DAEMON_PID=$!
	local i
	for i in $(seq 100); do
		[ -S "$NIX_STATE_DIR/daemon-socket/socket" ] && return 0
		sleep 0.1
	done
	echo "nix-daemon did not start: $(cat "$root/daemon.log")" >&2
	return 1
}

private_store_stop() {
	[ -n "${KP_DAEMON_PID:-}" ] || return 0
	pkill -P "$KP_DAEMON_PID" 2>/dev/null || true
	kill "$KP_DAEMON_PID" 2>/dev/null || true
	wait "$KP_DAEMON_PID" 2>/dev/null || true
	KP_DAEMON_PID=
}
