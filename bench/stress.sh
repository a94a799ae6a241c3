#!/bin/bash
# The GC race proof of t/keep-paths-stress*.bats, longer: SESSIONS
# concurrent sessions of PATHS freshly added paths each, per back end
# (local, daemon, gcroots, daemon with drops, ssh-ng with drops if sshd and
# root are there), while nix-store --gc runs in a loop on the same store.
# Prints each back end's counts: requests, acks, missing, drops, GC runs,
# violations (an acked path collected while held: must be 0).  Exits
# non-zero on any violation.  make check runs the same files at 4 x 30.
#
#   bench/stress.sh [SESSIONS [PATHS]]    (default 16 250; from a build
#                                          directory, or KEEP_PATHS=...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export STRESS_SESSIONS=${1:-16} STRESS_PATHS=${2:-250}
export KEEP_PATHS=${KEEP_PATHS:-$PWD/keep-paths}
export KP_SRCDIR=${KP_SRCDIR:-$here/..}
[ -x "$KEEP_PATHS" ] || { echo "$KEEP_PATHS: not built (run from a build directory)" >&2; exit 2; }
echo "stress: $STRESS_SESSIONS sessions x $STRESS_PATHS paths per back end"
start=$SECONDS
bats --print-output-on-failure "$KP_SRCDIR/t/keep-paths-stress.bats" \
    "$KP_SRCDIR/t/keep-paths-stress-drop.bats"
echo "stress: $((SECONDS - start)) s"
