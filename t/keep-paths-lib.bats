#!/usr/bin/env bats
# scripts/keep-paths.sh: the bash library (kp_start, kp_hold, kp_stop,
# with-kept-paths), run by real scripts under set -euo pipefail against a
# real daemon; the proof is nix-store --gc.

load helpers

LIB="$KP_SRCDIR/scripts/keep-paths.sh"

# lib_script SCRIPT [ARG0 ARG...]: runs SCRIPT in bash under
# set -euo pipefail, with the library sourced.
lib_script() {
	local script=$1
	shift
	run --separate-stderr bash -c "set -euo pipefail; . '$LIB'; $script" "$@"
}

@test "kp_start, kp_hold, kp_stop: held while the script runs, collected after" {
	p=$(kp_add held)
	q=$(kp_add held2)
	lib_script '
		kp_start
		kp_hold "$1" "$2"
		nix-store --gc >/dev/null 2>&1
		test -e "$1" && test -e "$2"
		kp_stop
		echo stopped: $?' _ "$p" "$q"
	assert_success
	assert_output "stopped: 0"
	assert_equal "$stderr" ""
	kp_gc_until_gone "$p"
	kp_gc_until_gone "$q"
}

@test "kp_hold fails on missing and error, says why, and set -e ends the script" {
	p=$(kp_add fine)
	absent="$NIX_STORE_DIR/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-absent"
	lib_script '
		kp_start
		kp_hold "$1" "$2" not-a-path
		echo not reached' _ "$p" "$absent"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "kp_hold: missing $absent
kp_hold: error not-a-path: No such file or directory"
}

@test "subshells and background jobs do not keep the roots alive after the script exits" {
	p=$(kp_add inherited)
	lib_script '
		kp_start
		kp_hold "$1"
		( sleep 30 ) >/dev/null 2>&1 &
		sleep 30 >/dev/null 2>&1 &
		{ sleep 30; } | cat >/dev/null 2>&1 &
		echo "$_kp_pid $!"' _ "$p"
	assert_success
	read -r kpid job <<<"$output"
	# The script is gone, its jobs are not: keep-paths must see EOF.
	kill -0 "$job"
	kp_wait_gone "$kpid"
	kp_gc_until_gone "$p"
	pkill -P 1 -f "^sleep 30$" || true
}

@test "kp_hold reads one reply per store with several --store" {
	p=$(kp_add two-stores)
	absent="$NIX_STORE_DIR/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-absent"
	lib_script '
		kp_start --store daemon --store=local
		kp_hold "$1"
		kp_hold "$2" || echo "refused: $?"
		kp_hold "$1"
		kp_stop' _ "$p" "$absent"
	assert_success
	assert_output "refused: 1"
	assert_equal "$stderr" "kp_hold: missing $absent daemon
kp_hold: missing $absent local"
}

@test "kp_hold without kp_start, kp_start twice, and options that break the replies" {
	lib_script 'kp_hold /x'
	assert_failure 1
	assert_equal "$stderr" "kp_hold: no holder: call kp_start first"
	lib_script 'kp_start; kp_start'
	assert_failure 1
	[[ $stderr == "kp_start: a holder is running already (pid "*")" ]]
	lib_script 'kp_start -q'
	assert_failure 64
	assert_equal "$stderr" "kp_start: -q is not for a held session"
}

@test "a holder that died: kp_hold fails with a message, and the shell lives" {
	lib_script '
		kp_start --store unix:///nonexistent/socket
		sleep 0.5
		kp_hold /x || echo "failed: $?"
		kp_stop || echo "keep-paths: $?"'
	assert_success
	assert_output "failed: 1
keep-paths: 69"
	[[ $stderr == *"kp_hold: keep-paths "@(is not running|exited)* ]]
}

@test "with-kept-paths runs a shell function with the paths held" {
	p=$(kp_add wrapped)
	lib_script '
		check() { nix-store --gc >/dev/null 2>&1; test -e "$1"; echo "held $1"; return 3; }
		rc=0
		with-kept-paths --store daemon "$1" -- check "$1" || rc=$?
		echo "status $rc"' _ "$p"
	assert_success
	assert_output "held $p
status 3"
	kp_gc_until_gone "$p"
}

@test "with-kept-paths passes --store-timeout and --barrier with their values, not as paths" {
	p=$(kp_add timed)
	lib_script 'with-kept-paths --store-timeout 30s --barrier always \
	    --store daemon "$1" -- echo ran' _ "$p"
	assert_success
	assert_output "ran"
	assert_equal "$stderr" ""
}

@test "with-kept-paths: 65 without running the command if a path is not held; 64 for usage" {
	absent="$NIX_STORE_DIR/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-absent"
	lib_script 'with-kept-paths "$1" -- echo ran' _ "$absent"
	assert_failure 65
	assert_output ""
	assert_equal "$stderr" "kp_hold: missing $absent"
	lib_script 'with-kept-paths /x'
	assert_failure 64
	assert_equal "$stderr" "usage: with-kept-paths [OPTION...] PATH... -- COMMAND [ARG...]"
}
