#!/usr/bin/env bats
# keep-paths-sweep: stale session directories go, live ones and the
# caller's own stay, and a hostile tree cannot turn it against anything
# outside ROOT.

load helpers

: "${KEEP_PATHS_SWEEP:=${KEEP_PATHS%/*}/keep-paths-sweep}"

setup_file() {
	# No Nix store needed: session directories are plain directories.
	export XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/xdg" HOME="$BATS_FILE_TMPDIR/home"
	mkdir -p "$XDG_CONFIG_HOME" "$HOME"
	unset KEEP_PATHS_SESSION
}

setup() {
	R="$BATS_TEST_TMPDIR/root"
	mkdir -p "$R"
}

teardown() {
	[ -z "${holders:-}" ] || kill $holders 2>/dev/null || true
	[ -z "${mounted:-}" ] || umount "$mounted" 2>/dev/null || true
	[ -z "${immutable:-}" ] || chattr -R -i "$R" 2>/dev/null || true
}

# A dead session: a directory with something in it, and no lock.
dead() {
	mkdir -p "$R/$1/sub"
	echo "data of $1" >"$R/$1/sub/file"
}

# Holds flock(LOCK_EX) on a directory from another process until the test
# ends; returns once the lock is taken.
hold_lock() {
	local ready=$BATS_TEST_TMPDIR/ready.$RANDOM
	mkfifo "$ready"
	perl -MFcntl=:flock -e 'open(my $f, "<", $ARGV[0]) or die;
	    flock($f, LOCK_EX) or die; open(my $r, ">", $ARGV[1]) or die;
	    close $r; sleep 60' "$1" "$ready" 3>&- &
	holders="${holders:-} $!"
	cat "$ready" >/dev/null
	rm "$ready"
}

# A live session: its owner holds the lock.
live() {
	dead "$1"
	hold_lock "$R/$1"
}

sweep() {
	"$KEEP_PATHS_SWEEP" --min-age 0 "$@"
}

@test "a dead session is removed, a live one kept, a young one kept" {
	dead old-7-00c0ffee
	live busy-7-00c0ffee
	run -0 sweep -v "$R"
	assert_line --regexp "^deleted $R/old-7-00c0ffee: no owner holds its lock \([0-9]+ bytes\)$"
	assert_line "kept-live $R/busy-7-00c0ffee: its owner holds the lock"
	refute [ -e "$R/old-7-00c0ffee" ]
	assert [ -e "$R/busy-7-00c0ffee/sub/file" ]
	dead fresh-7-00c0ffee
	run -0 "$KEEP_PATHS_SWEEP" -v "$R"
	assert_line "kept-young $R/fresh-7-00c0ffee: younger than min-age"
	assert [ -e "$R/fresh-7-00c0ffee/sub/file" ]
	# Young comes first: a young entry is not even probed.
	assert_line --partial "summary: 0 deleted, 0 kept-self, 0 kept-live, 2 kept-young,"
}

@test "the caller's own session is kept by identity, even with its lock held through the sweeper's own fd" {
	dead mine-7-00c0ffee
	# The sweeper itself holds the lock, through an inherited fd: a probe
	# from the same process must not be what decides.
	exec {lock}<"$R/mine-7-00c0ffee"
	flock -x "$lock"
	run -0 sweep -v --self "$R/mine-7-00c0ffee" "$R"
	assert_line "kept-self $R/mine-7-00c0ffee: the caller's own session"
	exec {lock}<&-
	# Unlocked, it is still kept: identity comes first, never a probe.
	run -0 sweep -v --self "$R/mine-7-00c0ffee" "$R"
	assert_line "kept-self $R/mine-7-00c0ffee: the caller's own session"
	# Another spelling, through a symlink, is the same directory.
	ln -s "$R/mine-7-00c0ffee" "$BATS_TEST_TMPDIR/alias"
	run -0 sweep -v --self "$BATS_TEST_TMPDIR/alias/" "$R"
	assert_line "kept-self $R/mine-7-00c0ffee: the caller's own session"
	KEEP_PATHS_SESSION="$R/./mine-7-00c0ffee" run -0 sweep -v "$R"
	assert_line "kept-self $R/mine-7-00c0ffee: the caller's own session"
	assert [ -e "$R/mine-7-00c0ffee/sub/file" ]
	run -0 sweep "$R"
	refute [ -e "$R/mine-7-00c0ffee" ]
}

