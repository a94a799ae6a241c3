# Sourced by the benchmarks: a private throwaway store with its own
# nix-daemon and a pool of store paths, and the timed keep-paths run they
# share.  Never touches /nix, never reaches the network.
#
# bench_sizes [N...] sets $sizes (default 1 1000 100000) and $max
# bench_start       sets $work and $KEEP_PATHS, and starts the store
# bench_setup MAX   bench_start, and $work/all-paths (MAX paths)

bench_sizes() {
	local n
	sizes=("$@")
	[ ${#sizes[@]} -gt 0 ] || sizes=(1 100 1000 100000)
	max=0
	for n in "${sizes[@]}"; do [ "$n" -gt "$max" ] && max=$n; done
}

bench_start() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	KEEP_PATHS=${KEEP_PATHS:-$here/keep-paths}
	[ -x "$KEEP_PATHS" ] ||
	    { echo "build keep-paths first ($KEEP_PATHS)" >&2; exit 1; }
	[ -x /usr/bin/time ] && command -v bc >/dev/null ||
	    { echo "needs GNU time and bc (apt-get install time bc)" >&2; exit 1; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/kp-bench.XXXXXX")
	. "$here/scripts/private-store.sh"
	trap 'private_store_stop; rm -rf "$work"' EXIT
	private_store_start "$work/nix"
}

bench_setup() {
	local max=$1
	bench_start
	echo "creating $max store paths..." >&2
	mkdir "$work/files"
	(cd "$work/files" &&
	    seq -f 'f%g' "$max" | while read -r f; do echo "$f" >"$f"; done &&
	    seq -f 'f%g' "$max" | xargs nix-store --add) >"$work/all-paths"
}

now() { date +%s.%N; }

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# bench_stats FILE: of the "SECONDS RSS [HELD]" lines run_* appended to
# FILE, the median time, the peak RSS and the largest held RSS.
bench_stats() {
	echo "$(cut -d' ' -f1 "$1" | median) $(cut -d' ' -f2 "$1" | sort -g | tail -1)" \
	    "$(cut -s -d' ' -f3 "$1" | sort -g | tail -1)"
}

# held_rss PID: "PEAK NOW", the peak and current resident KiB of
# /usr/bin/time PID's child, keep-paths (both from the kernel's own
# count; time's %M at exit can be a little below a VmRSS read before).
held_rss() {
	local kid
	kid=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || true
	awk '/^VmHWM:/ { p = $2 } /^VmRSS:/ { r = $2 }
	    END { if (r == "") print "0 -"; else print p, r }' \
	    "/proc/${kid%% *}/status" 2>/dev/null || echo "0 -"
}

# run_keep_paths PATHS [OPTION...]: prints the seconds from start until
# every reply is read, keep-paths' peak RSS in KiB (the whole session), and
# its RSS once every reply is read, holding every root (what a session
# that holds a closure for hours keeps).
run_keep_paths() {
	local paths=$1 t0 t1 writer reply held hwm peak kp_pid
	shift
	t0=$(now)
	coproc KP { exec /usr/bin/time -f '%M' -o "$work/rss" "$KEEP_PATHS" -q "$@"; }
	kp_pid=$KP_PID		# bash unsets KP_PID once the coproc exits
	exec {kin}>&"${KP[1]}" {kout}<&"${KP[0]}"
	exec {KP[1]}>&- {KP[0]}<&-
	# -q: only problems are printed; a sentinel missing path marks the end.
	{ cat "$paths"; echo "$NIX_STORE_DIR/00000000000000000000000000000000-end"; } >&$kin &
	writer=$!
	read -r reply <&$kout
	t1=$(now)
	[ "$reply" = "missing $NIX_STORE_DIR/00000000000000000000000000000000-end" ] ||
	    { echo "keep-paths: unexpected reply: $reply" >&2; exit 1; }
	wait "$writer"
	read -r hwm held <<<"$(held_rss "$kp_pid")"
	exec {kin}>&- {kout}<&-
	wait "$kp_pid" 2>/dev/null || true
	peak=$(cat "$work/rss")
	[ "$hwm" -gt "$peak" ] && peak=$hwm
	echo "$(echo "$t1 - $t0" | bc -l) $peak $held"
}
