#!/usr/bin/env bats
# keep-paths --capture -- DEPLOY: every path that crosses the command's ssh
# to a host is held on that host until the command ends.  The "host" is a
# real OpenSSH server on 127.0.0.1 whose Nix is another store: a plain
# local store at this store directory's path, backed by other files and
# other state in a private mount namespace that sshd runs in (the one
# every command "on the target", $KP_ON_TARGET, enters); its collector,
# run on the target between the copy and the switch, is the proof.  One
# machine plays both sides, so no store path may sit in any process's
# environment (the target's collector reads /proc/*/environ as roots):
# paths go to the commands in files.

load helpers

setup_file() {
	kp_store_setup
	kp_daemon_start
	export NIX_REMOTE=daemon
	kp_sshd_start --namespace
	[ -n "$KP_SSHD_MISSING" ] && return 0
	# What only the target's processes have in their environment.
	export TARGET_ENV="NIX_STATE_DIR=$KP_REMOTE/var/nix"
	remote_nix_store --version >/dev/null
	remote_add probe >/dev/null
	# Nix 2.8 takes no port in an ssh URI: NIX_SSHOPTS gives it.
	export NIX_SSHOPTS="$NIX_SSHOPTS -p $KP_SSH_PORT"
	export TARGET="ssh-ng://root@127.0.0.1"
}

setup() {
	kp_need_sshd
}

# Collections on the target, one after another, until gc_loop_stop.
gc_loop_start() {
	: >"$KP_NIX/remote-gc.log"
	(
		while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
			"$KP_ON_TARGET" nix-store --gc \
			    >>"$KP_NIX/remote-gc.log" 2>&1 || true
		done
	) 3>&- &
	gc_loop=$!
}

gc_loop_stop() {
	[ -n "${gc_loop:-}" ] || return 0
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$gc_loop" || true
	gc_loop=
}

teardown() {
	gc_loop_stop
}

teardown_file() {
	kp_sshd_stop
	kp_daemon_stop
}

# deploy_script HOW: a deploy that copies the closure of the path in
# $BATS_TEST_TMPDIR/path to the target (HOW: ssh-ng, or serve for
# nix-copy-closure), lets the target collect, then "switches": succeeds
# only if the path is still there.
deploy_script() {
	local f="$BATS_TEST_TMPDIR/deploy"
	cat >"$f" <<-EOF
	#!/bin/sh
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	case $1 in
	ssh-ng) nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" ;;
	serve) nix-copy-closure --to "root@127.0.0.1" "\$p" ;;
	esac
	echo copied
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	EOF
	chmod +x "$f"
	echo "$f"
}

# deploy_functions: prints shell functions for deploy scripts:
#   held_on_target [TENTHS]  waits (15 s by default) until the copy's own
#	ssh to the target has ended, which keep-paths allows only once the
#	holding session (its ssh says ControlPath=none) holds what the copy
#	carried
#   kill_target_daemons  kills every nix-daemon --stdio on the target
#   wait_for LINE FILE  waits (15 s at most) until FILE has LINE in it
deploy_functions() {
	cat <<-EOF
	kill_target_daemons() {
		for pid in \$(pgrep -f "nix-daemon --stdio"); do
			if grep -qzx "$TARGET_ENV" /proc/\$pid/environ 2>/dev/null; then
				kill -9 \$pid
			fi
		done
	}
	wait_for() {
		i=0
		until grep -q "\$1" "\$2" || [ \$i -ge 150 ]; do
			sleep 0.1; i=\$((i + 1))
		done
	}
	EOF
	cat <<-'EOF'
	held_on_target() {
		i=0
		while [ $i -lt "${1:-150}" ]; do
			client= holding=
			for pid in $(pgrep -x ssh); do
				args=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null) || continue
				case $args in
				*"nix-daemon --stdio"*ControlPath=none*|*ControlPath=none*"nix-daemon --stdio"*) holding=1 ;;
				*"nix-daemon --stdio"*) client=1 ;;
				esac
			done
			[ -n "$holding" ] && [ -z "$client" ] && return 0
			sleep 0.1; i=$((i + 1))
		done
		echo "the copy's ssh did not end" >&2
		return 1
	}
	EOF
}

