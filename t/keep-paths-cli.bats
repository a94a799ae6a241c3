#!/usr/bin/env bats
# The command line, the configuration files, and the man page.

load helpers

man_page() {
	echo "$KP_SRCDIR/doc/${1:-keep-paths}.1"
}

: "${KEEP_PATHS_SWEEP:=${KEEP_PATHS%/*}/keep-paths-sweep}"

@test "--help prints usage on stdout and exits 0" {
	run -0 "$KEEP_PATHS" --help
	assert_line --index 0 --partial "usage: keep-paths"
	assert_line --partial "ok STOREPATH"
}

@test "--version prints the version" {
	run -0 "$KEEP_PATHS" --version
	assert_output --regexp '^keep-paths [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "an unknown option is a usage error, exit 64" {
	run -64 --separate-stderr "$KEEP_PATHS" --frobnicate
	[[ "$stderr" == *"usage: keep-paths"* ]]
}

@test "--fd must name an open fd, and a number" {
	run -64 --separate-stderr "$KEEP_PATHS" --fd 77
	assert_equal "$stderr" "keep-paths: fd 77 is not open"
	run -64 --separate-stderr "$KEEP_PATHS" --fd seven
	assert_equal "$stderr" "keep-paths: --fd seven: invalid"
}

@test "-- needs a COMMAND" {
	run -64 --separate-stderr "$KEEP_PATHS" --
	assert_equal "$stderr" "keep-paths: -- needs a COMMAND"
	run -64 --separate-stderr "$KEEP_PATHS" /nix/store/x --
	assert_equal "$stderr" "keep-paths: -- needs a COMMAND"
}

@test "the user config file is read: quiet = yes" {
	p=$(kp_add conf-quiet)
	mkdir -p "$XDG_CONFIG_HOME/keep-paths"
	printf '[keep-paths]\nquiet = yes\n' >"$XDG_CONFIG_HOME/keep-paths/config"
	kp_start "$p" "$NIX_STORE_DIR/00000000000000000000000000000000-q"
	kp_reply
	assert_equal "$reply" "missing $NIX_STORE_DIR/00000000000000000000000000000000-q"
	kp_stop
	rm "$XDG_CONFIG_HOME/keep-paths/config"
}

@test "--config FILE is read last; the command line wins over it" {
	p=$(kp_add conf-store)
	printf 'store = unix:///nonexistent/socket\n' >"$BATS_TEST_TMPDIR/conf"
	run -69 --separate-stderr "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/conf"
	assert_equal "$stderr" "keep-paths: /nonexistent/socket: No such file or directory (is nix-daemon running?)"
	kp_start --config "$BATS_TEST_TMPDIR/conf" --store "unix://$KP_SOCKET" "$p"
	kp_reply
	assert_equal "$reply" "ok $p"
	kp_stop
}

# conf_error CONTENT MESSAGE: a --config file with CONTENT (printf format)
# is refused with "keep-paths: FILE:MESSAGE" and exit 64.
conf_error() {
	local f="$BATS_TEST_TMPDIR/conf"
	printf "$1" >"$f"
	run -64 --separate-stderr "$KEEP_PATHS" --config "$f"
	assert_equal "$stderr" "keep-paths: $f:$2"
}

@test "config errors name the file and line, exit 64" {
	conf_error '# comment\n\nstoer = daemon\n' "3: unknown key 'stoer'"
	conf_error '[keep-paths]\nquiet = maybe\n' "2: quiet: 'maybe' is not yes or no"
	conf_error '[sweeper]\nmin-age = 1d\n' "2: unknown section [sweeper]"
	conf_error '[sweep]\nmin-age = 1y\n' "2: min-age: '1y' is not a duration (30s, 10m, 2h, 1d)"
	conf_error '[sweep]\nquiet = yes\n' "2: unknown key 'quiet' in [sweep]"
	conf_error 'store\n' "1: syntax error"
	conf_error 'reconnect = maybe\n' "1: reconnect: 'maybe' is not yes, no or a duration from 1s to 1d"
	conf_error 'store-timeout = 0\n' "1: store-timeout: '0' is not a duration from 1s to 1d"
	run -64 --separate-stderr "$KEEP_PATHS" --store-timeout 2d </dev/null
	assert_equal "$stderr" "keep-paths: --store-timeout 2d: not a duration from 1s to 1d"
	run -64 --separate-stderr "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/absent"
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/absent: No such file or directory"
}

