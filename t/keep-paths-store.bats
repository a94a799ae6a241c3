#!/usr/bin/env bats
# The store connection: unreachable, wrong, dropped, and busy collecting.

load helpers

@test "no daemon listening: a clear error and exit 69" {
	run -69 --separate-stderr "$KEEP_PATHS" --store "unix://$BATS_TEST_TMPDIR/none"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/none: No such file or directory (is nix-daemon running?)"
}

@test "--store unix://PATH, NIX_REMOTE and NIX_DAEMON_SOCKET_PATH reach the daemon" {
	p=$(kp_add uri)
	kp_start --store "unix://$KP_SOCKET" "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
	NIX_REMOTE="unix://$KP_SOCKET" kp_start "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
	NIX_DAEMON_SOCKET_PATH="$KP_SOCKET" NIX_STATE_DIR=/nonexistent \
	    kp_start --store daemon "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
}

@test "an unsupported store is a usage error" {
	run -64 --separate-stderr "$KEEP_PATHS" --store s3://bucket
	assert_equal "$stderr" "keep-paths: s3://bucket: unsupported store (use auto, daemon, unix:///path/to/socket, local, local?root=/DIR, /DIR, ssh-ng://[USER@]HOST[:PORT] or gcroots)"
}

@test "a store path or URI too long for keep-paths: a usage error naming it, never a truncated path" {
	long=/$(printf 'd%.0s' $(seq 1100))
	run -64 --separate-stderr "$KEEP_PATHS" --print-store --store "local?state=$long"
	assert_equal "$stderr" "keep-paths: --store local?state=${long:0:52}...: the URI is longer than 1023 bytes"
	assert_output ""
	# A root that fits, whose state directory does not (ROOT/nix/var/nix).
	root=${long:0:1012}
	run -64 --separate-stderr "$KEEP_PATHS" --print-store --store "local?root=$root"
	assert_equal "$stderr" "keep-paths: --store local?root=${root:0:53}...: the state directory is longer than 1023 bytes"
	NIX_STATE_DIR=$long run -64 --separate-stderr "$KEEP_PATHS" --print-store --store daemon
	assert_equal "$stderr" "keep-paths: NIX_STATE_DIR=${long:0:64}...: its daemon socket is longer than 1023 bytes"
	# gcroots would have made (mkdir -p) a cut-off directory.
	cd "$BATS_TEST_TMPDIR"
	run -64 --separate-stderr "$KEEP_PATHS" --store "gcroots?dir=$BATS_TEST_TMPDIR$long" -- true
	[[ "$stderr" == "keep-paths: --store gcroots?dir=/"*"...: the sessions directory is longer than 1023 bytes" ]]
	run -0 find "$BATS_TEST_TMPDIR" -name 'ddd*'
	assert_output ""
}

# The store Nix's own clients would use: nix show-config's "store".
nix_store_setting() {
	{ nix --extra-experimental-features nix-command config show store 2>/dev/null ||
	    nix --extra-experimental-features nix-command show-config 2>/dev/null |
	    sed -n 's/^store = //p'; } | head -n 1
}

@test "auto is what Nix's clients use: nix.conf's store, then NIX_REMOTE (checked against nix itself)" {
	conf="$BATS_TEST_TMPDIR/etc"
	mkdir -p "$conf" "$XDG_CONFIG_HOME/nix"
	cp "$NIX_CONF_DIR/nix.conf" "$conf/"
	printf 'store = unix://%s # the test daemon\n' "$KP_SOCKET" >>"$conf/nix.conf"
	NIX_CONF_DIR=$conf NIX_REMOTE=local run -0 "$KEEP_PATHS" --print-store
	assert_output "daemon $KP_SOCKET (store = unix://$KP_SOCKET in $conf/nix.conf)"
	# Nix agrees: the file beats NIX_REMOTE.
	NIX_CONF_DIR=$conf NIX_REMOTE=local run -0 nix_store_setting
	assert_output "unix://$KP_SOCKET"
	# The user's file beats the system's; NIX_CONFIG beats both.
	printf 'include more.conf\n' >"$XDG_CONFIG_HOME/nix/nix.conf"
	printf 'store = local?state=%s/user\n' "$BATS_TEST_TMPDIR" >"$XDG_CONFIG_HOME/nix/more.conf"
	NIX_CONF_DIR=$conf run -0 "$KEEP_PATHS" --print-store
	assert_output "local $BATS_TEST_TMPDIR/user (store = local?state=$BATS_TEST_TMPDIR/user in $XDG_CONFIG_HOME/nix/more.conf)"
	NIX_CONF_DIR=$conf run -0 nix_store_setting
	assert_output --partial "$BATS_TEST_TMPDIR/user"
	NIX_CONF_DIR=$conf NIX_CONFIG="store = daemon" run -0 "$KEEP_PATHS" --print-store
	assert_output --partial "(store = daemon in NIX_CONFIG)"
	rm "$XDG_CONFIG_HOME/nix/nix.conf" "$XDG_CONFIG_HOME/nix/more.conf"
	# And the choice is used: the root is the test daemon's.
	p=$(kp_add from-nix-conf)
	NIX_CONF_DIR=$conf kp_start "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_gc
	assert [ -e "$p" ]
	kp_stop
	kp_gc_until_gone "$p"
	# An include loop is an error, not a hang.
	printf 'include nix.conf\n' >"$conf/nix.conf"
	NIX_CONF_DIR=$conf run -64 --separate-stderr "$KEEP_PATHS" --print-store
	assert_equal "$stderr" "keep-paths: $conf/nix.conf: included 17 levels deep (an include loop?)"
}

