#!/bin/bash
# Deploy a system to another machine, nixos-rebuild style, with its
# closure held alive on both machines from before the copy until the
# switch is done, and nothing left behind: hold, copy, switch, release.
#
#   deploy.sh [--action ACTION] [USER@]HOST PATH|FILE.nix
#
# PATH is a built system with bin/switch-to-configuration; FILE.nix is
# built first (nix-build --no-out-link).  ACTION is passed to
# switch-to-configuration (default: switch).  NIX_SSHOPTS reaches nix copy,
# keep-paths and ssh alike; give a port there (-p 2222), as Nix before 2.2x
# cannot read one from an ssh-ng:// URI.  KEEP_PATHS names keep-paths.
#
# If this script is killed at any point, both holds go with it: a
# remote GC may then collect what it copied, as it should.
set -euo pipefail

usage() {
	echo "usage: $0 [--action ACTION] [USER@]HOST PATH|FILE.nix" >&2
	exit 64
}

action=switch
[ "${1:-}" = --action ] && { [ $# -ge 2 ] || usage; action=$2; shift 2; }
[ $# -eq 2 ] || usage
host=$1 what=$2
remote="ssh-ng://$host"

# One session, two stores: every path is rooted here and on the host, and
# each request gets one reply per store, "ok PATH STORE" when held.
coproc KP { exec "${KEEP_PATHS:-keep-paths}" --store auto --store "$remote"; }
kp_pid=$KP_PID
# Plain copies, the coproc's own closed: only we may hold its input open.
exec {kp_in}>&"${KP[1]}" {kp_out}<&"${KP[0]}"
exec {KP[1]}>&- {KP[0]}<&-

# hold PATH: roots PATH on both machines.  Returns 0 if it is valid on
# both, 1 if it is rooted but missing on one (it prints which), 2 if
# keep-paths refused it or lost a store.
hold() {
	local verdict path store status=0 i
	echo "$1" >&"$kp_in"
	for i in 1 2; do
		read -r verdict path store <&"$kp_out" ||
		    { echo "deploy: keep-paths exited" >&2; return 2; }
		case $verdict in
		ok) ;;
		missing) [ "$status" = 2 ] || status=1
			echo "deploy: $path: not on $store yet" >&2 ;;
		*) echo "deploy: keep-paths: $verdict $path $store" >&2
			status=2 ;;
		esac
	done
	return "$status"
}

# Build, if asked, and hold locally.  nix-build leaves no symlink; a GC
# between the build and the hold shows up as "missing", and the rebuild
# is then protected by the root already in place.
for attempt in 1 2; do
	if [[ $what == *.nix ]]; then
		system=$(nix-build --no-out-link "$what" {kp_in}>&- {kp_out}<&-)
	else
		system=$(readlink -f "$what")
	fi
	rc=0
	hold "$system" || rc=$?
	[ "$rc" = 2 ] && exit 1
	# Missing here: build again (a path, not a file, cannot be).
	nix-store --check-validity "$system" 2>/dev/null {kp_in}>&- \
	    {kp_out}<&- && break
	[ "$attempt" = 1 ] && [[ $what == *.nix ]] || exit 1
done

# The remote root is in place before the first byte arrives.
echo "deploy: copying $system to $host" >&2
nix --extra-experimental-features nix-command copy --to "$remote" "$system" \
    {kp_in}>&- {kp_out}<&-
hold "$system" || exit 1

echo "deploy: $action on $host" >&2
# shellcheck disable=SC2086  # NIX_SSHOPTS is a list of words, as in Nix
ssh $NIX_SSHOPTS "$host" -- "$system/bin/switch-to-configuration" "$action" \
    {kp_in}>&- {kp_out}<&-

# Release: close keep-paths' input and wait for it.
exec {kp_in}>&-
wait "$kp_pid"
echo "deploy: done; $system released on both machines" >&2