@test "a broken user config file is an error too" {
	mkdir -p "$XDG_CONFIG_HOME/keep-paths"
	printf 'quiet = often\n' >"$XDG_CONFIG_HOME/keep-paths/config"
	run -64 --separate-stderr "$KEEP_PATHS"
	assert_equal "$stderr" "keep-paths: $XDG_CONFIG_HOME/keep-paths/config:1: quiet: 'often' is not yes or no"
	rm "$XDG_CONFIG_HOME/keep-paths/config"
}

@test "stdout closed by the reader: exit 74 with a message" {
	p=$(kp_add epipe)
	stdin_open
	run -74 --separate-stderr bash -c \
	    '"$1" "$2" <&"$3" 3>&- | true; exit "${PIPESTATUS[0]}"' sh \
	    "$KEEP_PATHS" "$p" "$hold"
	[[ "$stderr" == "keep-paths: stdout: "* ]]
	exec {hold}>&-
}

@test "the man pages pass mandoc -Tlint" {
	[ -n "$MANDOC" ] || skip "mandoc not found by configure"
	for page in keep-paths.1 keep-paths-sweep.1 keep-paths.conf.5; do
		run "$MANDOC" -Tlint -Wwarning "$KP_SRCDIR/doc/$page"
		assert_success
		assert_output ""
	done
}

