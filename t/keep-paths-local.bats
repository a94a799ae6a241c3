#!/usr/bin/env bats
# The local store back end: keep-paths writes the store's own temp-roots
# file, with no daemon at all; every proof is the real nix-store --gc.

load helpers

setup_file() {
	kp_store_setup
}

teardown() {
	local rc=0
	[ -z "${fakepids:-}" ] || kill $fakepids 2>/dev/null || true
	kp_teardown || rc=$?
	[ -z "${tmpfs:-}" ] || umount "$tmpfs" 2>/dev/null || true
	return "$rc"
}

# The temp-roots file of the keep-paths started by kp_start.
kp_file() {
	echo "$NIX_STATE_DIR/temproots/$KP_PID_SAVED"
}

# The records of a temp-roots file, one per line (NUL-terminated on disk).
records() {
	tr '\0' '\n' <"$1"
}

# A stand-in collector's socket at gc-socket/socket: it logs every line it
# receives to $BATS_TEST_TMPDIR/told, answers "1" to each as Nix's does,
# and keeps the connection until it is killed, as a collector keeps it to
# its end.
fake_gc_socket() {
	mkdir -p "$NIX_STATE_DIR/gc-socket"
	rm -f "$NIX_STATE_DIR/gc-socket/socket"
	: >"$BATS_TEST_TMPDIR/told"
	perl -MIO::Socket::UNIX -e '
		$| = 1;
		my $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 5)
		    or die "listen: $!";
		open(my $log, ">>", $ARGV[1]) or die;
		$log->autoflush(1);
		while (my $c = $s->accept) {
			print $log "connect\n";
			while (my $line = <$c>) { print $log $line; print $c "1" }
		}
	' "$NIX_STATE_DIR/gc-socket/socket" "$BATS_TEST_TMPDIR/told" 3>&- &
	fakepids="${fakepids:-} $!"
	fake_socket_pid=$!
	kp_wait_until -S "$NIX_STATE_DIR/gc-socket/socket"
}

@test "auto chooses the local store when the state directory is writable, and says why" {
	run -0 "$KEEP_PATHS" --print-store
	assert_output "local $NIX_STATE_DIR (auto: $NIX_STATE_DIR is writable)"
	NIX_REMOTE=daemon run -0 "$KEEP_PATHS" --print-store
	assert_output "daemon $NIX_STATE_DIR/daemon-socket/socket (NIX_REMOTE=daemon)"
	# Someone who cannot write the state directory gets the daemon.
	XDG_CONFIG_HOME=/nonexistent run -0 setpriv --reuid=65534 \
	    --regid=65534 --clear-groups "$KEEP_PATHS" --print-store
	assert_output --partial "daemon $NIX_STATE_DIR/daemon-socket/socket (auto: $NIX_STATE_DIR is not writable"
	p=$(kp_add verbose)
	run -0 --separate-stderr "$KEEP_PATHS" -v "$p" </dev/null
	assert_equal "$stderr" "keep-paths: store: local $NIX_STATE_DIR (auto: $NIX_STATE_DIR is writable)"
}

@test "--store local, local?root=, local?state= and a chroot DIR name their state directory" {
	run -0 "$KEEP_PATHS" --store local --print-store
	assert_output "local $NIX_STATE_DIR (--store local)"
	run -0 "$KEEP_PATHS" --store 'local?root=/r' --print-store
	assert_output "local /r/nix/var/nix (--store local?root=/r)"
	run -0 "$KEEP_PATHS" --store 'local?root=/r&state=/s' --print-store
	assert_output "local /s (--store local?root=/r&state=/s)"
	run -0 "$KEEP_PATHS" --store /r//x/../y/ --print-store
	assert_output "local /r/y/nix/var/nix (--store /r//x/../y/)"
	NIX_REMOTE=local run -0 "$KEEP_PATHS" --print-store
	assert_output "local $NIX_STATE_DIR (NIX_REMOTE=local)"
	run -64 --separate-stderr "$KEEP_PATHS" --store 'local?real=/x' --print-store
	assert_equal "$stderr" "keep-paths: local?real=/x: unsupported parameter \"real\" (keep-paths knows root=/DIR and state=/DIR)"
}

