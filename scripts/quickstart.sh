#!/bin/bash
# The quick start: install, build, then show keep-paths holding a path on a
# private throwaway store with its own nix-daemon, through each back end,
# and the real nix-store --gc collecting it only after release.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --quiet >/dev/null

demo=$(mktemp -d "${TMPDIR:-/tmp}/keep-paths-demo.XXXXXX")
. scripts/private-store.sh
trap 'private_store_stop; rm -rf "$demo"' EXIT
private_store_start "$demo/nix"

for store in auto daemon; do
	echo
	echo "== keep-paths --store $store: $(./keep-paths --store "$store" --print-store)"
	echo "hello from keep-paths via $store" >"$demo/hello-$store"
	p=$(nix-store --add "$demo/hello-$store")
	echo "added (unrooted):  $p"

	coproc KP { ./keep-paths --store "$store"; }
	kp_pid=$KP_PID		# bash unsets KP_PID once the coproc exits
	echo "$p" >&"${KP[1]}"
	read -r reply <&"${KP[0]}"
	echo "keep-paths says:   $reply"

	nix-store --gc >/dev/null 2>&1
	[ -e "$p" ] && echo "after nix-store --gc while held:   still there"

	exec {KP[1]}>&-
	wait "$kp_pid"
	nix-store --gc >/dev/null 2>&1
	[ -e "$p" ] || echo "after release and nix-store --gc:  collected"
done
