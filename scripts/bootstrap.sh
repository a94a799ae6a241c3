#!/bin/sh
# Installs what keep-paths needs to build and test (Debian), then builds it.
#   scripts/bootstrap.sh [configure options...]
set -eu
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends \
	    autoconf automake make gcc pkg-config libbsd-dev libinih-dev libsqlite3-dev \
	    nix-bin bats bats-assert bats-support bash-completion mandoc procps \
	    sqlite3 strace openssh-server openssh-client
fi
if [ ! -x configure ]; then
	# Quiet when it works; everything it said when it does not.
	log=$(autoreconf -fi 2>&1) || { printf '%s\n' "$log" >&2; exit 1; }
fi
[ -f Makefile ] || ./configure "$@"
make -j"$(nproc 2>/dev/null || echo 2)"
