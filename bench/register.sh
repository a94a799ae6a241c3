#!/bin/bash
# Register-and-ack benchmark, side by side on one private throwaway store
# with its own nix-daemon:
#   keep-paths          N paths written to its stdin, until N replies are read
#   nix-store --add-root DIR/r --indirect -r PATH...   (as few calls as
#                       ARG_MAX allows; indirect roots through the daemon)
# for N = 1, 100, 1,000 and 100,000 (override: bench/register.sh 1 1000).  Prints
# the median of REPS runs, the ratio, each one's peak RSS, and keep-paths' RSS
# while it holds the N roots.
#
#   bench/register.sh [N...]      KEEP_PATHS=path/to/keep-paths  REPS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
. "$here/lib.sh"
bench_sizes "$@"
bench_setup "$max"

run_nix_store() {
	local paths=$1 t0 t1
	rm -rf "$work/roots"; mkdir "$work/roots"
	t0=$(now)
	NIX_REMOTE=daemon /usr/bin/time -f '%M' -o "$work/rss" \
	    xargs sh -c 'nix-store --add-root "$0/r$$" --indirect -r "$@" >/dev/null' \
	    "$work/roots" <"$paths"
	t1=$(now)
	# Leave the next run the store this one found: the indirect roots'
	# gcroots/auto links would otherwise be walked by every later scan.
	rm -rf "$work/roots"
	find "$NIX_STATE_DIR/gcroots/auto" -mindepth 1 -delete
	echo "$(echo "$t1 - $t0" | bc -l) $(cat "$work/rss")"
}

printf '%8s  %12s %8s %8s  %12s %8s  %7s\n' N keep-paths-s peak-KiB held-KiB \
    nix-store-s peak-KiB ratio
for n in "${sizes[@]}"; do
	head -n "$n" "$work/all-paths" >"$work/paths"
	: >"$work/kp" ; : >"$work/ns"
	for _ in $(seq "$REPS"); do
		run_keep_paths "$work/paths" --store daemon >>"$work/kp"
		run_nix_store "$work/paths" >>"$work/ns"
	done
	read -r kp_t kp_m kp_h <<<"$(bench_stats "$work/kp")"
	read -r ns_t ns_m _ <<<"$(bench_stats "$work/ns")"
	printf '%8s  %12.4f %8s %8s  %12.4f %8s  %6.1fx\n' "$n" "$kp_t" "$kp_m" \
	    "$kp_h" "$ns_t" "$ns_m" "$(echo "$ns_t / $kp_t" | bc -l)"
done
echo "ratio: nix-store time / keep-paths time (higher: keep-paths faster); peak: the peak RSS of one run; held: keep-paths' RSS holding all N, once every reply is read" >&2
