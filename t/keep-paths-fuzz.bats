#!/usr/bin/env bats
# The fuzz targets' regression corpus: every input in t/fuzz/regress/TARGET/
# (the seeds, and each input a fuzzer once found a fault with) through
# its target's own checks, built with a plain main (t/fuzz/replay-main.c)
# and this build's compiler and sanitizers.  Milliseconds; no Nix.

load helpers

setup_file() {
	:
}

teardown_file() {
	:
}

replay() {
	local target=$1 files
	files=("$KP_SRCDIR/t/fuzz/regress/$target"/*)
	[ -e "${files[0]}" ] || fail "t/fuzz/regress/$target/ is empty"
	run -0 "$KP_FUZZ_BINDIR/regress-$target" "${files[@]}"
	assert_equal "$(grep -c '^ok ' <<<"$output")" "${#files[@]}"
}

@test "regress: request lines" { replay request; }
@test "regress: store path checks" { replay storepath; }
@test "regress: the daemon's side of the protocol" { replay daemon; }
@test "regress: the path scanner against its oracle" { replay pathscan; }
@test "regress: keep-paths.conf" { replay conf; }
@test "regress: Nix's nix.conf and its includes" { replay nixconf; }
@test "regress: store URIs and the ssh command" { replay storeuri; }
@test "regress: ssh command lines and shims' messages" { replay sshargs; }
@test "regress: the relay's connections and seen set" { replay relay; }