# check_man_page PROGRAM PAGE: every option of PROGRAM --help is in PAGE,
# and every exit status it lists is in EXIT STATUS.
check_man_page() {
	local page exits opt code
	page=$(cat "$(man_page "$2")")
	for opt in $("$1" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		[[ "$page" == *"Fl -${opt#--}"* ]] || fail "$2.1 lacks $opt"
	done
	for opt in $("$1" --help | grep -oE -- '(^| )-[a-zA-Z],' | tr -d ' ,' | sort -u); do
		[[ "$page" == *"Fl ${opt#-}"* ]] || fail "$2.1 lacks $opt"
	done
	exits=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$(man_page "$2")")
	for code in $("$1" --help | sed -n '/^Exit status/,$p' | sed 's/([0-9])//g' |
	    grep -oE '\b[0-9]{1,3}\b' | sort -u); do
		[[ "$exits" == *".It $code"* ]] || fail "$2.1 EXIT STATUS lacks $code"
	done
}

@test "every option in --help is in the man page, every status in EXIT STATUS" {
	check_man_page "$KEEP_PATHS" keep-paths
	check_man_page "$KEEP_PATHS_SWEEP" keep-paths-sweep
}

@test "a config line longer than libinih's buffer is an error naming it, not two lines" {
	long=$(printf 'a%.0s' $(seq 250))
	printf 'store = unix:///%s\nquiet = yes\n' "$long" >"$BATS_TEST_TMPDIR/long.conf"
	run -64 "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/long.conf" --print-store
	assert_output "keep-paths: $BATS_TEST_TMPDIR/long.conf:1: line too long (at most 198 bytes)"
	printf '[sweep]\nmin-age = 1m\n%s\n' "$long" >"$BATS_TEST_TMPDIR/long.conf"
	run -64 "$KEEP_PATHS_SWEEP" --config "$BATS_TEST_TMPDIR/long.conf" "$BATS_TEST_TMPDIR"
	assert_output "keep-paths-sweep: $BATS_TEST_TMPDIR/long.conf:3: line too long (at most 198 bytes)"
	# A file of zeros (or a FIFO that never ends a line) is read no further.
	run -64 "$KEEP_PATHS" --config /dev/zero --print-store
	assert_output "keep-paths: /dev/zero:1: a NUL byte in a line"
	printf 'store = daemon\n%198s\n' '' >"$BATS_TEST_TMPDIR/fits.conf"
	run -0 "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/fits.conf" --print-store
}

@test "set-user-ID or set-group-ID: both programs refuse to run, exit 77" {
	[ "$(id -u)" = 0 ] || skip "needs root to make a set-user-ID copy"
	d=$(mktemp -d /tmp/kp-setid.XXXXXX)
	chmod 755 "$d"
	cp "$KP_BUILDDIR/keep-paths" "$KP_BUILDDIR/keep-paths-sweep" "$d/"
	chown 0:0 "$d/keep-paths" "$d/keep-paths-sweep"	# before the bits: it clears them
	chmod 4755 "$d/keep-paths"
	chmod 2755 "$d/keep-paths-sweep"
	if ! setpriv --reuid=4242 --regid=4242 --clear-groups "$d/keep-paths" --version >/dev/null 2>&1 &&
	    findmnt -no OPTIONS --target "$d" | grep -qw nosuid; then
		rm -rf "$d"
		skip "/tmp is mounted nosuid"
	fi
	run -77 setpriv --reuid=4242 --regid=4242 --clear-groups "$d/keep-paths" --print-store
	assert_output --partial "keep-paths: refusing to run set-user-ID or set-group-ID"
	run setpriv --reuid=4242 --regid=4242 --clear-groups "$d/keep-paths-sweep" -n /tmp
	assert_output --partial "keep-paths-sweep: refusing to run set-user-ID or set-group-ID"
	# LeakSanitizer fails at exit in a set-group-ID process, whatever
	# ASAN_OPTIONS says (a secure process ignores it): the sanitized build.
	if grep -q __asan_init "$d/keep-paths-sweep"; then
		assert_output --partial "LeakSanitizer has encountered a fatal error"
	else
		assert_equal "$status" 77
	fi
	# Root running its own copy is not set-ID.
	run -0 "$d/keep-paths" --version
	rm -rf "$d"
}

@test "a store's child inherits no fd of keep-paths' but stdio and stderr (--fd N neither)" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	# A stand-in ssh: lists its open fds' targets, then fails to connect.
	cat >"$BATS_TEST_TMPDIR/bin/ssh" <<-'SH'
	#!/bin/sh
	for fd in /proc/$$/fd/*; do readlink "$fd"; done >"$FDS_OUT"
	exit 255
	SH
	chmod +x "$BATS_TEST_TMPDIR/bin/ssh"
	: >"$BATS_TEST_TMPDIR/marker"
	mkfifo "$BATS_TEST_TMPDIR/parent-fifo"
	FDS_OUT=$BATS_TEST_TMPDIR/fds PATH=$BATS_TEST_TMPDIR/bin:$PATH \
	    run -69 "$KEEP_PATHS" --no-reconnect --fd 8 --store ssh-ng://nowhere \
	    7<"$BATS_TEST_TMPDIR/marker" 8<>"$BATS_TEST_TMPDIR/parent-fifo" \
	    <"$BATS_TEST_TMPDIR/marker"
	run -0 cat "$BATS_TEST_TMPDIR/fds"
	refute_output --partial marker
	refute_output --partial parent-fifo
	assert_output --partial socket:
}

@test "Nix's config: an include of a FIFO, a device or more than 1 MiB in all is an error, never a hang or a slurp without end" {
	d=$BATS_TEST_TMPDIR/nixconf
	mkdir -p "$d"
	mkfifo "$d/fifo"
	head -c 600000 /dev/zero | tr '\0' '#' >"$d/big"
	for inc in /dev/zero fifo; do
		echo "include $inc" >"$d/nix.conf"
		NIX_CONF_DIR=$d run -64 timeout 10 "$KEEP_PATHS" --print-store
		assert_output --partial ": not a regular file"
	done
	# Each file fits; together they are past the budget.
	printf 'include big\ninclude big\n' >"$d/nix.conf"
	NIX_CONF_DIR=$d run -64 "$KEEP_PATHS" --print-store
	assert_output "keep-paths: $d/big: past the 1 MiB that Nix's configuration files may have in all"
	printf 'include big\nstore = daemon\n' >"$d/nix.conf"
	NIX_CONF_DIR=$d run -0 "$KEEP_PATHS" --print-store
	assert_output --partial "(store = daemon in $d/nix.conf)"
}
