#!/usr/bin/env bats
# keep-paths --store ssh-ng://: roots held on another "host" through a real
# OpenSSH server on 127.0.0.1 running nix-daemon --stdio, proved by that
# store's own nix-store --gc.  Also several stores in one session.

load helpers

setup_file() {
	kp_store_setup
	kp_daemon_start
	export NIX_REMOTE=daemon
	kp_sshd_start
	[ -n "$KP_SSHD_MISSING" ] && return 0
	# Make the remote store and check that ssh-ng reaches it at all.
	remote_nix_store --version >/dev/null
	remote_add probe >/dev/null
}

setup() {
	kp_need_sshd
}

teardown_file() {
	kp_sshd_stop
	kp_daemon_stop
}

# keep-paths' ssh child, once it has one.
ssh_child() {
	pgrep -P "$KP_PID_SAVED" -x ssh
}

@test "--print-store shows the ssh command, as Nix builds it" {
	run -0 "$KEEP_PATHS" --print-store --store \
	    "ssh-ng://deploy@build.example:2222?remote-store=local?root=/x y&ssh-key=/k&compress=true&remote-program=/opt/nix-daemon"
	assert_output "ssh-ng ssh-ng://deploy@build.example:2222?remote-store=local?root=/x y&ssh-key=/k&compress=true&remote-program=/opt/nix-daemon (--store ssh-ng://deploy@build.example:2222?remote-store=local?root=/x y&ssh-key=/k&compress=true&remote-program=/opt/nix-daemon): ssh deploy@build.example -x -a ${NIX_SSHOPTS} -i /k -C -p 2222 -- '/opt/nix-daemon --stdio --store '\\''local?root=/x y'\\'''"
	NIX_SSHOPTS="-o 'ProxyJump=a b' \"-oX=\\\"q\\\"\"" run -0 "$KEEP_PATHS" \
	    --print-store --store "ssh-ng://[::1]:22"
	assert_output --partial ": ssh ::1 -x -a -o 'ProxyJump=a b' '-oX=\"q\"' -p 22 -- 'nix-daemon --stdio'"
	# As in Nix, localhost means no ssh at all.
	run -0 "$KEEP_PATHS" --print-store --store ssh-ng://localhost
	assert_output --partial ": sh -c 'nix-daemon --stdio'"
	NIX_REMOTE="$KP_SSH" run -0 "$KEEP_PATHS" --print-store
	assert_output --partial "(NIX_REMOTE=$KP_SSH)"
}

@test "the remote side runs the Nix under test, not sshd's default one" {
	# NIX_SSHOPTS is word-split here as Nix splits it (no quotes in it).
	# shellcheck disable=SC2086
	run -0 ssh $NIX_SSHOPTS -p "$KP_SSH_PORT" root@127.0.0.1 -- \
	    'command -v nix-daemon; nix-daemon --version'
	assert_line --index 0 "$(command -v nix-daemon)"
	assert_line --index 1 "$(nix-daemon --version)"
}

@test "bad ssh-ng URIs are usage errors that say what is wrong" {
	run -64 --separate-stderr "$KEEP_PATHS" --store ssh-ng:// </dev/null
	assert_equal "$stderr" "keep-paths: ssh-ng://: host name must not be empty, start with '-' or hold '/' or blanks"
	run -64 --separate-stderr "$KEEP_PATHS" --store "ssh-ng://-oProxyCommand=touch\${IFS}x" </dev/null
	assert_equal "$stderr" "keep-paths: ssh-ng://-oProxyCommand=touch\${IFS}x: host name must not be empty, start with '-' or hold '/' or blanks"
	run -64 --separate-stderr "$KEEP_PATHS" --store ssh-ng://h:99999 </dev/null
	assert_equal "$stderr" 'keep-paths: ssh-ng://h:99999: port "99999" is too large'
	run -64 --separate-stderr "$KEEP_PATHS" --store 'ssh-ng://h?base64-ssh-public-host-key=AAAA' </dev/null
	assert_output ''
	assert_equal "$stderr" 'keep-paths: ssh-ng://h?base64-ssh-public-host-key=AAAA: unsupported parameter "base64-ssh-public-host-key" (keep-paths knows remote-program, remote-store, ssh-key and compress; for a host key, use -o UserKnownHostsFile=FILE in NIX_SSHOPTS)'
	run -64 --separate-stderr "$KEEP_PATHS" --store 'ssh-ng://h?compress=maybe' </dev/null
	assert_equal "$stderr" 'keep-paths: ssh-ng://h?compress=maybe: compress: "maybe" is not true or false'
	run -64 --separate-stderr "$KEEP_PATHS" --store ssh://h </dev/null
	assert_equal "$stderr" 'keep-paths: ssh://h: ssh:// stores (nix-store --serve) cannot hold temporary roots; use ssh-ng://'
	NIX_SSHOPTS="-o 'unterminated" run -64 --separate-stderr "$KEEP_PATHS" \
	    --store ssh-ng://h </dev/null
	assert_equal "$stderr" "keep-paths: ssh-ng://h: NIX_SSHOPTS: unterminated ' quote"
	# Generic store settings are accepted, as Nix accepts them.
	run -0 "$KEEP_PATHS" --print-store --store 'ssh-ng://h?max-connections=1&trusted=1'
}

