#!/usr/bin/env bats
# The GC race proof (t/stress.bash) for sessions that drop roots as they
# go: every root that stays must survive each make-before-break.

load helpers
load stress

@test "stress, daemon back end with drops: every root that stays survives each drop" {
	STRESS_DROP=1 stress daemon
}

@test "stress, ssh-ng back end, with drops: no ok path is collected on the remote store while held" {
	kp_sshd_start
	kp_need_sshd
	remote_nix_store --gc >/dev/null 2>&1
	STRESS_REMOTE=1 STRESS_DROP=1 stress "$KP_SSH"
}
