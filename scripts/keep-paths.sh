# keep-paths.sh: hold Nix store paths from bash, without the coproc
# plumbing.  Source it (it is installed in $(datadir)/keep-paths/):
#
#	. /usr/share/keep-paths/keep-paths.sh
#	kp_start                       # or: kp_start --store ssh-ng://host ...
#	kp_hold "$out" "$dev"          # returns once both are held, or fails
#	...                            # they cannot be collected here
#	kp_drop "$dev"                 # release one, keep the other
#	kp_stop                        # release (exiting releases too)
#
#	with-kept-paths PATH... -- COMMAND [ARG...]
#
# kp_hold fails (status 1) if any path is missing or refused, or a store
# is lost, and says which on stderr; under set -e that ends the script,
# and with it the holder.  Only the shell that called kp_start holds the
# roots: subshells, pipelines and background jobs do not inherit the
# holder's input, so they can neither keep the roots alive after the
# script exits nor call kp_hold.  KEEP_PATHS names the keep-paths binary.
# One holder per shell (bash has one coproc at a time).

# kp_start [OPTION...]: starts keep-paths with these options (--store,
# given more than once, roots every path on every store).
kp_start() {
	local a
	if [ -n "${_kp_pid:-}" ]; then
		echo "kp_start: a holder is running already (pid $_kp_pid)" >&2
		return 1
	fi
	_kp_stores=0
	for a in "$@"; do
		case $a in
		--store | --store=*) _kp_stores=$((_kp_stores + 1)) ;;
		-q | --quiet | --print-store | -- | -h | --help | -V | --version)
			echo "kp_start: $a is not for a held session" >&2
			return 64 ;;
		--capture | --capture-max | --capture-max=* | --hold | \
		--print-roots | --json)
			echo "kp_start: $a is not for a held session" \
			    "(use keep-paths --capture -- COMMAND)" >&2
			return 64 ;;
		esac
	done
	[ "$_kp_stores" -gt 0 ] || _kp_stores=1
	coproc _KP_CO { exec "${KEEP_PATHS:-keep-paths}" "$@"; }
	_kp_pid=$_KP_CO_PID
	# The input stays the coproc's own fd: bash keeps it from subshells
	# and sets close-on-exec, so only this shell holds the roots.  The
	# output is copied: bash closes the coproc's fds when it exits, and a
	# last "lost" line must still be readable.
	_kp_in=${_KP_CO[1]}
	exec {_kp_out}<&"${_KP_CO[0]}"
}

# Writes one line to the holder; a holder that is gone is an error, not
# a SIGPIPE that kills the shell.
_kp_send() {
	local trap_pipe rc=0
	trap_pipe=$(trap -p PIPE)
	trap '' PIPE
	{ printf '%s\n' "$1" >&"$_kp_in"; } 2>/dev/null || rc=1
	eval "${trap_pipe:-trap - PIPE}"
	return "$rc"
}

# _kp_ask WHO WANT PREFIX PATH...: sends PREFIX PATH for each PATH, then
# reads one reply per path and store; any verdict but WANT is a failure.
_kp_ask() {
	local who=$1 want=$2 prefix=$3 p verdict rest i n=0 rc=0
	shift 3
	if [ -z "${_kp_pid:-}" ]; then
		echo "$who: no holder: call kp_start first" >&2
		return 1
	fi
	for p in "$@"; do
		if ! _kp_send "$prefix$p"; then
			echo "$who: keep-paths is not running" >&2
			return 1
		fi
		n=$((n + 1))
	done
	for ((i = 0; i < n * _kp_stores; i++)); do
		if ! IFS=' ' read -r verdict rest <&"$_kp_out"; then
			echo "$who: keep-paths exited" >&2
			return 1
		fi
		case $verdict in
		"$want") ;;
		lost)	echo "$who: roots lost${rest:+ on $rest}" >&2
			return 1 ;;
		*)	echo "$who: $verdict $rest" >&2
			rc=1 ;;
		esac
	done
	return "$rc"
}

# kp_hold PATH...: roots every PATH (on every store) and returns 0 once all
# are held and valid; 1, with a message per failure, if any is missing,
# refused or lost.  Paths are sent first, then every reply is read.
kp_hold() {
	_kp_ask kp_hold ok '' "$@"
}

# kp_drop PATH...: releases these roots, keeping the others held; returns
# 0 once all are released, 1 with a message per failure (not held, or a
# store that cannot release one root).
kp_drop() {
	_kp_ask kp_drop dropped 'drop ' "$@"
}

# kp_stop: releases the roots and waits for keep-paths; returns its exit
# status (0, or 75 if roots were lost, ...).
kp_stop() {
	local rc=0
	[ -n "${_kp_pid:-}" ] || return 0
	# Closing our input is the release; bash may have closed it already.
	eval "exec ${_kp_in}>&-" 2>/dev/null || true
	wait "$_kp_pid" || rc=$?
	exec {_kp_out}<&-
	_kp_pid=
	return "$rc"
}

# keep-paths' options that take a value as the next word, as its --help
# lists them (a test checks that this, --help and the completions agree).
KP_VALUE_OPTIONS="--barrier --capture-max --config --connect-timeout --fd --store --store-timeout"

# with-kept-paths [OPTION...] PATH... -- COMMAND [ARG...]: runs COMMAND
# (a program or a shell function) with every PATH held, and releases them
# when it returns.  Returns COMMAND's status; 65 without running it if a
# PATH could not be held; 75 if roots were lost while it ran.
with-kept-paths() {
	local opts=() paths=() rc=0 stop=0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case " $KP_VALUE_OPTIONS " in
		*" $1 "*)
			opts+=("$1" "${2:-}"); shift ;;
		*)	case $1 in
			-*)	opts+=("$1") ;;
			*)	paths+=("$1") ;;
			esac ;;
		esac
		shift
	done
	if [ "${1:-}" != -- ] || [ $# -lt 2 ]; then
		echo "usage: with-kept-paths [OPTION...] PATH... -- COMMAND [ARG...]" >&2
		return 64
	fi
	shift
	kp_start "${opts[@]}" || return
	if ! kp_hold "${paths[@]}"; then
		kp_stop || true
		return 65
	fi
	"$@" || rc=$?
	kp_stop || stop=$?
	[ "$stop" = 0 ] || [ "$rc" != 0 ] || rc=$stop
	return "$rc"
}