@test "a held path survives the GC in its own temp-roots file, and is collected after EOF" {
	kp_hold_fresh held --store local
	f=$(kp_file)
	# Named by the pid, one NUL-terminated record, under flock(LOCK_EX).
	run records "$f"
	assert_output "$p"
	assert_equal "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" 00
	run ! flock -n -s "$f" true
	kp_gc
	assert [ -e "$p" ]
	kp_stop
	assert_equal "$kp_status" 0
	refute [ -e "$f" ]
	kp_gc
	refute [ -e "$p" ]
}

@test "each path is recorded once per session; refused lines never reach the file" {
	p=$(kp_add once)
	kp_start --store local
	kp_send "$p" "$p/sub/dir" "/etc/passwd" "$NIX_STORE_DIR/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-badhash"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_reply; assert_equal "$reply" "error /etc/passwd: not in the Nix store $NIX_STORE_DIR"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-badhash: illegal base-32 character 'e' in the hash"
	kp_send "$p"
	kp_reply; assert_equal "$reply" "ok $p"
	run records "$(kp_file)"
	assert_output "$p"
	# Every collection still works: no record it could not parse.
	kp_gc
	assert [ -e "$p" ]
	kp_stop
}

@test "a missing path is rooted: built later, it is protected" {
	kp_start --store local
	p=$(kp_add later "built later")
	nix-store --delete "$p" >/dev/null 2>&1
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "missing $p"
	q=$(kp_add later "built later")
	assert_equal "$q" "$p"
	kp_gc
	assert [ -e "$p" ]
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
}

@test "no collector running: the collector's socket is never contacted" {
	fake_gc_socket
	kp_hold_fresh quiet-gc --store local
	kp_stop
	run cat "$BATS_TEST_TMPDIR/told"
	assert_output ""
}

@test "a collector running: the path is sent to its socket, and the reply waits for its end" {
	fake_gc_socket
	p=$(kp_add told-gc)
	# A stand-in collector: holds gc.lock exclusively, as nix-store --gc.
	perl -MFcntl=:flock -e 'open(my $f, ">>", $ARGV[0]) or die;
	    flock($f, LOCK_EX) or die; sleep 60' "$NIX_STATE_DIR/gc.lock" 3>&- &
	lockpid=$!
	fakepids="$fakepids $lockpid"
	kp_wait_cmd gc_lock_held
	kp_start --store local
	kp_send "$p"
	kp_wait_until -s "$BATS_TEST_TMPDIR/told"
	sleep 0.2
	run cat "$BATS_TEST_TMPDIR/told"
	assert_output "connect
$p"
	# Still collecting: no reply yet, whatever the socket answered.
	run ! read -r -t 1 reply <&"$KP_OUT"
	# The collection ends: lock released, then the collector hangs up.
	kill "$lockpid"
	kill "$fake_socket_pid"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
}

@test "a real collection running while keep-paths registers: the path survives it" {
	kp_root_during_paused_gc during-gc --store local
	kp_stop
	kp_gc
	refute [ -e "$p" ]
}

@test "the collector's own race (Nix 2.5 to 2.34, Lix): a path rooted while its component is deleted is answered honestly" {
	kp_component_race --store local
	kp_stop
	assert_equal "$kp_status" 0
}

@test "a stalled collector does not stop EOF from ending the session" {
	kp_eof_during_paused_gc stalled --store local
	refute [ -e "$NIX_STATE_DIR/temproots/$KP_PID_SAVED" ]
	gc_resume
}

