#!/bin/bash
# Dropping one root out of N held, side by side on one private throwaway
# store with its own nix-daemon:
#   drop        a "drop PATH" line to a session holding N paths, until its
#               "dropped" reply (keep-paths opens a new connection,
#               registers the N-1 that stay, closes the old one)
#   by hand     what a script without drop does, make before break: a
#               second keep-paths given the N-1 that stay, until it acks
#               them all, then the first one's EOF, until it exits
# for N = 1, 1,000 and 100,000 (override: bench/drop.sh 1 1000).  Prints
# the median of REPS drops each, and the ratio.
#
#   bench/drop.sh [N...]      KEEP_PATHS=path/to/keep-paths  REPS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
. "$here/lib.sh"
bench_sizes "$@"
bench_setup "$max"

# hold PATHS: starts a session holding every path; sets $hin, $hout, $hpid.
hold() {
	local paths=$1 n bad
	n=$(wc -l <"$paths")
	coproc H { exec "$KEEP_PATHS" --store daemon; }
	hpid=$H_PID
	exec {hin}>&"${H[1]}" {hout}<&"${H[0]}"
	exec {H[1]}>&- {H[0]}<&-
	cat "$paths" >&$hin &
	bad=$(head -n "$n" <&$hout | grep -vc '^ok ' || true)
	[ "$bad" = 0 ] || { echo "hold: $bad paths not ok" >&2; exit 1; }
	wait $!
}

release() {
	exec {hin}>&- {hout}<&-
	wait "$hpid" 2>/dev/null || true
}

# time_drop PATH: seconds until "dropped PATH".
time_drop() {
	local t0 t1 reply
	t0=$(now)
	echo "drop $1" >&$hin
	read -r reply <&$hout
	t1=$(now)
	[ "$reply" = "dropped $1" ] || { echo "drop: $reply" >&2; exit 1; }
	echo "$t1 - $t0" | bc -l
}

# time_by_hand PATHS STAY: seconds until a new session holds STAY and the
# old one (holding PATHS) has exited.
time_by_hand() {
	local t0 t1 oldin=$hin oldout=$hout oldpid=$hpid
	t0=$(now)
	hold "$2"
	exec {oldin}>&- {oldout}<&-
	wait "$oldpid" 2>/dev/null || true
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

printf '%8s  %10s  %10s  %7s\n' N drop-s by-hand-s ratio
for n in "${sizes[@]}"; do
	head -n "$n" "$work/all-paths" >"$work/paths"
	: >"$work/drop"; : >"$work/hand"
	for r in $(seq "$REPS"); do
		p=$(sed -n "${r}p" "$work/paths")
		[ -n "$p" ] || p=$(head -n 1 "$work/paths")
		grep -vxF "$p" "$work/paths" >"$work/stay" || true
		hold "$work/paths"
		time_drop "$p" >>"$work/drop"
		release
		hold "$work/paths"
		time_by_hand "$work/paths" "$work/stay" >>"$work/hand"
		release
	done
	d=$(median <"$work/drop")
	h=$(median <"$work/hand")
	printf '%8s  %10.4f  %10.4f  %6.1fx\n' "$n" "$d" "$h" \
	    "$(echo "$h / $d" | bc -l)"
done
echo "ratio: by-hand time / drop time (higher: drop faster)" >&2
