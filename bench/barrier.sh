#!/bin/bash
# What the barrier costs, on one private throwaway store with its own
# nix-daemon (the first on PATH: PATH=DIR/bin:$PATH for another Nix, e.g.
# one made by scripts/newer-nix.sh):
#   keep-paths --barrier=always   what Nix <= 2.34 and Lix need: roots,
#                                 then CollectGarbage to wait out any
#                                 collection, then validity
#   keep-paths --barrier=never    roots, then validity: what --barrier=auto
#                                 does for a Nix 2.35 daemon, and the
#                                 daemon's own floor for this work
#   keep-paths --barrier=auto     the default: always's work before 2.35,
#                                 never's from 2.35 on
# Register and ack N paths, for N = 1, 100, 1,000 and 100,000 (override:
# bench/barrier.sh 1 1000).  Prints the median of REPS runs, alternating,
# and the ratio.
#
#   bench/barrier.sh [N...]      KEEP_PATHS=path/to/keep-paths  REPS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
. "$here/lib.sh"
bench_sizes "$@"
bench_setup "$max"

echo "# $(nix-store --version) ($(command -v nix-store))"
printf '%8s  %9s %8s  %9s %8s  %7s  %9s\n' N always-s peak-KiB never-s \
    peak-KiB ratio auto-s
for n in "${sizes[@]}"; do
	head -n "$n" "$work/all-paths" >"$work/paths"
	: >"$work/always" ; : >"$work/never" ; : >"$work/auto"
	for _ in $(seq "$REPS"); do
		for mode in always never auto; do
			run_keep_paths "$work/paths" --store daemon \
			    --barrier="$mode" >>"$work/$mode"
		done
	done
	read -r a_t a_m _ <<<"$(bench_stats "$work/always")"
	read -r n_t n_m _ <<<"$(bench_stats "$work/never")"
	read -r u_t _ <<<"$(bench_stats "$work/auto")"
	printf '%8s  %9.4f %8s  %9.4f %8s  %6.1fx  %9.4f\n' "$n" "$a_t" "$a_m" \
	    "$n_t" "$n_m" "$(echo "$a_t / $n_t" | bc -l)" "$u_t"
done
echo "ratio: always time / never time (what the barrier costs); peak: keep-paths' peak RSS in one run" >&2
