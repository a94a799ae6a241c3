#!/usr/bin/env bats
# Differential store path validation: keep-paths' checks against the real
# daemon's, on thousands of generated and mutated inputs.  A path
# keep-paths sends but the daemon cannot parse would drop every root of the
# session; a path the daemon takes but keep-paths refuses is a good path
# refused.  Allowed: what keep-paths refuses on purpose because a supported
# Nix version does (a leading "." in the name, no "-" after the hash),
# though this daemon (Nix 2.8) takes it.  Any seed gives other inputs:
# t/storepath-inputs.pl STOREDIR SEED.

load helpers

@test "keep-paths and the daemon agree on every generated store path" {
	"$KP_SRCDIR/t/storepath-inputs.pl" "$NIX_STORE_DIR" 1 >"$BATS_TEST_TMPDIR/inputs"
	run -0 "$STOREPATH_DIFF" "$KP_SOCKET" "$NIX_STORE_DIR" <"$BATS_TEST_TMPDIR/inputs"
	echo "# $output" >&3
	refute_output --partial BREACH
	# Both kinds were there to be told apart.
	[[ $output =~ inputs\ ([0-9]+),\ keep-paths\ accepted\ ([0-9]+) ]]
	(( BASH_REMATCH[1] > 2000 && BASH_REMATCH[2] > 500 ))
	(( BASH_REMATCH[1] - BASH_REMATCH[2] > 500 ))
}