@test "--dry-run changes nothing and leaves no lock behind" {
	dead old-7-00c0ffee
	run -0 sweep --dry-run "$R"
	assert_line --regexp "^deleted $R/old-7-00c0ffee: dry run: would be deleted \([0-9]+ bytes\)$"
	assert [ -e "$R/old-7-00c0ffee/sub/file" ]
	run ls -A "$R"
	assert_output "old-7-00c0ffee"
	flock -n -x "$R/old-7-00c0ffee" true
}

@test "a symlink planted as a session, or inside one, never reaches its target" {
	mkdir "$BATS_TEST_TMPDIR/outside"
	echo precious >"$BATS_TEST_TMPDIR/outside/file"
	ln -s "$BATS_TEST_TMPDIR/outside" "$R/planted"
	dead old-7-00c0ffee
	ln -s "$BATS_TEST_TMPDIR/outside" "$R/old-7-00c0ffee/link"
	ln -s "$BATS_TEST_TMPDIR/outside/file" "$R/old-7-00c0ffee/sub/filelink"
	run -0 sweep "$R"
	assert_line "not-a-session $R/planted: a symbolic link"
	assert_line --partial "deleted $R/old-7-00c0ffee: no owner holds its lock"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/outside/file")" precious
	assert [ -L "$R/planted" ]
	echo "plain file" >"$R/notes"
	run -0 sweep "$R"
	assert_line "not-a-session $R/notes: not a directory"
}

@test "a symlink swapped in for a directory during the sweep is never followed" {
	mkdir "$BATS_TEST_TMPDIR/outside"
	for i in $(seq 50); do
		echo "precious $i" >"$BATS_TEST_TMPDIR/outside/f$i"
	done
	for n in $(seq 40); do
		dead "s$n-7-00c0ffee"
		mkdir -p "$R/s$n-7-00c0ffee/a/b/c"
		touch "$R/s$n-7-00c0ffee/a/b/c/x"
	done
	# Swap each session's subdirectory for a symlink out of ROOT, and
	# back, as fast as possible while the sweep runs.
	(
		set +e
		while :; do
			for n in $(seq 40); do
				mv "$R/s$n-7-00c0ffee/a" "$R/s$n-7-00c0ffee/a.d" 2>/dev/null &&
				ln -s "$BATS_TEST_TMPDIR/outside" "$R/s$n-7-00c0ffee/a" 2>/dev/null
				rm -f "$R/s$n-7-00c0ffee/a" 2>/dev/null
				mv "$R/s$n-7-00c0ffee/a.d" "$R/s$n-7-00c0ffee/a" 2>/dev/null
			done
		done
	) 3>&- &
	swapper=$!
	holders="${holders:-} $swapper"
	run sweep "$R"
	kill "$swapper"; wait "$swapper" || true
	for i in $(seq 50); do
		assert_equal "$(cat "$BATS_TEST_TMPDIR/outside/f$i")" "precious $i"
	done
	run -0 sweep "$R"
	run ls -A "$R"
	assert_output ""
}

@test "a session on another mount is left alone" {
	mkdir "$R/mounted"
	mount -t tmpfs tmpfs "$R/mounted" 2>/dev/null || skip "cannot mount a tmpfs here"
	mounted="$R/mounted"
	echo keep >"$R/mounted/file"
	dead old-7-00c0ffee
	mkdir "$R/old-7-00c0ffee/inner"
	mount -t tmpfs tmpfs "$R/old-7-00c0ffee/inner"
	echo keep >"$R/old-7-00c0ffee/inner/file"
	run -1 sweep "$R"
	assert_line "not-a-session $R/mounted: on another file system"
	assert_line "error $R/old-7-00c0ffee: inner: on another file system: left alone"
	assert_equal "$(cat "$R/mounted/file")" keep
	# Claimed, the session was renamed to a trash name, mount and all;
	# its mount is left alone there.
	inner=$(echo "$R"/.trash-*/inner)
	assert_equal "$(cat "$inner/file")" keep
	umount "$inner"
}