@test "a path held over ssh-ng survives the remote GC and is collected after release" {
	p=$(remote_add held)
	kp_start --store "$KP_SSH"
	kp_send "$p" "$NIX_STORE_DIR/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-absent" not-a-path
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_reply
	assert_equal "$reply" "missing $NIX_STORE_DIR/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-absent"
	kp_reply
	assert_equal "$reply" "error not-a-path: No such file or directory"
	# The root is the remote daemon's: a temp-roots file over there.
	run -0 grep -rlF "$p" "$KP_REMOTE/nix/var/nix/temproots"
	remote_gc
	assert remote_has "$p"
	sshpid=$(ssh_child)
	kp_stop
	assert_equal "$kp_status" 0
	# Release is synchronous: ssh has exited, the remote worker too.
	run ! kill -0 "$sshpid"
	remote_gc
	run ! remote_has "$p"
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output ''
}

@test "drop over ssh-ng: a new ssh holds the roots that stay before the old one ends" {
	a=$(remote_add a)
	b=$(remote_add b)
	kp_start --store "$KP_SSH"
	kp_send "$a" "$b"
	kp_reply
	assert_equal "$reply" "ok $a"
	kp_reply
	assert_equal "$reply" "ok $b"
	old=$(ssh_child)
	kp_send "drop $a"
	kp_reply
	assert_equal "$reply" "dropped $a"
	# The old ssh has exited; a new one holds b.
	run ! kill -0 "$old"
	new=$(ssh_child)
	assert [ -n "$new" ]
	assert_not_equal "$new" "$old"
	remote_gc
	run ! remote_has "$a"
	assert remote_has "$b"
	kp_stop
	assert_equal "$kp_status" 0
	remote_gc
	run ! remote_has "$b"
}

@test "--no-reconnect: the ssh child killed: lost, exit 75, the message names ssh's end" {
	p=$(remote_add killed)
	kp_start --store "$KP_SSH" --no-reconnect
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kill -KILL "$(ssh_child)"
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 75
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $KP_SSH: connection to the daemon lost: ssh was killed by signal 9"
	assert_line "keep-paths: LOST 1 root: the store no longer protects it"
}

@test "an unreachable port fails fast with ssh's own message, exit 69" {
	stdin_open
	# A port nobody listens on: the one just before sshd's, if free.
	port=$((KP_SSH_PORT - 1))
	run -69 --separate-stderr "$KEEP_PATHS" --store "ssh-ng://root@127.0.0.1:$port" <&"$hold"
	# ssh ends its messages with CR LF.
	assert_equal "${stderr_lines[0]%$'\r'}" "ssh: connect to host 127.0.0.1 port $port: Connection refused"
	assert_equal "${stderr_lines[1]}" "keep-paths: ssh-ng://root@127.0.0.1:$port: the connection closed during the handshake: ssh exited with status 255 (ssh could not connect or log in; see its message)"
	run ! pgrep -f "127.0.0.1 -x -a .* -p $port "
}

