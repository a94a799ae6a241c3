#!/bin/bash
# Back ends side by side, on one private throwaway store (with its own
# nix-daemon, which the local back end does not use):
#   keep-paths --store local    records in its own temp-roots file
#   keep-paths --store daemon   AddTempRoot through a daemon worker
# Register and ack N paths, for N = 1, 100, 1,000 and 100,000 (override:
# bench/backends.sh 1 1000).  Prints the median of REPS runs, the ratio,
# each one's peak RSS, and its RSS while it holds the N roots.
#
#   bench/backends.sh [N...]      KEEP_PATHS=path/to/keep-paths  REPS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
. "$here/lib.sh"
bench_sizes "$@"
bench_setup "$max"

printf '%8s  %9s %8s %8s  %9s %8s %8s  %7s\n' N local-s peak-KiB held-KiB \
    daemon-s peak-KiB held-KiB ratio
for n in "${sizes[@]}"; do
	head -n "$n" "$work/all-paths" >"$work/paths"
	: >"$work/local" ; : >"$work/daemon"
	for _ in $(seq "$REPS"); do
		run_keep_paths "$work/paths" --store local >>"$work/local"
		run_keep_paths "$work/paths" --store daemon >>"$work/daemon"
	done
	read -r l_t l_m l_h <<<"$(bench_stats "$work/local")"
	read -r d_t d_m d_h <<<"$(bench_stats "$work/daemon")"
	printf '%8s  %9.4f %8s %8s  %9.4f %8s %8s  %6.1fx\n' "$n" "$l_t" "$l_m" \
	    "$l_h" "$d_t" "$d_m" "$d_h" "$(echo "$d_t / $l_t" | bc -l)"
done
echo "ratio: daemon time / local time (higher: local faster); peak: keep-paths' peak RSS in one run; held: its RSS holding all N, once every reply is read" >&2
