#!/bin/bash
# One path's latency, and release, side by side on one private throwaway
# store with its own nix-daemon:
#   start -> reply   a coproc started, one path written, its reply read:
#                    keep-paths on each back end (the daemon with and
#                    without a barrier), and `head -n 1` as the floor
#                    (what starting any small program as a coproc costs)
#                    and `keep-paths --version` (the same, with keep-paths'
#                    shared libraries loaded)
#   next path        in a session already holding one, a second path's
#                    round trip
#   release          the coproc's stdin closed -> its roots collectable:
#                    until the temp-roots file is gone (keep-paths' own
#                    for local, its daemon worker's for daemon: the
#                    worker unlinks it once its lock is off)
# Prints the median of REPS runs in milliseconds.
#
#   bench/latency.sh              KEEP_PATHS=path/to/keep-paths  REPS=21
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
REPS=${REPS:-21}

bench_setup 2
{ read -r p1; read -r p2; } <"$work/all-paths"

ms() { echo "($2 - $1) * 1000" | bc -l; }

# Waits until the temp-roots file $1 is gone.
await_release() {
	while [ -e "$1" ]; do :; done
}

# session KIND CMD...: one "start next release" line, in milliseconds:
# the first reply line, a second path's reply, the release after EOF.  A
# floor (KIND floor) is only started and read from: "start - -".
session() {
	local kind=$1 t0 t1 t2 t3 t4 t5 kp reply file
	shift
	t0=$EPOCHREALTIME
	coproc KP { exec "$@"; }
	kp=$KP_PID	# bash unsets KP_PID once it has reaped the coproc
	exec {kin}>&"${KP[1]}" {kout}<&"${KP[0]}"
	exec {KP[1]}>&- {KP[0]}<&-
	echo "$p1" >&$kin
	read -r reply <&$kout
	t1=$EPOCHREALTIME
	[ "$kind" = floor ] && {
		exec {kin}>&- {kout}<&-
		wait "$kp" 2>/dev/null || true
		echo "$(ms "$t0" "$t1") - -"
		return
	}
	[ "$reply" = "ok $p1" ] || { echo "unexpected reply: $reply" >&2; exit 1; }
	t2=$EPOCHREALTIME
	echo "$p2" >&$kin
	read -r reply <&$kout
	t3=$EPOCHREALTIME
	[ "$reply" = "ok $p2" ] || { echo "unexpected reply: $reply" >&2; exit 1; }
	case " $* " in
	*" --store local "*) file=$NIX_STATE_DIR/temproots/$kp ;;
	*) file=$NIX_STATE_DIR/temproots/$(pgrep -n -P "$KP_DAEMON_PID") ;;
	esac
	[ -e "$file" ] || { echo "no temp-roots file $file" >&2; exit 1; }
	t4=$EPOCHREALTIME
	exec {kin}>&-
	await_release "$file"
	t5=$EPOCHREALTIME
	exec {kout}<&-
	wait "$kp" 2>/dev/null || true
	echo "$(ms "$t0" "$t1") $(ms "$t2" "$t3") $(ms "$t4" "$t5")"
}

column_median() { cut -d' ' -f"$1" "$2" | grep -v '^-$' | median; }

printf '%-34s %9s %9s %9s\n' run start-ms next-ms release-ms
trap '' PIPE	# a floor may exit before its line is written
while read -r name kind cmd; do
	: >"$work/runs"
	for _ in $(seq "$REPS"); do
		# shellcheck disable=SC2086 # cmd is a word list
		session "$kind" $cmd >>"$work/runs"
	done
	printf '%-34s %9.2f %9s %9s\n' "$name" "$(column_median 1 "$work/runs")" \
	    "$(column_median 2 "$work/runs" | xargs -r printf '%.2f')" \
	    "$(column_median 3 "$work/runs" | xargs -r printf '%.2f')"
done <<EOF
floor:head-n1 floor head -n 1
floor:keep-paths--version floor $KEEP_PATHS --version
local kp $KEEP_PATHS --store local
daemon,barrier=never kp $KEEP_PATHS --store daemon --barrier=never
daemon,barrier=always kp $KEEP_PATHS --store daemon --barrier=always
EOF
echo "start: coproc start -> first reply; next: a second path's round trip; release: EOF -> roots collectable (the temp-roots file holding them gone)" >&2