@test "a daemon serving another store directory is refused before any root" {
	stdin_open
	NIX_STORE_DIR=/other/store run -69 --separate-stderr "$KEEP_PATHS" \
	    --store "unix://$KP_SOCKET" <&"$hold"
	[[ "$stderr" == *"the daemon refused a path under /other/store (does it serve another store directory?)"* ]]
	[[ "$stderr" == *"is not in the Nix store"* ]]
}

@test "a socket that is not a Nix daemon: protocol error, exit 76" {
	fake_listener "$BATS_TEST_TMPDIR/fake" "HTTP/1.1 400 Bad Request"
	stdin_open
	run -76 --separate-stderr "$KEEP_PATHS" --store "unix://$BATS_TEST_TMPDIR/fake" <&"$hold"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/fake: not a Nix daemon (bad magic number)"
}

@test "a non-daemon's answer is read even when our hello meets its hang-up (EPIPE)" {
	need_strace
	fake_listener "$BATS_TEST_TMPDIR/fake" "HTTP/1.1 400 Bad Request" 0.1
	stdin_open
	run -76 --separate-stderr slow_writes "$KEEP_PATHS" \
	    --store "unix://$BATS_TEST_TMPDIR/fake" <&"$hold"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/fake: not a Nix daemon (bad magic number)"
}

@test "a listener that hangs up before our hello is written: end of file, exit 69" {
	need_strace
	fake_listener "$BATS_TEST_TMPDIR/fake" "" 0.1
	stdin_open
	run -69 --separate-stderr slow_writes "$KEEP_PATHS" \
	    --store "unix://$BATS_TEST_TMPDIR/fake" <&"$hold"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/fake: the connection closed during the handshake: end of file"
}

@test "a listener that hangs up during the handshake: exit 69" {
	fake_listener "$BATS_TEST_TMPDIR/fake" ""
	stdin_open
	run -69 --separate-stderr "$KEEP_PATHS" --store "unix://$BATS_TEST_TMPDIR/fake" <&"$hold"
	# End of file, or a reset if our hello was still unread.
	[[ "$stderr" == "keep-paths: $BATS_TEST_TMPDIR/fake: the connection closed during the handshake: "@(end of file|Connection reset by peer) ]]
}

# The waiting itself is under test: --barrier=always, whatever the Nix.
@test "a request during a running collection is answered after it (--barrier=always), and survives it" {
	kp_root_during_paused_gc during-gc --barrier=always
	kp_stop
	assert_equal "$kp_status" 0
}

# What each Nix must get: Nix 2.35's collector checks the temp roots again
# before each deletion, so no barrier is sent and the reply comes while the
# collection still runs; older ones (and Lix) wait for its end.
@test "--barrier=auto: during a running collection, Nix 2.35 and later answer at once and the path survives; older ones wait" {
	if ! nix_at_least 2.35; then
		kp_root_during_paused_gc during-gc-auto
		kp_stop
		assert_equal "$kp_status" 0
		return
	fi
	p=$(kp_add during-gc-auto)
	gc_paused
	kp_start
	kp_send "$p"
	# No barrier: the reply, with the collection still paused.
	kp_reply 10
	assert_equal "$reply" "ok $p"
	gc_at_pause
	gc_resume
	assert [ -e "$p" ]
	kp_gc
	assert [ -e "$p" ]
	kp_stop
	assert_equal "$kp_status" 0
}

@test "the collector's own race (Nix 2.5 to 2.34, Lix): a path rooted while its component is deleted is answered honestly" {
	kp_component_race
	kp_stop
	assert_equal "$kp_status" 0
}

@test "EOF is honoured while waiting for a running collection (--barrier=always)" {
	kp_eof_during_paused_gc eof-during-gc --barrier=always
	gc_resume
}

@test "--no-reconnect: the daemon killed while roots are held: 'lost', a loud message, exit 75" {
	kp_hold_fresh lost --no-reconnect
	dpid=$(cat "$KP_NIX/daemon.pid")
	pkill -KILL -P "$dpid"
	kill -KILL "$dpid" 2>/dev/null
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 75
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line --partial "$KP_SOCKET: connection to the daemon lost"
	assert_line "keep-paths: LOST 1 root: the store no longer protects it"
	kp_daemon_start
}