@test "a host that never answers: --connect-timeout, then exit 69 and no ssh left" {
	stdin_open
	port=$((KP_SSH_PORT + 1))
	# Accepts and says nothing: ssh waits for a banner that never comes.
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr =>
	    "127.0.0.1:'"$port"'", Listen => 1, ReuseAddr => 1) or die;
	    print "up\n"; $| = 1; $c = $s->accept; sleep 60' \
	    >"$BATS_TEST_TMPDIR/mute" 3>&- &
	mute=$!
	kp_wait_until -s "$BATS_TEST_TMPDIR/mute"
	run -69 --separate-stderr "$KEEP_PATHS" --connect-timeout 1s \
	    --store "ssh-ng://root@127.0.0.1:$port" <&"$hold"
	kill "$mute"
	assert_equal "$stderr" "keep-paths: the store did not answer within 1 s"
	run ! pgrep -f "127.0.0.1 -x -a .* -p $port "
}

@test "remote-program and remote-store reach the remote command" {
	wrapper="$BATS_TEST_TMPDIR/daemon-wrapper"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" >%s/args\nexec nix-daemon "$@"\n' \
	    "$BATS_TEST_TMPDIR" >"$wrapper"
	chmod +x "$wrapper"
	p=$(remote_add wrapped)
	kp_start --store "$KP_SSH?remote-program=$wrapper&remote-store=$KP_REMOTE"
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
	run -0 cat "$BATS_TEST_TMPDIR/args"
	assert_output "--stdio
--store
$KP_REMOTE"
}

@test "a remote program that is not there: exit 69, ssh's status explained" {
	stdin_open
	run -69 --separate-stderr "$KEEP_PATHS" --store "$KP_SSH?remote-program=/nonexistent/nix-daemon" <&"$hold"
	assert_equal "${#stderr_lines[@]}" 2
	[[ ${stderr_lines[0]} == *"/nonexistent/nix-daemon: No such file or directory" ]]
	assert_equal "${stderr_lines[1]}" "keep-paths: $KP_SSH?remote-program=/nonexistent/nix-daemon: the connection closed during the handshake: ssh exited with status 127 (the remote program was not found on the host)"
}

@test "two stores: rooted on both, one reply per store, collected from both after release" {
	f="$BATS_TEST_TMPDIR/both"
	echo "both $RANDOM" >"$f"
	p=$(nix-store --add "$f")
	assert_equal "$(remote_nix_store --add "$f")" "$p"
	q=$(kp_add local-only)
	kp_start --store daemon --store "$KP_SSH"
	kp_send "$p" "$q" bad
	kp_reply; assert_equal "$reply" "ok $p daemon"
	kp_reply; assert_equal "$reply" "ok $p $KP_SSH"
	kp_reply; assert_equal "$reply" "ok $q daemon"
	kp_reply; assert_equal "$reply" "missing $q $KP_SSH"
	kp_reply; assert_equal "$reply" "error bad: daemon: No such file or directory"
	kp_reply; assert_equal "$reply" "error bad: $KP_SSH: No such file or directory"
	kp_gc
	remote_gc
	assert [ -e "$p" ]
	assert remote_has "$p"
	kp_stop
	assert_equal "$kp_status" 0
	kp_gc_until_gone "$p"
	remote_gc
	run ! remote_has "$p"
}

@test "two stores, one lost: 'lost STORE' names it, exit 75" {
	p=$(remote_add one-lost)
	kp_start --no-reconnect --store daemon --store "$KP_SSH"
	kp_send "$p"
	kp_reply; assert_equal "$reply" "missing $p daemon"
	kp_reply; assert_equal "$reply" "ok $p $KP_SSH"
	kill -TERM "$(ssh_child)"
	kp_reply
	assert_equal "$reply" "lost $KP_SSH"
	kp_stop
	assert_equal "$kp_status" 75
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $KP_SSH: connection to the daemon lost: ssh exited with status 255"
}