# No temporary roots file is left on the target once a collection has
# run (it removes those of processes gone), nor in the local store's.
no_temproots_left() {
	run ls -A "$KP_REMOTE/var/nix/temproots"
	assert_output ""
	nix-store --gc >/dev/null 2>&1
	run ls -A "$NIX_STATE_DIR/temproots"
	assert_output ""
}

# No nix-daemon --stdio is left on this file's target, ours or the
# command's (other test files' daemons serve other stores).
no_daemon_left() {
	local i pid found
	for i in $(seq 50); do
		found=
		for pid in $(pgrep -f "nix-daemon --stdio"); do
			grep -qzx "$TARGET_ENV" "/proc/$pid/environ" \
			    2>/dev/null && found=$pid
		done
		[ -z "$found" ] && return 0
		sleep 0.1
	done
	ps -fp "$found" >&2
	return 1
}

@test "the target is another store at the same store directory: what is added on one side is not on the other" {
	p=$(remote_add only-there)
	assert remote_has "$p"
	"$KP_ON_TARGET" test -e "$p"		# there, at its logical path
	refute [ -e "$p" ]
	run ! nix-store --check-validity "$p"
	q=$(kp_add only-here)
	refute remote_has "$q"
	run ! "$KP_ON_TARGET" test -e "$q"
	run ! "$KP_ON_TARGET" nix-store --check-validity "$q"
}

@test "nix copy --to ssh-ng://: without keep-paths the target collects the copy before the switch" {
	p=$(kp_add plain)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	run "$(deploy_script ssh-ng)"
	assert_failure
	assert_line copied
	refute remote_has "$p"
}

@test "nix copy --to ssh-ng:// under --capture: held on the target from the copy to the switch, collected after" {
	p=$(kp_add captured)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	gc_loop_start
	run -0 "$KEEP_PATHS" --capture -- "$(deploy_script ssh-ng)"
	gc_loop_stop
	assert_line copied
	remote_gc
	refute remote_has "$p"
	no_daemon_left
	no_temproots_left
}

@test "nix-copy-closure --to (the serve protocol) under --capture: held on the target" {
	p=$(kp_add serve)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	run "$(deploy_script serve)"
	assert_failure
	assert_line copied
	p=$(kp_add serve-captured)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	gc_loop_start
	run -0 "$KEEP_PATHS" --capture -- "$(deploy_script serve)"
	gc_loop_stop
	remote_gc
	refute remote_has "$p"
	no_temproots_left
}

@test "a path already on the target, unrooted, is held too once the command names it to the host" {
	p=$(kp_add before)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	# It reaches the target first, uncaptured; then a deploy that only
	# runs a command naming it there, and the target collects meanwhile.
	nix --extra-experimental-features nix-command copy --to "$TARGET" "$p"
	cat >"$BATS_TEST_TMPDIR/touch" <<-EOF
	#!/bin/sh
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	ssh $NIX_SSHOPTS root@127.0.0.1 true "\$p" &&
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1 &&
	test -e "$KP_TARGET_STORE/\${p##*/}"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/touch"
	run -0 "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/touch"
	remote_gc
	refute remote_has "$p"
}

@test "ssh takes the first -p: the holding session goes to the same host as the client, not the one a later -p names" {
	p=$(kp_add first-port)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	nix --extra-experimental-features nix-command copy --to "$TARGET" "$p"
	# NIX_SSHOPTS ends in the target's -p; nothing listens on port 1.
	cat >"$BATS_TEST_TMPDIR/ports" <<-EOF
	#!/bin/sh
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	ssh $NIX_SSHOPTS -p 1 root@127.0.0.1 true "\$p" &&
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1 &&
	test -e "$KP_TARGET_STORE/\${p##*/}"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/ports"
	run -0 "$KEEP_PATHS" --capture --print-roots -- "$BATS_TEST_TMPDIR/ports"
	assert_line "ok $p ssh-ng://root@127.0.0.1:$KP_SSH_PORT"
	remote_gc
	refute remote_has "$p"
}