@test "a directory too deep for recursion is removed without a crash" {
	dead deep-7-00c0ffee
	# 3,000 levels: far past any fd or stack budget of a recursive walk.
	deep_tree "$R/deep-7-00c0ffee" 3000 d
	run -0 sweep "$R"
	assert_line --partial "deleted $R/deep-7-00c0ffee: no owner holds its lock"
	run ls -A "$R"
	assert_output ""
}

@test "a tree whose paths pass PATH_MAX: no fd of the sweeper's is one a collector cannot read" {
	dead long-7-00c0ffee
	# 30 levels of 200-byte names: 6 KiB of path.  The files at the
	# bottom keep the sweeper there long enough to be seen.
	deep_tree "$R/long-7-00c0ffee" 30 "$(printf 'x%.0s' $(seq 200))" 20000
	"$KEEP_PATHS_SWEEP" --min-age 0 "$R" >"$BATS_TEST_TMPDIR/out" 3>&- &
	pid=$!
	run -0 proc_fd_probe "$pid"
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --partial "deleted $R/long-7-00c0ffee: no owner holds its lock"
	run ls -A "$R"
	assert_output ""
}

@test "a mount in a tree deeper than one pass: every other entry still goes, and what is left is said" {
	dead deep-7-00c0ffee
	deep_tree "$R/deep-7-00c0ffee" 40 d
	mkdir "$R/deep-7-00c0ffee/m"
	mount -t tmpfs tmpfs "$R/deep-7-00c0ffee/m" 2>/dev/null || skip "cannot mount a tmpfs here"
	mounted="$R/deep-7-00c0ffee/m"
	echo keep >"$R/deep-7-00c0ffee/m/file"
	run -1 sweep "$R"
	assert_line "error $R/deep-7-00c0ffee: m: on another file system: left alone"
	# The 40 levels were lifted and emptied in later passes, despite the
	# mount: only the renamed session and its mount point are left.
	mounted=$(echo "$R"/.trash-*/m)
	assert_equal "$(cat "$mounted/file")" keep
	run -0 find "$R" -mindepth 1 -not -path "$mounted/*"
	assert_output "${mounted%/m}
$mounted"
}

@test "--dry-run counts what it cannot measure in place instead of undercounting it" {
	dead deep-7-00c0ffee
	deep_tree "$R/deep-7-00c0ffee" 40 d
	run -0 sweep --dry-run "$R"
	assert_line --regexp "^deleted $R/deep-7-00c0ffee: dry run: would be deleted; bytes leave out 1 subtree too deep to measure without moving it \([0-9]+ bytes\)$"
	dead shallow-7-00c0ffee
	run -0 sweep --dry-run "$R"
	assert_line --regexp "^deleted $R/shallow-7-00c0ffee: dry run: would be deleted \([0-9]+ bytes\)$"
}

@test "every entry is reported once, even one whose removal fails after its rename" {
	# Enough entries that a directory read spans several getdents calls,
	# so a trash name made during the pass could be met again.
	for i in $(seq 1500); do
		mkdir -p "$R/session-with-a-name-long-enough-$i-7-00c0ffee/sub"
		: >"$R/session-with-a-name-long-enough-$i-7-00c0ffee/sub/f"
	done
	immutable=1
	chattr +i "$R"/session-*/sub/f 2>/dev/null || skip "no chattr +i here"
	run -1 sweep "$R"
	run -0 grep -c "^error $R/" <<<"$output"
	assert_output 1500
}

@test "a sessions root that is a symbolic link is refused (keep-paths refuses it too: keep-paths-gcroots.bats)" {
	dead old-7-00c0ffee
	ln -s "$R" "$BATS_TEST_TMPDIR/link"
	run -1 sweep "$BATS_TEST_TMPDIR/link"
	assert_line "error $BATS_TEST_TMPDIR/link: a symbolic link on its path: a sessions root must be reached through directories only, as no sweeper follows a link"
	assert [ -d "$R/old-7-00c0ffee" ]
}