@test "-- COMMAND over ssh-ng; ^C does not cut ssh under keep-paths" {
	p=$(remote_add cmd)
	run -0 "$KEEP_PATHS" --store "$KP_SSH" "$p" -- sh -c \
	    'NIX_REMOTE="$KP_REMOTE" nix-store --gc >/dev/null 2>&1; test -e "$KP_REMOTE/nix/store/${1##*/}"' sh "$p"
	# ^C reaches keep-paths and its ssh child alike.  ssh ignores it, so
	# the connection stays until keep-paths, on its own SIGINT, releases.
	kp_start --store "$KP_SSH"
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	sshpid=$(ssh_child)
	kill -INT "$sshpid"
	sleep 0.5
	kill -0 "$sshpid"
	q=$(remote_add cmd2)
	kp_send "$q"
	kp_reply
	assert_equal "$reply" "ok $q"
	kill -INT "$KP_PID_SAVED"
	# The signal, not EOF, must end it: wait before closing stdin.
	kp_wait_gone "$KP_PID_SAVED"
	kp_stop
	assert_equal "$kp_status" 130
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	refute_output --partial LOST
	run ! kill -0 "$sshpid"
}

@test "several stores and --connect-timeout: limits are usage errors" {
	run -64 --separate-stderr "$KEEP_PATHS" --print-store $(printf -- '--store daemon %.0s' 1 2 3 4 5 6 7 8 9)
	assert_equal "$stderr" "keep-paths: --store: at most 8 stores"
	run -64 --separate-stderr "$KEEP_PATHS" --print-store --store gcroots --store "gcroots?dir=$BATS_TEST_TMPDIR"
	assert_equal "$stderr" "keep-paths: --store gcroots: only one per session"
	run -0 "$KEEP_PATHS" --print-store --store daemon --store "$KP_SSH"
	assert_line --index 0 "daemon $KP_SOCKET (--store daemon)"
	assert_line --index 1 --partial "ssh-ng $KP_SSH (--store $KP_SSH): ssh root@127.0.0.1 -x -a"
	run -64 --separate-stderr "$KEEP_PATHS" --connect-timeout 0 </dev/null
	assert_equal "$stderr" "keep-paths: --connect-timeout 0: not a duration from 1s to 1d"
	printf 'connect-timeout = 2d\n' >"$BATS_TEST_TMPDIR/conf"
	run -64 --separate-stderr "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/conf" </dev/null
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/conf:1: connect-timeout: '2d' is not a duration from 1s to 1d"
}

@test "contrib/examples/deploy.sh: held on both machines from the copy to the switch, released after" {
	sys="$BATS_TEST_TMPDIR/sys"
	mkdir -p "$sys/bin"
	# "On the host": collect there mid-switch, and see what survived.
	cat >"$sys/bin/switch-to-configuration" <<-SH
	#!/bin/sh
	self=\$(dirname "\$(dirname "\$0")")
	nix-store --gc >/dev/null 2>&1
	test -e "\$NIX_REMOTE/nix/store/\${self##*/}" && kept=kept || kept=collected
	echo "\$1 \$kept" >"$BATS_TEST_TMPDIR/switched"
	SH
	chmod +x "$sys/bin/switch-to-configuration"
	p=$(nix-store --add "$sys")
	run ! remote_has "$p"
	NIX_SSHOPTS="$NIX_SSHOPTS -p $KP_SSH_PORT" KEEP_PATHS="$KEEP_PATHS" \
	    run -0 --separate-stderr "$KP_SRCDIR/contrib/examples/deploy.sh" \
	    --action test root@127.0.0.1 "$p"
	assert_equal "${stderr_lines[0]}" "deploy: $p: not on ssh-ng://root@127.0.0.1 yet"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/switched")" "test kept"
	assert_equal "${stderr_lines[-1]}" "deploy: done; $p released on both machines"
	remote_gc
	run ! remote_has "$p"
	kp_gc_until_gone "$p"
}

@test "--reconnect over ssh-ng: ssh killed, a new ssh, the roots registered again" {
	p=$(remote_add reconnected)
	q=$(remote_add after-reconnect)
	kp_start --store "$KP_SSH" --reconnect
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	old=$(ssh_child)
	kill -KILL "$old"
	kp_wait_cmd eval '[ -n "$(ssh_child)" ] && [ "$(ssh_child)" != "$old" ]'
	kp_send "$q"
	kp_reply
	assert_equal "$reply" "ok $q"
	remote_gc
	assert remote_has "$p"
	assert remote_has "$q"
	kp_stop
	assert_equal "$kp_status" 0
	run -0 cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $KP_SSH: connection lost: ssh was killed by signal 9; reconnecting"
	assert_line "keep-paths: $KP_SSH: reconnected; 1 root held again"
	remote_gc
	run ! remote_has "$p"
}
