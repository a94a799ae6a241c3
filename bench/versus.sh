#!/bin/bash
# Two builds of keep-paths side by side, for a change that must not cost
# time or memory (a reshape): on one private throwaway store with its own
# nix-daemon, each build in turn, REPS times:
#   register    N paths on the daemon back end, until every reply is read
#   held        its resident KiB once it holds them
#   drop        then "drop" of one of them, until its reply
#   dropped     its resident KiB once the drop is done
#   peak        the whole session's peak resident KiB (GNU time's %M)
# Prints the median of each, and new/old ratios (below 1: the new one is
# faster or smaller).
#
#   bench/versus.sh OLD-KEEP-PATHS [N]   KEEP_PATHS=new build  REPS=3
#   (N: 100000 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
old=${1:?usage: bench/versus.sh OLD-KEEP-PATHS [N]}
[ -x "$old" ] || { echo "$old: not an executable" >&2; exit 1; }
. "$here/lib.sh"
bench_sizes "${2:-100000}"
bench_setup "$max"
end="$NIX_STORE_DIR/00000000000000000000000000000000-end"
first=$(head -n 1 "$work/all-paths")

# session KEEP-PATHS: "REGISTER-S DROP-S PEAK-KIB HELD-KIB DROPPED-KIB".  With -q only
# problems are replied to, so a missing sentinel path marks each end.
session() {
	local kp=$1 t0 t1 t2 reply pid kid held dropped
	t0=$(now)
	coproc S { exec /usr/bin/time -f '%M' -o "$work/rss" "$kp" -q \
	    --store daemon; }
	pid=$S_PID		# bash unsets S_PID once the coproc exits
	exec {sin}>&"${S[1]}" {sout}<&"${S[0]}"
	exec {S[1]}>&- {S[0]}<&-
	{ cat "$work/all-paths"; echo "$end"; } >&$sin
	read -r reply <&$sout
	t1=$(now)
	[ "$reply" = "missing $end" ] ||
	    { echo "$kp: unexpected reply: $reply" >&2; exit 1; }
	kid=$(cat "/proc/$pid/task/$pid/children")
	held=$(awk '/^VmRSS:/ { print $2 }' "/proc/${kid%% *}/status")
	printf 'drop %s\n%s\n' "$first" "$end" >&$sin
	read -r reply <&$sout
	t2=$(now)
	[ "$reply" = "missing $end" ] ||
	    { echo "$kp: unexpected reply to the drop: $reply" >&2; exit 1; }
	dropped=$(awk '/^VmRSS:/ { print $2 }' "/proc/${kid%% *}/status")
	exec {sin}>&- {sout}<&-
	wait "$pid" 2>/dev/null || true
	echo "$(echo "$t1 - $t0" | bc -l) $(echo "$t2 - $t1" | bc -l)" \
	    "$(cat "$work/rss") $held $dropped"
}

: >"$work/old"; : >"$work/new"
for r in $(seq "$REPS"); do
	session "$old" >>"$work/old"
	session "$KEEP_PATHS" >>"$work/new"
done
col() { cut -d' ' -f"$2" "$work/$1" | median; }
printf '%-10s %12s %12s %8s\n' "$max paths" old new new/old
for c in 1:register-s 2:drop-s 3:peak-KiB 4:held-KiB 5:dropped-KiB; do
	o=$(col old "${c%%:*}"); n=$(col new "${c%%:*}")
	printf '%-10s %12s %12s %7.2fx\n' "${c#*:}" "$o" "$n" \
	    "$(echo "$n / $o" | bc -l)"
done
