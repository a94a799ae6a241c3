#!/usr/bin/env bats
# Replies: one line per request, in order; bad input never costs a root.

load helpers

hash0=00000000000000000000000000000000

@test "every reply kind, bad input followed by good input in one session" {
	p=$(kp_add good)
	q=$(kp_add later)
	kp_start
	kp_send "$p" "$NIX_STORE_DIR/$hash0-missing" /etc/passwd \
	    "$NIX_STORE_DIR/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-badhash" "$q"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_reply; assert_equal "$reply" "missing $NIX_STORE_DIR/$hash0-missing"
	kp_reply; assert_equal "$reply" "error /etc/passwd: not in the Nix store $NIX_STORE_DIR"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-badhash: illegal base-32 character 'e' in the hash"
	kp_reply; assert_equal "$reply" "ok $q"
	# The refused lines cost nothing: both good roots still hold.
	kp_gc
	assert [ -e "$p" ]
	assert [ -e "$q" ]
	kp_stop
	assert_equal "$kp_status" 0
	kp_gc
	refute [ -e "$p" ]
}

@test "a missing path stays rooted: built after the reply, it survives the GC" {
	echo "built later $RANDOM" >"$BATS_TEST_TMPDIR/built"
	p=$(nix-store --add "$BATS_TEST_TMPDIR/built")
	nix-store --delete "$p" >/dev/null 2>&1
	refute [ -e "$p" ]
	kp_start
	kp_send "$p"
	kp_reply
	assert_equal "$reply" "missing $p"
	# "Build" it again: same content, same path, protected from the start.
	assert_equal "$(nix-store --add "$BATS_TEST_TMPDIR/built")" "$p"
	kp_gc
	assert [ -e "$p" ]
	kp_stop
	kp_gc
	refute [ -e "$p" ]
}

@test "a symlink into the store and a file inside a store path root the top-level path" {
	mkdir -p "$BATS_TEST_TMPDIR/pkg/bin"
	echo '#!/bin/sh' >"$BATS_TEST_TMPDIR/pkg/bin/tool"
	p=$(nix-store --add "$BATS_TEST_TMPDIR/pkg")
	ln -s "$p" "$BATS_TEST_TMPDIR/result"
	ln -s result "$BATS_TEST_TMPDIR/result-chain"
	ln -s "$p/bin/tool" "$BATS_TEST_TMPDIR/tool-link"
	cd "$BATS_TEST_TMPDIR"
	kp_start
	kp_send "$p/bin/tool" "$BATS_TEST_TMPDIR/result" ./result-chain \
	    "$BATS_TEST_TMPDIR/tool-link" "$p/" "$p//bin/../bin/./tool" \
	    "$BATS_TEST_TMPDIR/result/bin/tool"
	for _ in 1 2 3 4 5 6 7; do
		kp_reply
		assert_equal "$reply" "ok $p"
	done
	rm "$BATS_TEST_TMPDIR"/result* "$BATS_TEST_TMPDIR/tool-link"
	kp_gc
	assert [ -e "$p/bin/tool" ]
	kp_stop
	kp_gc
	refute [ -e "$p" ]
}

@test "a dangling symlink into the store roots the path and answers missing" {
	ln -s "$NIX_STORE_DIR/$hash0-dangling" "$BATS_TEST_TMPDIR/dangling"
	kp_start
	kp_send "$BATS_TEST_TMPDIR/dangling"
	kp_reply
	assert_equal "$reply" "missing $NIX_STORE_DIR/$hash0-dangling"
	kp_stop
}

@test "malformed store paths are refused with the reason, and the session goes on" {
	name211=$(printf 'n%.0s' $(seq 211))
	p=$(kp_add after-bad)
	kp_start
	kp_send "$NIX_STORE_DIR" \
	    "$NIX_STORE_DIR/$hash0" \
	    "$NIX_STORE_DIR/${hash0}x" \
	    "$NIX_STORE_DIR/${hash0}-" \
	    "$NIX_STORE_DIR/${hash0}_name" \
	    "$NIX_STORE_DIR/0000000000000000000000000000000-short" \
	    "$NIX_STORE_DIR/${hash0}-.hidden" \
	    "$NIX_STORE_DIR/${hash0}-a b" \
	    "$NIX_STORE_DIR/${hash0}-${name211}x" \
	    "$NIX_STORE_DIR/${hash0}-${name211}" \
	    "$NIX_STORE_DIR-other/${hash0}-x" \
	    "relative/nowhere" \
	    "$p"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR: is the store directory, not a store path"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/$hash0: too short to be a store path"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/${hash0}x: no '-' after the hash"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/${hash0}-: empty name"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/${hash0}_name: no '-' after the hash"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/0000000000000000000000000000000-short: illegal base-32 character '-' in the hash"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/${hash0}-.hidden: name starts with '.'"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/${hash0}-a b: illegal character in the name"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/${hash0}-${name211}x: name longer than 211 characters"
	kp_reply; assert_equal "$reply" "missing $NIX_STORE_DIR/${hash0}-${name211}"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR-other/${hash0}-x: No such file or directory"
	kp_reply; assert_equal "$reply" "error relative/nowhere: No such file or directory"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_stop
	assert_equal "$kp_status" 0
}