@test "an ssh that fails to connect is passed through: its status and its message" {
	cat >"$BATS_TEST_TMPDIR/fail" <<-EOF
	#!/bin/sh
	ssh -F /dev/null -o BatchMode=yes -p 1 root@127.0.0.1 true
	EOF
	chmod +x "$BATS_TEST_TMPDIR/fail"
	run "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/fail"
	assert_equal "$status" 255
	assert_output --partial "Connection refused"
}

@test "the ssh the command runs gets its arguments, stdin and stdout, and exits as the real one" {
	cat >"$BATS_TEST_TMPDIR/echo" <<-EOF
	#!/bin/sh
	printf 'one\ntwo\n' | ssh $NIX_SSHOPTS root@127.0.0.1 'cat; exit 7'
	echo "status \$?"
	command -v ssh
	EOF
	chmod +x "$BATS_TEST_TMPDIR/echo"
	run -0 "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/echo"
	assert_line --index 0 one
	assert_line --index 1 two
	assert_line --index 2 "status 7"
	assert_line --index 3 --regexp "/keep-paths\.[0-9a-f]+/ssh$"
}

@test "a target no holding session reaches: said once, the command's connections kept until it ends, exit 79" {
	# The target's Nix has a nix-store but no nix-daemon where the
	# command says: our holding session cannot start there.
	mkdir "$BATS_TEST_TMPDIR/bin"
	ln -s "$(command -v nix-store)" "$BATS_TEST_TMPDIR/bin/nix-store"
	p=$(kp_add fallback)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	cat >"$BATS_TEST_TMPDIR/copy" <<-EOF
	#!/bin/sh
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	nix --extra-experimental-features nix-command copy --to "ssh://root@127.0.0.1?remote-program=$BATS_TEST_TMPDIR/bin/nix-store" "\$p"
	# Until the holding session's ssh has given up.
	i=0
	while pgrep -f "$BATS_TEST_TMPDIR/bin/nix-daemon" >/dev/null && [ \$i -lt 100 ]; do
		sleep 0.1; i=\$((i + 1))
	done
	# keep-paths waits up to half a second for ssh's exit status.
	sleep 1
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/copy"
	run "$KEEP_PATHS" --capture --print-roots -- "$BATS_TEST_TMPDIR/copy"
	assert_equal "$status" 79
	assert_line switched
	assert_equal "$(grep -c 'no holding session' <<<"$output")" 1
	# Not held there by us: the host is reported, path by path.
	assert_line "error $p ssh-ng://root@127.0.0.1:$KP_SSH_PORT"
	assert_line "ok $p local"
	# Released: the kept connections went with the session.
	remote_gc
	refute remote_has "$p"
}