@test "a SIGKILLed keep-paths leaves a stale file: the next GC removes it and collects" {
	kp_hold_fresh killed --store local
	f=$(kp_file)
	kill -KILL "$KP_PID_SAVED"
	wait "$KP_PID_SAVED" || true
	assert [ -e "$f" ]
	kp_gc
	refute [ -e "$f" ]
	refute [ -e "$p" ]
	# Nix 2.8 and 2.26 quote the file with '…', 2.34 with "…".
	grep -qF -e "removing stale temporary roots file '$f'" \
	    -e "removing stale temporary roots file \"$f\"" "$KP_NIX/gc.log"
}

@test "the temp-roots file removed under keep-paths: 'lost', a loud message, exit 75" {
	kp_hold_fresh removed --store local
	f=$(kp_file)
	rm "$f"
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 75
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $f: removed or renamed by another process: collections no longer see its roots"
	assert_line "keep-paths: LOST 1 root: the store no longer protects it"
}

@test "an unusable state directory, or another store's, is refused at start: exit 69" {
	run -69 --separate-stderr "$KEEP_PATHS" --store "local?state=$BATS_TEST_TMPDIR/none"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/none/gc.lock: No such file or directory"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -69 --separate-stderr "$KEEP_PATHS" --store "local?state=$BATS_TEST_TMPDIR/empty"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/empty/db/db.sqlite: unable to open database file"
	mkdir "$BATS_TEST_TMPDIR/empty/db"
	printf 'SQLite format 3\0' >"$BATS_TEST_TMPDIR/empty/db/db.sqlite"
	run -69 --separate-stderr "$KEEP_PATHS" --store "local?state=$BATS_TEST_TMPDIR/empty"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/empty/db/db.sqlite: file is not a database"
	rm "$BATS_TEST_TMPDIR/empty/db/db.sqlite"
	sqlite3 "$BATS_TEST_TMPDIR/empty/db/db.sqlite" 'CREATE TABLE Other (x)'
	run -69 --separate-stderr "$KEEP_PATHS" --store "local?state=$BATS_TEST_TMPDIR/empty"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/empty/db/db.sqlite: no such table: ValidPaths"
	p=$(kp_add other)
	NIX_STORE_DIR=/other/store run -69 --separate-stderr "$KEEP_PATHS" --store local </dev/null
	[[ "$stderr" == *"/db/db.sqlite: registers $NIX_STORE_DIR/"*", which is not in /other/store (set NIX_STORE_DIR to its store)" ]]
}

# Holds the store's database locked against every reader, as a writer's
# checkpoint does for a moment, until db_unlock kills the holder ($dbpid).
db_locked() {
	rm -f "$BATS_TEST_TMPDIR/dbcmd" "$BATS_TEST_TMPDIR/dbout"
	mkfifo "$BATS_TEST_TMPDIR/dbcmd"
	sqlite3 "$NIX_STATE_DIR/db/db.sqlite" <"$BATS_TEST_TMPDIR/dbcmd" \
	    >"$BATS_TEST_TMPDIR/dbout" 2>&1 3>&- &
	dbpid=$!
	fakepids="${fakepids:-} $dbpid"
	exec {dbcmd}>"$BATS_TEST_TMPDIR/dbcmd"
	echo "PRAGMA locking_mode=EXCLUSIVE; SELECT count(*) FROM ValidPaths;" \
	    "SELECT 'locked';" >&"$dbcmd"
	kp_wait_cmd grep -qx locked "$BATS_TEST_TMPDIR/dbout"
	run ! sqlite3 -readonly "$NIX_STATE_DIR/db/db.sqlite" 'SELECT 1 FROM ValidPaths'
}

db_unlock() {
	kill -KILL "$dbpid"
	wait "$dbpid" || true
	exec {dbcmd}>&-
}

