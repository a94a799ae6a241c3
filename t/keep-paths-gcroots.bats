#!/usr/bin/env bats
# keep-paths --store gcroots: durable session roots.  A held path survives
# nix-store --gc; after SIGKILL of keep-paths it still survives; after a
# sweep it is collected.

load helpers

: "${KEEP_PATHS_SWEEP:=${KEEP_PATHS%/*}/keep-paths-sweep}"

setup_file() {
	kp_store_setup
	kp_gc	# the store's database exists
}

teardown() {
	local rc=0
	kp_teardown || rc=$?
	[ -z "${tmpfs:-}" ] || umount "$tmpfs" 2>/dev/null || true
	return "$rc"
}

sessions() {
	echo "$NIX_STATE_DIR/gcroots/per-user/$(id -un)/keep-paths"
}

@test "--print-store: gcroots over the store auto chooses" {
	run -0 "$KEEP_PATHS" --store gcroots --print-store
	assert_output "gcroots $(sessions) over local $NIX_STATE_DIR (auto: $NIX_STATE_DIR is writable)"
	run -0 "$KEEP_PATHS" --store "gcroots?dir=/srv/s" --print-store
	assert_output --partial "gcroots /srv/s over local"
	run -64 "$KEEP_PATHS" --store "gcroots?foo" --print-store
	# The temporary roots follow NIX_REMOTE, as auto does; links are local.
	NIX_REMOTE=daemon run -0 "$KEEP_PATHS" --store gcroots --print-store
	assert_output "gcroots $(sessions) over daemon $NIX_STATE_DIR/daemon-socket/socket (NIX_REMOTE=daemon)"
	NIX_REMOTE=ssh-ng://h run -64 --separate-stderr "$KEEP_PATHS" --store gcroots --print-store
	assert_equal "$stderr" "keep-paths: gcroots: session links are local, and the store (ssh-ng://h) is not"
	NIX_REMOTE=gcroots run -64 --separate-stderr "$KEEP_PATHS" --store gcroots --print-store
	assert_equal "$stderr" "keep-paths: NIX_REMOTE=gcroots: not a Nix store"
}

@test "a sessions root that is a symbolic link is refused, as keep-paths-sweep refuses it" {
	mkdir "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/link"
	run -69 --separate-stderr "$KEEP_PATHS" --store "gcroots?dir=$BATS_TEST_TMPDIR/link" -- true
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/link: a symbolic link on its path: a sessions root must be reached through directories only, as no sweeper follows a link"
	run ls -A "$BATS_TEST_TMPDIR/real"
	assert_output ""
	# A link anywhere on its path, as a swapped per-user directory is.
	mkdir -p "$BATS_TEST_TMPDIR/real/keep-paths/old-1-0123abcd"
	touch -d '2 days ago' "$BATS_TEST_TMPDIR/real/keep-paths/old-1-0123abcd"
	run -69 --separate-stderr "$KEEP_PATHS" --store "gcroots?dir=$BATS_TEST_TMPDIR/link/keep-paths" -- true
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/link/keep-paths: a symbolic link on its path: a sessions root must be reached through directories only, as no sweeper follows a link"
	run ls -A "$BATS_TEST_TMPDIR/real/keep-paths"
	assert_output "old-1-0123abcd"
}

@test "gcroots: the session links go where the chosen local store's collector looks" {
	user=$(id -un)
	# A chroot store's collector scans ROOT/nix/var/nix/gcroots, not ours.
	NIX_REMOTE=$BATS_TEST_TMPDIR/chroot run -0 "$KEEP_PATHS" --store gcroots --print-store
	assert_output "gcroots $BATS_TEST_TMPDIR/chroot/nix/var/nix/gcroots/per-user/$user/keep-paths over local $BATS_TEST_TMPDIR/chroot/nix/var/nix (NIX_REMOTE=$BATS_TEST_TMPDIR/chroot)"
	conf="$BATS_TEST_TMPDIR/etc"
	mkdir -p "$conf"
	printf 'store = local?state=%s/st\n' "$BATS_TEST_TMPDIR" >"$conf/nix.conf"
	NIX_CONF_DIR=$conf run -0 "$KEEP_PATHS" --store gcroots --print-store
	assert_output "gcroots $BATS_TEST_TMPDIR/st/gcroots/per-user/$user/keep-paths over local $BATS_TEST_TMPDIR/st (store = local?state=$BATS_TEST_TMPDIR/st in $conf/nix.conf)"
	printf 'store = gcroots\n' >"$conf/nix.conf"
	NIX_CONF_DIR=$conf run -64 --separate-stderr "$KEEP_PATHS" --store gcroots --print-store
	assert_equal "$stderr" "keep-paths: store = gcroots in $conf/nix.conf: not a Nix store"
}

