#!/usr/bin/env bats
# The GC race proof (t/stress.bash) for sessions that only hold.

load helpers
load stress

@test "stress, local back end: no ok path is collected while its session lives" {
	stress local
}

@test "stress, daemon back end: no ok path is collected while its session lives" {
	stress daemon
}

@test "stress, gcroots over the local back end: no ok path is collected while its session lives" {
	stress gcroots
	# Every session removed its directory on release.
	run -0 find "$NIX_STATE_DIR/gcroots/per-user" -mindepth 2 -name 'keep-paths-*'
	assert_output ""
}

@test "stress, daemon back end, one burst of 20,000 lines: no ok path is collected while its session lives" {
	stress_burst daemon
}

@test "stress, local back end, one burst of 20,000 lines: no ok path is collected while its session lives" {
	stress_burst local
}