@test "empty lines, NUL bytes, control characters and over-long lines get error replies" {
	p=$(kp_add after-junk)
	long=$(printf 'x%.0s' $(seq 5000))
	kp_start
	printf '\n' >&"$KP_IN"
	printf '/a\0b\n' >&"$KP_IN"
	printf '/tmp/tab\there\r\n' >&"$KP_IN"
	printf '%s\n' "$long" >&"$KP_IN"
	kp_send "$p"
	kp_reply; assert_equal "$reply" "error : empty request"
	kp_reply; assert_equal "$reply" 'error /a\0b: contains a NUL byte'
	kp_reply; assert_equal "$reply" 'error /tmp/tab\there\r: No such file or directory'
	kp_reply; assert_equal "$reply" "error ${long:0:64}...: line too long"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_stop
}

@test "a line longer than the buffer, sent in pieces, is one error reply" {
	p=$(kp_add after-huge)
	kp_start
	head -c 200000 /dev/zero | tr '\0' y >&"$KP_IN"
	printf '\n' >&"$KP_IN"
	kp_send "$p"
	kp_reply; assert_equal "$reply" "error $(printf 'y%.0s' $(seq 64))...: line too long"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_stop
}

@test "-q leaves out ok replies but not missing or error" {
	p=$(kp_add quiet)
	kp_start -q
	kp_send "$p" "$NIX_STORE_DIR/$hash0-q" /etc/passwd
	kp_reply; assert_equal "$reply" "missing $NIX_STORE_DIR/$hash0-q"
	kp_reply; assert_equal "$reply" "error /etc/passwd: not in the Nix store $NIX_STORE_DIR"
	kp_gc
	assert [ -e "$p" ]
	kp_stop
}

@test "the same path twice, in one batch and later, is answered every time" {
	p=$(kp_add twice)
	kp_start "$p" "$p"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_send "$p"
	kp_reply; assert_equal "$reply" "ok $p"
	kp_stop
}

@test "10,000 paths in one session: all answered in order, all held, all released" {
	mkdir "$BATS_TEST_TMPDIR/many"
	for i in $(seq 10000); do echo "$i $RANDOM" >"$BATS_TEST_TMPDIR/many/f$i"; done
	(cd "$BATS_TEST_TMPDIR/many" && nix-store --add $(seq -f 'f%g' 10000)) \
	    >"$BATS_TEST_TMPDIR/paths"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/paths")" 10000
	kp_start
	cat "$BATS_TEST_TMPDIR/paths" >&"$KP_IN" &
	catpid=$!
	for i in $(seq 10000); do
		# The first reply waits for its whole batch (thousands of roots,
		# the barrier, the validity queries): 4 s under valgrind on an
		# idle 2-core machine, over 20 s when make -j runs other files
		# beside it.
		kp_reply "$((i == 1 ? 180 : 20))"
		echo "$reply"
	done >"$BATS_TEST_TMPDIR/replies"
	wait "$catpid"
	sed 's/^/ok /' "$BATS_TEST_TMPDIR/paths" >"$BATS_TEST_TMPDIR/expected"
	run diff "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/replies"
	assert_success
	kp_gc
	run xargs ls -d <"$BATS_TEST_TMPDIR/paths"
	assert_success
	kp_stop
	kp_gc
	run sh -c 'xargs ls -d <"$1" 2>/dev/null | wc -l' sh "$BATS_TEST_TMPDIR/paths"
	assert_output 0
}

@test "lines read past a full queue are answered with no more input" {
	# 16,500 short lines and a path, all in the pipe before keep-paths
	# reads: its first read takes more lines than the queue holds
	# (16,384), and the rest wait in its input buffer, with nothing more
	# to come, until a batch makes room.
	p=$(kp_add queue-tail)
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec {hold}<>"$BATS_TEST_TMPDIR/in" {in}<"$BATS_TEST_TMPDIR/in"
	{ yes x | head -n 16500; echo "$p"; } >&"$hold"
	timeout 120 "$KEEP_PATHS" <&"$in" >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/kp.err" 3>&- {hold}>&- &
	pid=$!
	exec {in}<&-
	# Seconds as a rule; under valgrind on a busy machine, far more.
	for _ in $(seq 1200); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -lt 16501 ] || break
		sleep 0.1
	done
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 16501 ] || kp_said
	run sort "$BATS_TEST_TMPDIR/out"
	run uniq -c <<<"$output"
	assert_output "  16500 error x: No such file or directory
      1 ok $p"
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" "ok $p"
	exec {hold}>&-
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output ""
}

@test "an unprintable byte in a hash is named, not echoed raw: every reply stays one line" {
	kp_start
	printf '%s/\001%s-ctl\n%s/\377%s-high\n' "$NIX_STORE_DIR" "${hash0:1}" \
	    "$NIX_STORE_DIR" "${hash0:1}" >&"$KP_IN"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/\\001${hash0:1}-ctl: illegal byte 0x01 in the hash"
	kp_reply; assert_equal "$reply" "error $NIX_STORE_DIR/\\377${hash0:1}-high: illegal byte 0xff in the hash"
	kp_stop
	assert_equal "$kp_status" 0
}

@test "a store directory with a quote, a backslash or a control character is refused: it would break replies and JSON" {
	for dir in '/tmp/a"b' '/tmp/a\b' $'/tmp/a\nb' $'/tmp/a\tb'; do
		NIX_STORE_DIR=$dir run -64 --separate-stderr "$KEEP_PATHS" --store daemon </dev/null
		[[ $stderr == "keep-paths: NIX_STORE_DIR /tmp/a"*"b: a control character, '\"' or '\\' would break reply lines and JSON" ]]
		[[ $stderr != *$'\n'* ]]
	done
}
