#!/bin/bash
# Build Nix expressions with no result symlinks left behind, keep every
# output alive until this script exits, and run a command on them.
#
#   build-and-hold.sh FILE.nix... -- COMMAND [ARG...]
#
# COMMAND gets the output paths as its last arguments.  If this script is
# killed at any point, the outputs are released with it: there is nothing
# to clean up.  KEEP_PATHS names the keep-paths binary (default: on PATH).
set -euo pipefail

files=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do files+=("$1"); shift; done
[ $# -gt 1 ] && [ ${#files[@]} -gt 0 ] ||
    { echo "usage: $0 FILE.nix... -- COMMAND [ARG...]" >&2; exit 64; }
shift

coproc KP { exec "${KEEP_PATHS:-keep-paths}"; }

# hold PATH: returns once PATH cannot be collected until we exit.
hold() {
	local reply
	echo "$1" >&"${KP[1]}"
	read -r reply <&"${KP[0]}" || { echo "keep-paths exited" >&2; return 1; }
	[ "$reply" = "ok $1" ] || { echo "keep-paths: $reply" >&2; return 1; }
}

outs=()
for f in "${files[@]}"; do
	# --no-out-link: no symlink to leak; between the build and hold() a
	# GC may run, so hold() says "missing" then, and we build again: the
	# root is already in place, so the rebuild is protected.
	for attempt in 1 2; do
		out=$(nix-build --no-out-link "$f")
		hold "$out" && break
		[ "$attempt" = 1 ] || exit 1
	done
	outs+=("$out")
done

"$@" "${outs[@]}"