@test "names with newlines and non-UTF-8 bytes are removed and reported encoded" {
	dead "$(printf 'new\nline-7-00c0ffee')"
	dead "$(printf 'bad\377byte-7-00c0ffee')"
	mkdir -p "$R/plain-7-00c0ffee/$(printf 'in\nside')"
	run -0 sweep "$R"
	assert_line --partial 'deleted '"$R"'/new\nline-7-00c0ffee: no owner holds its lock'
	assert_line --partial 'deleted '"$R"'/bad\377byte-7-00c0ffee: no owner holds its lock'
	run ls -A "$R"
	assert_output ""
	dead "$(printf 'q"uote\\-7-00c0ffee')"
	run -0 sweep --json "$R"
	# JSON of the vis(3) encoding: q"uote\ -> q"uote\\ -> q\"uote\\\\
	assert_line --partial '{"path":"'"$R"'/q\"uote\\\\-7-00c0ffee","decision":"deleted"'
}

@test "an interrupted removal is finished by the next sweep; one in progress is left to its sweeper" {
	dead .trash-0123456789abcdef
	run -0 sweep "$R"
	assert_line --partial "deleted $R/.trash-0123456789abcdef: finished an interrupted removal"
	live_trash=.trash-fedcba9876543210
	live "$live_trash"
	run -0 sweep -v "$R"
	assert_line "kept-live $R/$live_trash: another sweeper is removing it"
}

@test "two sweepers at once never both delete an entry, nor fail because of each other" {
	for n in $(seq 300); do
		mkdir -p "$R/s$n-7-00c0ffee/a/b"
		echo "$n" >"$R/s$n-7-00c0ffee/a/b/f"
	done
	sweep --json "$R" >"$BATS_TEST_TMPDIR/one" 3>&- &
	one=$!
	sweep --json "$R" >"$BATS_TEST_TMPDIR/two" 3>&- &
	two=$!
	wait "$one"
	wait "$two"
	deleted=$(cat "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/two" | grep -c '"decision":"deleted"')
	assert_equal "$deleted" 300
	run grep -h '"decision":"error"' "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/two"
	assert_output ""
	run ls -A "$R"
	assert_output ""
}

@test "--json: one object per entry, then a summary" {
	dead old-7-00c0ffee
	live busy-7-00c0ffee
	run -0 sweep --json "$R"
	assert_line --regexp '^\{"path":"'"$R"'/old-7-00c0ffee","decision":"deleted","reason":"no owner holds its lock","bytes":[1-9][0-9]*\}$'
	assert_line '{"path":"'"$R"'/busy-7-00c0ffee","decision":"kept-live","reason":"its owner holds the lock","bytes":0}'
	assert_line --regexp '^\{"summary":\{"deleted":1,"kept-self":0,"kept-live":1,"kept-young":0,"kept-unknown":0,"not-a-session":0,"error":0,"bytes":[1-9][0-9]*\}\}$'
}

@test "exit status: 1 for errors, 64 for usage; [sweep] min-age from the config, the command line wins" {
	run -1 "$KEEP_PATHS_SWEEP" "$BATS_TEST_TMPDIR/absent"
	assert_line "error $BATS_TEST_TMPDIR/absent: No such file or directory"
	run -64 "$KEEP_PATHS_SWEEP"
	run -64 --separate-stderr "$KEEP_PATHS_SWEEP" --min-age 5x "$R"
	assert_equal "$stderr" "keep-paths-sweep: --min-age 5x: not a duration (30s, 10m, 2h, 1d)"
	run -64 --separate-stderr "$KEEP_PATHS_SWEEP" --self "$BATS_TEST_TMPDIR/absent" "$R"
	dead old-7-00c0ffee
	printf '[sweep]\nmin-age = 0\n' >"$BATS_TEST_TMPDIR/conf"
	run -0 "$KEEP_PATHS_SWEEP" --config "$BATS_TEST_TMPDIR/conf" --min-age 1h -v "$R"
	assert_line "kept-young $R/old-7-00c0ffee: younger than min-age"
	run -0 "$KEEP_PATHS_SWEEP" --config "$BATS_TEST_TMPDIR/conf" "$R"
	assert_line --partial "deleted $R/old-7-00c0ffee"
	printf '[sweep]\nmin-age = soon\n' >"$BATS_TEST_TMPDIR/conf"
	run -64 --separate-stderr "$KEEP_PATHS_SWEEP" --config "$BATS_TEST_TMPDIR/conf" "$R"
	assert_equal "$stderr" "keep-paths-sweep: $BATS_TEST_TMPDIR/conf:2: min-age: 'soon' is not a duration (30s, 10m, 2h, 1d)"
}

