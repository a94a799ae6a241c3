#!/bin/bash
# Sweeper benchmark: N session directories under one root, half of them
# live (their flock held by holder processes), half stale; each tool runs
# on a fresh copy of that tree, in one run:
#   keep-paths-sweep --min-age 0 ROOT
#   find ROOT -mindepth 1 -maxdepth 1 -mmin -1 -exec rm -rf {} +
#       (ignores locks: it deletes the live sessions too)
#   systemd-tmpfiles --clean with "e ROOT - - - 0"  (skips flock-held dirs)
# Prints seconds, peak RSS, what each left, and the ratios.
#
#   bench/sweep.sh [N]        KEEP_PATHS_SWEEP=path/to/keep-paths-sweep
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${KEEP_PATHS_SWEEP:-$here/keep-paths-sweep}
n=${1:-100000}
[ -x "$SWEEP" ] || { echo "build keep-paths-sweep first ($SWEEP)" >&2; exit 1; }
[ -x /usr/bin/time ] && command -v bc >/dev/null ||
    { echo "needs GNU time and bc (apt-get install time bc)" >&2; exit 1; }

# One fd per live session held.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d "${TMPDIR:-/tmp}/kp-sweep-bench.XXXXXX")
holders=()
cleanup() {
	[ ${#holders[@]} -eq 0 ] || kill "${holders[@]}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# A tree of n sessions s1..sn, each with a file; the odd ones are live.
make_tree() {
	local root=$1
	mkdir "$root"
	(cd "$root" && seq -f 's%g' "$n" | xargs mkdir &&
	    seq -f 's%g/data' "$n" | xargs touch)
}

# Holds the locks of the odd sessions, 9,000 fds per holder process.
hold_live() {
	local root=$1 ready
	holders=()
	for start in $(seq 1 18000 "$n"); do
		ready="$work/ready.$start"
		mkfifo "$ready"
		perl -MFcntl=:flock -e '
			my ($root, $from, $to, $ready) = @ARGV; my @fds;
			for (my $i = $from; $i <= $to; $i += 2) {
				open(my $f, "<", "$root/s$i") or next;
				flock($f, LOCK_EX) or die; push @fds, $f;
			}
			open(my $r, ">", $ready) or die; close $r; sleep 3600;
		' "$root" "$start" "$((start + 17999))" "$ready" &
		holders+=($!)
		cat "$ready" >/dev/null
		rm "$ready"
	done
}

release_live() {
	kill "${holders[@]}" 2>/dev/null || true
	wait "${holders[@]}" 2>/dev/null || true
	holders=()
}

# run NAME COMMAND...: on a fresh tree; prints seconds, RSS, sessions left.
run() {
	local name=$1 root=$work/root
	shift
	rm -rf "$root"
	make_tree "$root"
	hold_live "$root"
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	release_live
	printf '%-18s %9.3f s %9s KiB  %7s of %s sessions left (%s live)\n' "$name" \
	    "$(echo "$t1 - $t0" | bc -l)" "$(cat "$work/rss")" \
	    "$(find "$root" -mindepth 1 -maxdepth 1 | wc -l)" "$n" "$((n / 2))"
	echo "$name $(echo "$t1 - $t0" | bc -l)" >>"$work/times"
}

echo "creating $n session directories per run, half live..." >&2
: >"$work/times"
run keep-paths-sweep "$SWEEP" --min-age 0 "$work/root"
run find-rm-rf find "$work/root" -mindepth 1 -maxdepth 1 -mmin -1 -exec rm -rf {} +
printf 'e %s - - - 0\n' "$work/root" >"$work/tmpfiles.conf"
if command -v systemd-tmpfiles >/dev/null; then
	run systemd-tmpfiles systemd-tmpfiles --clean "$work/tmpfiles.conf"
fi
kp=$(awk '$1 == "keep-paths-sweep" { print $2 }' "$work/times")
awk -v kp="$kp" '$1 != "keep-paths-sweep" {
	printf "ratio %s / keep-paths-sweep: %.2fx\n", $1, $2 / kp }' "$work/times"