@test "the database locked at start: keep-paths waits (EOF still honoured), then roots; --connect-timeout bounds it" {
	command -v sqlite3 >/dev/null || skip "no sqlite3 (Debian: sqlite3)"
	p=$(kp_add db-locked)
	db_locked
	kp_start --store local
	kp_send "$p"
	run ! read -r -t 1 reply <&"$KP_OUT"
	db_unlock
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
	assert_equal "$kp_status" 0
	# Locked for good: EOF ends the wait at once, and a deadline ends it.
	db_locked
	stdin_open
	run -69 --separate-stderr "$KEEP_PATHS" --store local --connect-timeout 1 "$p" <&"$hold"
	assert_equal "$stderr" "keep-paths: the store did not answer within 1 s"
	run -0 --separate-stderr timeout 5 "$KEEP_PATHS" --store local </dev/null
	db_unlock
	run ! grep -rq . "$NIX_STATE_DIR/temproots"
}

@test "a chroot store: --store DIR holds paths its own nix-store --gc would collect" {
	root="$BATS_TEST_TMPDIR/chroot"
	echo "chrooted $RANDOM" >"$BATS_TEST_TMPDIR/c"
	p=$(nix-store --store "$root" --add "$BATS_TEST_TMPDIR/c")
	kp_start --store "$root"
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	assert [ -e "$root/nix/var/nix/temproots/$KP_PID_SAVED" ]
	# Paths keep their logical names; the files are under the root.
	real="$root/nix/store/${p##*/}"
	assert [ -e "$real" ]
	nix-store --store "$root" --gc >/dev/null 2>&1
	assert [ -e "$real" ]
	kp_stop
	nix-store --store "$root" --gc >/dev/null 2>&1
	refute [ -e "$real" ]
}

@test "a full disk under temproots/: error replies for what did not fit, whole records only, the session goes on" {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	t="$NIX_STATE_DIR/temproots"
	mkdir -p "$t"
	p=$(kp_add fits)
	q=$(kp_add after)
	mount -t tmpfs -o size=4k tmpfs "$t" || skip "cannot mount a tmpfs here"
	tmpfs=$t
	kp_start --store local
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	# 200 more records do not fit in 4 KiB: those get errors, in order.
	kp_send_until_full 200 full "error *: No space left on device"
	# What is in the file is whole, NUL-terminated records: a collection
	# reads it without failing, and the first path survives it.
	f=$(kp_file)
	assert_equal "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" 00
	assert_equal "$(records "$f" | wc -l)" $((rooted + 1))
	kp_gc
	assert [ -e "$p" ]
	# The session goes on: the next request is answered ($q was not
	# held, so that collection took it).
	kp_send "$q"
	kp_reply
	[[ $reply == "missing $q" || $reply == *"No space left on device" ]] ||
	    fail "reply: $reply"
	kp_stop
	assert_equal "$kp_status" 0
	refute [ -e "$f" ]
	umount "$t"
	tmpfs=
	kp_gc
	refute [ -e "$p" ]
}

@test "keep-paths SIGKILLed in the middle of a batch: no stale roots once its file is found dead" {
	kp_unbuilt_paths 2000 mid >"$BATS_TEST_TMPDIR/many"
	kp_hold_fresh mid --store local
	cat "$BATS_TEST_TMPDIR/many" >&"$KP_IN" &
	writer=$!
	f=$(kp_file)
	grown() { [ "$(stat -c %s "$f")" -gt 1000 ]; }
	kp_wait_cmd grown
	kill -KILL "$KP_PID_SAVED"
	wait "$KP_PID_SAVED" || true
	kill "$writer" 2>/dev/null || true
	# The next collection finds the file unlocked: it removes it, and
	# collects the path.
	kp_gc
	refute [ -e "$f" ]
	refute [ -e "$p" ]
	run ! grep -rq . "$NIX_STATE_DIR/temproots"
}

@test "requests from a file: every reply is written before the end, not dropped at EOF" {
	p=$(kp_add from-file)
	printf '%s\n' "$p" "$p" not-a-path >"$BATS_TEST_TMPDIR/requests"
	for i in 1 2 3; do
		run -0 --separate-stderr "$KEEP_PATHS" --store local <"$BATS_TEST_TMPDIR/requests"
		assert_equal "${#lines[@]}" 3
		assert_line --index 0 "ok $p"
		assert_line --index 2 --partial "error not-a-path:"
	done
}
