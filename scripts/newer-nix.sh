#!/bin/sh
# Makes a newer Debian's Nix runnable on this machine, for the tests:
#   scripts/newer-nix.sh SUITE DIR      (SUITE: forky, trixie, sid, ...)
# DIR/root is a minimal tree of SUITE with nix-bin (debootstrap); DIR/bin
# holds nix, nix-store, nix-daemon, ... that run that tree's Nix on this
# machine's own filesystem, so a test's private store is the same path for
# both Nix versions.  A second run with the tree in place does nothing.
# Then:  make check NIX_PREFIX=DIR   (or PATH=DIR/bin:$PATH bats t/...)
# Never touches /nix.
set -eu

usage() { echo "usage: newer-nix.sh SUITE DIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
suite=$1
case $suite in *[!a-z]* | '') usage ;; esac
mkdir -p "$2"
dir=$(cd "$2" && pwd)
# Only an empty directory, or one this script made, is ever written to:
# everything under DIR is removed when the tree is made again.
if [ ! -e "$dir/.newer-nix" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "newer-nix.sh: $dir: not empty, and not made by newer-nix.sh" >&2
	exit 1
fi
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -f "$dir/.done-$suite" ] && "$dir/bin/nix-store" --version >/dev/null 2>&1; then
	"$dir/bin/nix-store" --version
	exit 0
fi

need=
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
command -v patchelf >/dev/null 2>&1 || need="$need patchelf"
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || { echo "newer-nix.sh: needs$need (as root)" >&2; exit 1; }
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi

# A half-made tree from an interrupted run is made again from nothing.
rm -rf "${dir:?}/root" "${dir:?}/bin" "${dir:?}/libexec" "${dir:?}"/.done-*
touch "$dir/.newer-nix"

# An older debootstrap has no script for a newer suite; sid's is the same
# recipe.  libdbi-perl: debootstrap cannot resolve the virtual
# perl-dbdabi-94 that one of nix-bin's dependencies needs.
script=/usr/share/debootstrap/scripts/$suite
[ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
log="$dir/debootstrap.log"
if ! debootstrap --variant=minbase --include=nix-bin,libdbi-perl \
    "$suite" "$dir/root" "$mirror" "$script" >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	[ -f "$dir/root/debootstrap/debootstrap.log" ] &&
		tail -n 20 "$dir/root/debootstrap/debootstrap.log" >&2
	echo "newer-nix.sh: debootstrap of $suite failed (log: $log)" >&2
	exit 1
fi

# Nix re-executes /proc/self/exe (its build hook, __build-remote), so running
# the binary through the tree's ld.so breaks builds.  Instead a copy of the
# multi-call binary gets the tree's loader as its interpreter and the tree's
# library directories as DT_RPATH (--force-rpath: unlike RUNPATH it also
# applies to the libraries' own dependencies, found before this machine's
# ld.so.cache).
root=$dir/root
lib=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu
loader=
for f in "$root"/lib64/ld-linux-*.so.* "$root"/usr/lib64/ld-linux-*.so.*; do
	[ -e "$f" ] && { loader=$f; break; }
done
[ -n "$loader" ] || { echo "newer-nix.sh: no ld.so in $root" >&2; exit 1; }
mkdir -p "$dir/libexec" "$dir/bin"
cp "$root/usr/bin/nix" "$dir/libexec/nix"
patchelf --set-interpreter "$loader" --force-rpath --set-rpath "$lib" "$dir/libexec/nix"

# One symlink per command name: the binary dispatches on argv[0].
for f in "$root"/usr/bin/nix*; do
	name=${f##*/}
	t=$(readlink -f "$f" 2>/dev/null || true)
	case ${t##*/} in
	nix) ln -s ../libexec/nix "$dir/bin/$name" ;;
	esac
done
for name in nix nix-daemon nix-store; do
	[ -e "$dir/bin/$name" ] ||
		{ echo "newer-nix.sh: $root/usr/bin has no $name" >&2; exit 1; }
done

"$dir/bin/nix-store" --version
touch "$dir/.done-$suite"
