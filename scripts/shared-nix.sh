#!/bin/sh
# Makes a Nix built elsewhere from its release tag runnable on this machine,
# for the tests: the tarball in ../shared/nix-VERSION/ (bin/nix and its
# lib/libnix*.so, built against Debian forky's libraries), over the forky
# tree that scripts/newer-nix.sh makes:
#   scripts/shared-nix.sh TARBALL FORKY_DIR DIR
# DIR/libexec/nix is the multi-call binary, pointed at forky's loader and
# at DIR/lib and forky's libraries (DT_RPATH: it covers the libraries' own
# dependencies too); DIR/bin holds nix, nix-store, nix-daemon, ... .  A
# second run with the same tarball does nothing.  Then:
#   make check NIX_PREFIX=DIR
# Never touches /nix.
set -eu

usage() { echo "usage: shared-nix.sh TARBALL FORKY_DIR DIR" >&2; exit 64; }
[ $# -eq 3 ] || usage
tarball=$1 forky=$2
[ -f "$tarball" ] || { echo "shared-nix.sh: $tarball: no such file" >&2; exit 1; }
[ -x "$forky/bin/nix-store" ] && [ -d "$forky/root" ] ||
	{ echo "shared-nix.sh: $forky: not a tree of newer-nix.sh" >&2; exit 1; }
mkdir -p "$3"
dir=$(cd "$3" && pwd)
if [ ! -e "$dir/.shared-nix" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "shared-nix.sh: $dir: not empty, and not made by shared-nix.sh" >&2
	exit 1
fi
sum=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ -f "$dir/.done-$sum" ] && "$dir/bin/nix-store" --version >/dev/null 2>&1; then
	"$dir/bin/nix-store" --version
	exit 0
fi
command -v patchelf >/dev/null 2>&1 ||
	{ echo "shared-nix.sh: needs patchelf" >&2; exit 1; }

rm -rf "${dir:?}/lib" "${dir:?}/libexec" "${dir:?}/bin" "${dir:?}/unpack" \
    "${dir:?}"/.done-*
touch "$dir/.shared-nix"
mkdir -p "$dir/unpack" "$dir/lib" "$dir/libexec" "$dir/bin"
tar -xJf "$tarball" -C "$dir/unpack"
top=$(find "$dir/unpack" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -x "$top/bin/nix" ] || { echo "shared-nix.sh: $tarball: no bin/nix" >&2; exit 1; }
cp "$top"/lib/*.so* "$dir/lib/"
cp "$top/bin/nix" "$dir/libexec/nix"
rm -rf "$dir/unpack"

root=$(cd "$forky/root" && pwd)
loader=
for f in "$root"/lib64/ld-linux-*.so.* "$root"/usr/lib64/ld-linux-*.so.*; do
	[ -e "$f" ] && { loader=$f; break; }
done
[ -n "$loader" ] || { echo "shared-nix.sh: no ld.so in $root" >&2; exit 1; }
patchelf --set-interpreter "$loader" --force-rpath \
    --set-rpath "$dir/lib:$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" \
    "$dir/libexec/nix"
# One link per command name: the binary dispatches on argv[0].
for name in nix nix-build nix-channel nix-collect-garbage nix-copy-closure \
    nix-daemon nix-env nix-hash nix-instantiate nix-prefetch-url nix-shell \
    nix-store; do
	ln -s ../libexec/nix "$dir/bin/$name"
done

"$dir/bin/nix-store" --version
touch "$dir/.done-$sum"
