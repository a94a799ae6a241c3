#!/bin/bash
# What capture mode costs: one nix-build of N fresh trivial derivations
# (builder /bin/sh, one output each), side by side on one private
# throwaway store with its own nix-daemon:
#   plain     nix-build --no-out-link (nothing holds the outputs)
#   capture   the same build through keep-paths --capture --hold's socket
#             (every .drv and output held until it ends), over the daemon
# for N = 1,000 by default (bench/capture.sh 100 1000).  Prints the median
# of REPS builds each, their ratio, the paths held, and keep-paths' peak
# RSS while it holds them.
#
#   bench/capture.sh [N...]      KEEP_PATHS=path/to/keep-paths  REPS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
. "$here/lib.sh"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000)

bench_start
export NIX_REMOTE=daemon

# N derivations, new for every salt: nothing is built twice.
cat >"$work/many.nix" <<'NIX'
{ n, salt }: builtins.genList (i: derivation {
  name = "cap-${salt}-${toString i}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo ${salt} ${toString i} > $out" ];
}) (builtins.fromJSON n)
NIX

# plain N SALT: the build's seconds.
plain() {
	local t0 t1
	t0=$(now)
	nix-build --no-out-link --argstr n "$1" --argstr salt "$2" \
	    "$work/many.nix" >/dev/null 2>"$work/err" ||
	    { cat "$work/err" >&2; exit 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

# captured N SALT: the build's seconds through keep-paths --capture
# --hold (started first, its socket read, the build, all its paths held),
# keep-paths' own peak RSS (KiB, from /proc: GNU time would count the
# build's too), and the paths it held ("ok").
captured() {
	local t0 t1 sock rss kpid
	t0=$(now)
	coproc KP { exec "$KEEP_PATHS" --capture --hold --print-roots; }
	kpid=$KP_PID
	exec {kin}>&"${KP[1]}" {kout}<&"${KP[0]}"
	exec {KP[1]}>&- {KP[0]}<&-
	read -r _ sock <&$kout
	NIX_REMOTE=unix://$sock nix-build --no-out-link --argstr n "$1" \
	    --argstr salt "$2" "$work/many.nix" >/dev/null 2>"$work/err" ||
	    { cat "$work/err" >&2; exit 1; }
	t1=$(now)
	rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$kpid/status")
	exec {kin}>&-
	cat <&$kout >"$work/out"
	exec {kout}<&-
	wait "$kpid" 2>/dev/null || true
	echo "$(echo "$t1 - $t0" | bc -l) $rss $(grep -c '^ok ' "$work/out")"
}

printf '%6s  %9s  %10s  %6s  %6s  %9s\n' N plain-s capture-s ratio held peak-RSS
for n in "${sizes[@]}"; do
	: >"$work/plain"; : >"$work/cap"
	for r in $(seq "$REPS"); do
		# Alternated, so that neither always runs on a warmer store.
		plain "$n" "p$n-$r" >>"$work/plain"
		captured "$n" "c$n-$r" >>"$work/cap"
		nix-store --gc >/dev/null 2>&1
	done
	p=$(median <"$work/plain")
	c=$(cut -d' ' -f1 "$work/cap" | median)
	rss=$(cut -d' ' -f2 "$work/cap" | sort -g | tail -1)
	held=$(cut -d' ' -f3 "$work/cap" | sort -g | tail -1)
	printf '%6s  %9.3f  %10.3f  %5.2fx  %6s  %6.1f MB\n' "$n" "$p" "$c" \
	    "$(echo "$c / $p" | bc -l)" "$held" "$(echo "$rss / 1024" | bc -l)"
done