@test "--help prints usage on stdout and exits 0; --version prints the version" {
	run -0 --separate-stderr "$KEEP_PATHS_SWEEP" --help
	assert_line --index 0 --partial "usage: keep-paths-sweep [-hnvV]"
	assert_equal "$stderr" ""
	run -0 "$KEEP_PATHS_SWEEP" -V
	assert_output --regexp '^keep-paths-sweep [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "only names a session has are removed: a directory the sweep was pointed at by mistake keeps its own" {
	mkdir -p "$R/src/lib" "$R/doc" "$R/keep-paths-12-nothex00" "$R/-12-0123abcd"
	dead real-12-0123abcd
	dead .new-0123abcd
	dead .trash-0123
	run -0 sweep -v "$R"
	assert_line "not-a-session $R/src: not a session's name"
	assert_line "not-a-session $R/doc: not a session's name"
	assert_line "not-a-session $R/keep-paths-12-nothex00: not a session's name"
	assert_line "not-a-session $R/-12-0123abcd: not a session's name"
	assert_line "not-a-session $R/.trash-0123: not a session's name"
	assert_line --partial "deleted $R/real-12-0123abcd: no owner holds its lock"
	assert_line --partial "deleted $R/.new-0123abcd: no owner holds its lock"
	run ls -A "$R"
	assert_output "$(printf '%s\n' -12-0123abcd .trash-0123 doc keep-paths-12-nothex00 src | LC_ALL=C sort)"
}

@test "as root: only entries owned by the sessions root's owner are removed" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	dead mine-12-0123abcd
	dead theirs-12-0123abcd
	chown -R 4242:4242 "$R/theirs-12-0123abcd"
	run -0 sweep "$R"
	assert_line "not-a-session $R/theirs-12-0123abcd: owned by uid 4242"
	assert_line --partial "deleted $R/mine-12-0123abcd: no owner holds its lock"
	assert [ -e "$R/theirs-12-0123abcd/sub/file" ]
	# A user's own sessions root: theirs go, and a root-owned entry stays.
	chown 4242:4242 "$R"
	dead rootowned-12-0123abcd
	run -0 sweep "$R"
	assert_line --partial "deleted $R/theirs-12-0123abcd: no owner holds its lock"
	assert_line "not-a-session $R/rootowned-12-0123abcd: owned by uid 0"
}

@test "as root: a user who swaps a per-user directory for a link cannot point the sweep elsewhere" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	# gcroots/per-user left world-writable, as some installs leave it.
	pu=$BATS_TEST_TMPDIR/gcroots/per-user
	mkdir -p "$pu"
	chmod 1777 "$pu" "$BATS_TEST_TMPDIR/gcroots"
	# Elsewhere: a checkout with a directory that happens to be named
	# keep-paths, whose old, unlocked entries look like sessions.
	co=$BATS_TEST_TMPDIR/checkout
	mkdir -p "$co/keep-paths/src-1-0123abcd" "$co/keep-paths/doc"
	echo precious >"$co/keep-paths/src-1-0123abcd/main.c"
	touch -d '2 days ago' "$co/keep-paths/src-1-0123abcd" "$co/keep-paths/doc"
	ln -s "$co" "$pu/mallory"
	chown -h 4242:4242 "$pu/mallory"	# theirs, as if they had made it
	run -1 "$KEEP_PATHS_SWEEP" "$pu/mallory/keep-paths"
	assert_line "error $pu/mallory/keep-paths: a symbolic link on its path: a sessions root must be reached through directories only, as no sweeper follows a link"
	assert_equal "$(cat "$co/keep-paths/src-1-0123abcd/main.c")" precious
	assert [ -d "$co/keep-paths/doc" ]
}