@test "a held path survives the GC, and its session is removed on release" {
	kp_hold_fresh held --store gcroots
	run find "$(sessions)" -mindepth 2 -type l
	assert_output "$(sessions)/keep-paths-$KP_PID_SAVED-"*"/${p##*/}"
	[ "$(readlink "$(sessions)"/keep-paths-*/"${p##*/}")" = "$p" ]
	kp_gc
	assert [ -e "$p" ]
	kp_stop
	assert_equal "$kp_status" 0
	run ls -A "$(sessions)"
	assert_output ""
	kp_gc
	refute [ -e "$p" ]
}

@test "after SIGKILL the session keeps its roots; a sweep then lets them go" {
	kp_hold_fresh durable --store gcroots
	kill -KILL "$KP_PID_SAVED"
	wait "$KP_PID_SAVED" || true
	# The temp roots died with it; the session's link did not.
	kp_gc
	assert [ -e "$p" ]
	kp_gc
	assert [ -e "$p" ]
	run -0 "$KEEP_PATHS_SWEEP" --min-age 0 "$(sessions)"
	assert_line --partial "deleted $(sessions)/keep-paths-$KP_PID_SAVED-"
	kp_gc
	refute [ -e "$p" ]
}

@test "keep-paths sweeps stale sibling sessions at start, never its own, and tells its children" {
	p=$(kp_add stale)
	kp_start --store gcroots
	kp_send "$p"
	kp_reply
	kill -KILL "$KP_PID_SAVED"
	wait "$KP_PID_SAVED" || true
	printf '[sweep]\nmin-age = 0\n' >"$BATS_TEST_TMPDIR/conf"
	q=$(kp_add own)
	run -0 "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/conf" --store gcroots "$q" -- \
	    sh -c 'echo "session=$KEEP_PATHS_SESSION"; '"$KEEP_PATHS_SWEEP"' --min-age 0 -v "$1"' sh "$(sessions)"
	assert_line --regexp "^session=$(sessions)/keep-paths-[0-9]+-[0-9a-f]+$"
	assert_line --regexp "^kept-self $(sessions)/keep-paths-[0-9]+-[0-9a-f]+: the caller's own session$"
	refute_line --regexp "^deleted"
	kp_gc
	refute [ -e "$p" ]
	run ls -A "$(sessions)"
	assert_output ""
}

@test "no fd of keep-paths' is a path a collector cannot read, though its sessions root is long and a stale session below it deeper than PATH_MAX" {
	root=$BATS_TEST_TMPDIR
	for c in r s t u; do root=$root/$(printf "$c%.0s" $(seq 200)); done
	mkdir -p "$root/keep-paths-1-0000dead"
	# 30 levels of 200-byte names below it: 6 KiB more; the files at the
	# bottom keep the start-up sweep there long enough to be seen.
	deep_tree "$root/keep-paths-1-0000dead" 30 "$(printf 'x%.0s' $(seq 200))" 20000
	printf '[sweep]\nmin-age = 0\n' >"$BATS_TEST_TMPDIR/conf"
	p=$(kp_add long-fds)
	kp_start --config "$BATS_TEST_TMPDIR/conf" --store "gcroots?dir=$root"
	# Not holding keep-paths' stdin open: its end of file is the release.
	proc_fd_probe "$KP_PID_SAVED" >"$BATS_TEST_TMPDIR/probe" 2>&1 \
	    {KP_IN}>&- {KP_OUT}<&- &
	probe=$!
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
	wait "$probe"
	run cat "$BATS_TEST_TMPDIR/probe"
	assert_output --regexp "^looked [1-9][0-9]* times$"
	run ls -A "$root"
	assert_output ""
}

@test "a full disk under the sessions: error replies for what could not be linked, the session goes on" {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	s=$(sessions)
	mkdir -p "$s"
	# Room for the session directory and a few links: one inode each.
	mount -t tmpfs -o nr_inodes=16 tmpfs "$s" || skip "cannot mount a tmpfs here"
	tmpfs=$s
	p=$(kp_add linked)
	kp_start --store gcroots
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_send_until_full 50 full \
	    "error *: cannot link it in $s/keep-paths-*: No space left on device"
	# One link per path: some fitted.
	(( rooted > 0 ))
	# What was refused was not rooted at all: no link, no temp root.
	assert_equal "$(find "$s" -type l | wc -l)" $((rooted + 1))
	assert_equal "$(tr '\0' '\n' <"$NIX_STATE_DIR/temproots/$KP_PID_SAVED" | wc -l)" $((rooted + 1))
	kp_gc
	assert [ -e "$p" ]
	kp_stop
	assert_equal "$kp_status" 0
	run ls -A "$s"
	assert_output ""
	umount "$s"
	tmpfs=
	kp_gc
	refute [ -e "$p" ]
}