@test "a copy through a control master (ssh -M, then ssh -S): held on the target" {
	p=$(kp_add master)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	cat >"$BATS_TEST_TMPDIR/master" <<-EOF
	#!/bin/sh
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	sock="$BATS_TEST_TMPDIR/master.sock"
	ssh $NIX_SSHOPTS -M -N -S "\$sock" root@127.0.0.1 &
	master=\$!
	i=0
	while [ ! -S "\$sock" ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
	NIX_SSHOPTS="$NIX_SSHOPTS -S \$sock" nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p"
	kill \$master
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/master"
	gc_loop_start
	run -0 "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/master"
	gc_loop_stop
	assert_line switched
	remote_gc
	refute remote_has "$p"
	no_daemon_left
	# The master is gone too: ssh processes of ours end with the session.
	refute pgrep -f "$BATS_TEST_TMPDIR/master.sock"
}

@test "--print-roots and --json name the store of each path: local, or the host's" {
	p=$(kp_add listed)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	run -0 "$KEEP_PATHS" --capture --print-roots -- "$(deploy_script ssh-ng)"
	assert_line "ok $p local"
	assert_line "ok $p ssh-ng://root@127.0.0.1:$KP_SSH_PORT"
	p=$(kp_add listed-json)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	run -0 "$KEEP_PATHS" --capture --json -- "$(deploy_script ssh-ng)"
	assert_line "{\"path\":\"$p\",\"reply\":\"ok\",\"store\":\"ssh-ng://root@127.0.0.1:$KP_SSH_PORT\"}"
	assert_line "{\"path\":\"$p\",\"reply\":\"ok\",\"store\":\"local\"}"
}

@test "the command killed mid-deploy: no ssh, no daemon and no root of ours is left on either side" {
	p=$(kp_add killed)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	cat >"$BATS_TEST_TMPDIR/killed" <<-EOF
	#!/bin/sh
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" 2>/dev/null
	ssh $NIX_SSHOPTS root@127.0.0.1 sleep 61 &
	sleep 1
	kill -9 \$\$
	EOF
	chmod +x "$BATS_TEST_TMPDIR/killed"
	run "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/killed"
	assert_equal "$status" 137
	no_daemon_left
	# The real ssh of the orphaned "ssh ... sleep 61" went with the
	# session; its shim heard so and ended (the remote sleep is sshd's).
	for i in $(seq 50); do
		pgrep -f "root@127.0.0.1 sleep 61" >/dev/null || break
		sleep 0.1
	done
	refute pgrep -f "root@127.0.0.1 sleep 61"
	pkill -f "^sleep 61$" || true
	remote_gc
	refute remote_has "$p"
}

@test "a reference already on the target, unrooted, is held with what refers to it (NixOS/nix#15719)" {
	b=$(kp_add base)
	a=$(kp_referrer top "$b")
	echo "$a" >"$BATS_TEST_TMPDIR/path"
	echo "$b" >"$BATS_TEST_TMPDIR/ref"
	# b reaches the target first, uncaptured: valid there, unrooted.
	nix --extra-experimental-features nix-command copy --to "$TARGET" "$b" 2>/dev/null
	cat >"$BATS_TEST_TMPDIR/closure" <<-EOF
	#!/bin/sh
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	r=\$(cat "$BATS_TEST_TMPDIR/ref")
	nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" 2>/dev/null
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	test -e "$KP_TARGET_STORE/\${r##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/closure"
	run -0 "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/closure"
	assert_line switched
	remote_gc
	refute remote_has "$a"
	refute remote_has "$b"
}

@test "collections in a loop on the target for the whole deploy: the copy survives to the switch under --capture" {
	p=$(kp_add looped)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	cat >"$BATS_TEST_TMPDIR/looped" <<-EOF
	#!/bin/sh
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" 2>/dev/null
	sleep 1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/looped"
	gc_loop_start
	run "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/looped"
	gc_loop_stop
	assert_success
	assert_line switched
	assert [ "$(grep -c 'deleted' "$KP_NIX/remote-gc.log")" -gt 1 ]
}

@test "the holding session's connection lost mid-deploy: it reconnects, holds again, and the copy survives to the switch" {
	p=$(kp_add reconnected)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	# After the copy only holding sessions serve the target (the copy's
	# own connection ends once its paths are held): every one is killed,
	# and the target collects only once keep-paths says it holds again.
	{ echo '#!/bin/sh'; deploy_functions; } >"$BATS_TEST_TMPDIR/lost"
	cat >>"$BATS_TEST_TMPDIR/lost" <<-EOF
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" 2>/dev/null
	held_on_target
	kill_target_daemons
	wait_for "reconnected;" "$BATS_TEST_TMPDIR/err"
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/lost"
	# run would take stderr into $output: the script reads it from a file.
	run -0 bash -c '"$0" --capture -- "$1" 2>"$2"' "$KEEP_PATHS" \
	    "$BATS_TEST_TMPDIR/lost" "$BATS_TEST_TMPDIR/err"
	assert_line switched
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --partial "ssh-ng://root@127.0.0.1:$KP_SSH_PORT: connection lost"
	assert_line --partial "ssh-ng://root@127.0.0.1:$KP_SSH_PORT: reconnected; 1 root held again"
	remote_gc
	refute remote_has "$p"
	no_daemon_left
}

@test "a path collected on the target while the holding session was away: 'lost PATH' said, exit 79" {
	p=$(kp_add gap)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	# sshd stopped: the holding session cannot reconnect, so the target
	# collects in the gap; then sshd goes on and the recheck finds it.
	{ echo '#!/bin/sh'; deploy_functions; } >"$BATS_TEST_TMPDIR/gap"
	cat >>"$BATS_TEST_TMPDIR/gap" <<-EOF
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" 2>/dev/null
	held_on_target
	sshd=\$(cat "$BATS_FILE_TMPDIR/ssh/sshd.pid")
	kill -STOP \$sshd
	kill_target_daemons
	wait_for "connection lost" "$BATS_TEST_TMPDIR/err"
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	kill -CONT \$sshd
	wait_for " lost /" "$BATS_TEST_TMPDIR/err"
	echo deployed
	EOF
	chmod +x "$BATS_TEST_TMPDIR/gap"
	run bash -c '"$0" --capture --print-roots -- "$1" 2>"$2"' \
	    "$KEEP_PATHS" "$BATS_TEST_TMPDIR/gap" "$BATS_TEST_TMPDIR/err"
	kill -CONT "$(cat "$BATS_FILE_TMPDIR/ssh/sshd.pid")"
	assert_equal "$status" 79
	assert_line deployed
	assert_line "error $p ssh-ng://root@127.0.0.1:$KP_SSH_PORT"
	refute remote_has "$p"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --partial "ssh-ng://root@127.0.0.1:$KP_SSH_PORT: lost $p"
	no_daemon_left
}

@test "a host slow to answer holds up only its own paths: a copy to another host is held meanwhile" {
	# The slow host: a second sshd, stopped, so ssh (and our holding
	# session for it) waits for its banner.
	local d="$BATS_FILE_TMPDIR/ssh" port i
	for i in 1 2 3 4 5; do
		port=$((KP_SSH_PORT + i))
		sed -e "s/^Port .*/Port $port/" \
		    -e "s|^PidFile .*|PidFile $d/slow.pid|" \
		    "$d/sshd_config" >"$d/slow_config"
		"$(PATH=$PATH:/usr/sbin command -v sshd)" -f "$d/slow_config" \
		    -E "$d/slow.log" 3>&- && kp_wait_until -s "$d/slow.pid" &&
		    break
	done
	kill -STOP "$(cat "$d/slow.pid")"
	p=$(kp_add meanwhile)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	{ echo '#!/bin/sh'; deploy_functions; } >"$BATS_TEST_TMPDIR/slow"
	cat >>"$BATS_TEST_TMPDIR/slow" <<-EOF
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	ssh ${NIX_SSHOPTS% -p *} -p $port root@127.0.0.1 true &
	sleep 1
	if timeout 10 nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p"; then
		echo copied
	fi
	# Held on the other host (its connection let go) within 5 s.
	held_on_target 50 && echo held
	kill \$!
	EOF
	chmod +x "$BATS_TEST_TMPDIR/slow"
	run "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/slow"
	kill -CONT "$(cat "$d/slow.pid")"
	kill "$(cat "$d/slow.pid")"
	assert_line copied
	assert_line held
	no_daemon_left
}

@test "past --capture-max on a host: said loudly, not held there, and the exit status says so" {
	b=$(kp_add max-base)
	a=$(kp_referrer max-top "$b")
	echo "$a" >"$BATS_TEST_TMPDIR/path"
	cat >"$BATS_TEST_TMPDIR/max" <<-EOF
	#!/bin/sh
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	nix --extra-experimental-features nix-command copy --to "$TARGET" "\$p" 2>/dev/null && echo copied
	EOF
	chmod +x "$BATS_TEST_TMPDIR/max"
	# The copy's paths cross both capture's relay (from the local
	# store) and ssh: each side counts them, each says so; the local
	# side's 75 stands over the host's 79.
	run --separate-stderr "$KEEP_PATHS" --capture --capture-max 1 -- \
	    "$BATS_TEST_TMPDIR/max"
	assert_equal "$status" 75
	assert_line copied
	[[ "$stderr" == *"capture over ssh: ssh-ng://root@127.0.0.1:$KP_SSH_PORT: more than 1 distinct store paths seen (--capture-max): "*" and every further new one are NOT held there"* ]]
	[[ "$stderr" == *"capture: more than 1 distinct store paths seen (--capture-max): "* ]]
}

@test "two hosts at once (a deploy to several machines): each path is held on the host it went to" {
	local known="$BATS_FILE_TMPDIR/ssh/known_hosts"
	# "localhost" is a second name for the target: a second host to us.
	grep -q '^\[localhost\]' "$known" ||
	    sed -n "s/^\[127\.0\.0\.1\]/[localhost]/p" "$known" >>"$known"
	a=$(kp_add to-first)
	b=$(kp_add to-second)
	echo "$a" >"$BATS_TEST_TMPDIR/a"
	echo "$b" >"$BATS_TEST_TMPDIR/b"
	cat >"$BATS_TEST_TMPDIR/two" <<-EOF
	#!/bin/sh
	set -e
	a=\$(cat "$BATS_TEST_TMPDIR/a")
	b=\$(cat "$BATS_TEST_TMPDIR/b")
	nix --extra-experimental-features nix-command copy --to ssh-ng://root@127.0.0.1 "\$a" 2>/dev/null &
	nix --extra-experimental-features nix-command copy --to ssh-ng://root@localhost "\$b" 2>/dev/null
	wait \$!
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${a##*/}"
	test -e "$KP_TARGET_STORE/\${b##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/two"
	run -0 "$KEEP_PATHS" --capture --print-roots -- "$BATS_TEST_TMPDIR/two"
	assert_line switched
	assert_line "ok $a ssh-ng://root@127.0.0.1:$KP_SSH_PORT"
	assert_line "ok $b ssh-ng://root@localhost:$KP_SSH_PORT"
	refute_line "ok $b ssh-ng://root@127.0.0.1:$KP_SSH_PORT"
	remote_gc
	refute remote_has "$a"
	refute remote_has "$b"
	no_daemon_left
}

@test "a deploy whose ssh shares connections (ControlMaster=auto, ControlPersist, as nixos-rebuild sets): held on the target" {
	p=$(kp_add persist)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	local opts="-o ControlMaster=auto -o ControlPath=$BATS_TEST_TMPDIR/cm-%C -o ControlPersist=30"
	cat >"$BATS_TEST_TMPDIR/persist" <<-EOF
	#!/bin/sh
	set -e
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	export NIX_SSHOPTS="$NIX_SSHOPTS $opts"
	nix-copy-closure --to root@127.0.0.1 "\$p" 2>/dev/null
	ssh \$NIX_SSHOPTS root@127.0.0.1 true
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1
	test -e "$KP_TARGET_STORE/\${p##*/}"
	echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/persist"
	run -0 "$KEEP_PATHS" --capture -- "$BATS_TEST_TMPDIR/persist"
	assert_line switched
	# The persisting master is the user's choice (ssh -O exit ends it);
	# no root of ours stays with it.
	ssh $NIX_SSHOPTS $opts -O exit root@127.0.0.1 2>/dev/null || true
	remote_gc
	refute remote_has "$p"
	no_daemon_left
}

@test "ssh -t from a terminal gets its terminal on the host (a sudo prompt there works); its command line's paths are held first" {
	command -v script >/dev/null || skip "no script(1) (Debian: bsdutils)"
	p=$(kp_add on-tty)
	echo "$p" >"$BATS_TEST_TMPDIR/path"
	nix --extra-experimental-features nix-command copy --to "$TARGET" "$p"
	cat >"$BATS_TEST_TMPDIR/tty" <<-EOF
	#!/bin/sh
	p=\$(cat "$BATS_TEST_TMPDIR/path")
	ssh $NIX_SSHOPTS -t root@127.0.0.1 "tty; test -e \$p" &&
	"$KP_ON_TARGET" nix-store --gc >>"$KP_NIX/remote-gc.log" 2>&1 &&
	test -e "$KP_TARGET_STORE/\${p##*/}" && echo switched
	EOF
	chmod +x "$BATS_TEST_TMPDIR/tty"
	# script(1) gives the command a terminal, as a user's shell would.
	run script -qec "$KEEP_PATHS --capture -- $BATS_TEST_TMPDIR/tty" /dev/null
	assert_success
	assert_output --regexp '/dev/pts/[0-9]+'
	assert_output --partial switched
	refute_output --partial "Pseudo-terminal will not be allocated"
	remote_gc
	refute remote_has "$p"
}