@test "--no-reconnect: the daemon killed while -- COMMAND runs: the command finishes, exit 75" {
	p=$(kp_add lost-cmd)
	dpid=$(cat "$KP_NIX/daemon.pid")
	run -75 --separate-stderr "$KEEP_PATHS" --no-reconnect "$p" -- sh -c \
	    'pkill -KILL -P "$1"; kill -KILL "$1" 2>/dev/null; sleep 1; echo finished' sh "$dpid"
	assert_output "finished"
	[[ "$stderr" == *"LOST 1 root"* ]]
	kp_daemon_start
}

@test "a daemon that stops answering: --store-timeout, then 'lost', exit 75, nothing left behind" {
	p=$(kp_add stopped)
	q=$(kp_add unanswered)
	dpid=$(cat "$KP_NIX/daemon.pid")
	kp_start --store daemon --store-timeout 1s
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	worker=$(pgrep -n -P "$dpid")
	kill -STOP "$worker"
	kp_send "$q"
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	kill -CONT "$worker"
	assert_equal "$kp_status" 75
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: the store did not answer within 1 s (--store-timeout)"
	# The one acked, and the one perhaps registered before the silence.
	assert_line "keep-paths: LOST 2 roots: the store no longer protects them"
	# The worker, woken, reads end of file and goes, with its roots.
	kp_wait_gone "$worker"
	kp_gc_until_gone "$p"
}

@test "by default a daemon restarted (killed, back 1 s later) costs nothing: the session goes on" {
	p=$(kp_add kept)
	q=$(kp_add later)
	kp_start --store daemon
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	daemon_crash
	sleep 1
	kp_daemon_start
	kp_send "$q"
	kp_reply
	assert_equal "$reply" "ok $q"
	kp_gc
	assert [ -e "$p" ]
	assert [ -e "$q" ]
	kp_stop
	assert_equal "$kp_status" 0
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $KP_SOCKET: connection lost: end of file; reconnecting"
	assert_line "keep-paths: $KP_SOCKET: reconnected; 1 root held again"
	kp_gc_until_gone "$p"
	kp_gc_until_gone "$q"
}

@test "reconnect = no in the config: a dropped connection ends the session" {
	printf 'reconnect = no\n' >"$BATS_TEST_TMPDIR/conf"
	kp_hold_fresh config-no --store daemon --config "$BATS_TEST_TMPDIR/conf"
	daemon_crash
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 75
	kp_daemon_start
}

@test "reconnecting: each acked root collected in the gap is said ('lost PATH'), exit 75" {
	p=$(kp_add collected)
	q=$(kp_add collected-too)
	kp_start --store daemon
	kp_send "$p" "$q"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_reply
	assert_equal "$reply" "ok $q"
	daemon_crash
	# Nothing holds them now: a collection in the gap takes them.
	NIX_REMOTE=local nix-store --gc >/dev/null 2>&1
	refute [ -e "$p" ]
	refute [ -e "$q" ]
	kp_daemon_start
	kp_reply
	r1=$reply
	kp_reply
	r2=$reply
	run -0 sort <<<"$r1"$'\n'"$r2"
	assert_output "$(printf 'lost %s\n' "$p" "$q" | sort)"
	kp_stop
	assert_equal "$kp_status" 75
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line --regexp "^keep-paths: $KP_SOCKET: reconnected, but 2 roots acked before had been collected meanwhile, .* among them$"
	assert_line "keep-paths: LOST 2 roots: the store no longer protects them"
}

# The daemon crashes and stays away: after SECONDS, keep-paths (started
# with the other arguments) says "lost" and exits 75; kp.err is in $output.
lost_after_window() {
	local seconds=$1 name=$2
	shift 2
	kp_hold_fresh "$name" --store daemon "$@"
	daemon_crash
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 75
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line --partial "keep-paths: $KP_SOCKET: could not reconnect within $seconds s: "
	kp_daemon_start
}

@test "a daemon that does not come back within --reconnect=TIME: lost, exit 75" {
	lost_after_window 2 gone --reconnect=2s
	assert_line --partial "keep-paths: $KP_SOCKET: could not reconnect within 2 s: $KP_SOCKET: "
	# The same window from the config file: reconnect = TIME.
	printf 'reconnect = 1s\n' >"$BATS_TEST_TMPDIR/conf"
	lost_after_window 1 gone-conf --config "$BATS_TEST_TMPDIR/conf"
	run -64 --separate-stderr "$KEEP_PATHS" --reconnect=soon
	assert_equal "$stderr" "keep-paths: --reconnect soon: not a duration from 1s to 1d"
}

@test "reconnecting: a socket that accepts but never answers ends the window too" {
	kp_hold_fresh mute --store daemon --reconnect=2s
	daemon_crash
	# Something else listens there now, and says nothing.
	rm -f "$KP_SOCKET"
	perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Local => $ARGV[0],
	    Listen => 5) or die; @c = (); while (1) { push @c, $s->accept }' \
	    "$KP_SOCKET" 3>&- &
	mute=$!
	kp_reply
	kill "$mute"
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 75
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $KP_SOCKET: could not reconnect within 2 s: connected, but the daemon did not answer"
	kp_daemon_start
}
