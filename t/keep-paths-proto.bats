#!/usr/bin/env bats
# Protocol conformance against recorded sessions of real daemons: Nix
# 2.24.15 (protocol 1.38) and Nix 2.8.0 (1.34), in t/transcripts/.  The
# replay double plays the daemon's recorded bytes and checks that
# keep-paths sends exactly the recorded client bytes, message by message.
# It stands in only for versions no real daemon here provides; the real
# Nix 2.8 daemon of the other test files stays the main test peer.
#
# Every session below is one keep-paths run rooting valid1, missing and
# valid2 as one batch: handshake and SetOptions (recording a), the
# store-directory probe (an IsValidPath, answered as in g2), AddTempRoot
# of each path (b1, b2, and b1's reply for valid2), the GC barrier (d1),
# and QueryValidPaths (c).  Lines marked "(derived)" in a script are not
# verbatim from a recording; each test says what it changed.

load helpers
load replay

# A replay needs no store and no daemon.
setup_file() {
	kp_store_setup
}

teardown_file() {
	:
}

# The fixture paths of one recorded daemon (see its README.md).
fixtures() {
	case $1 in
	nix-2.24.15)
		SD=/tmp/nn/store
		V1=$SD/28ccplp7lf6sm4rs7j2rswbx1pa923hm-alpha.txt
		V2=$SD/3npfdknnc8828klglj18dp154gkbmaj4-beta.txt ;;
	nix-2.8.0)
		SD=/tmp/n8/store
		V1=$SD/r4iacc8vhgjr93wj1ymg6mg6d7gggza1-alpha.txt
		V2=$SD/nnyd4wja1bdx3bj0h86hr1f7gy81lk5k-beta.txt ;;
	esac
	MISSING=$SD/5g5xqnpm0dy0a6c2lkm2j3bqqq0lc9c9-missing-path
	PROBE=$SD/00000000000000000000000000000000-keep-paths-probe
}

# handshake DAEMON DIR: the recorded handshake, SetOptions and the probe.
handshake() {
	tx_part "$KP_TX/$1/$2/a_handshake_setoptions.txt" handshake |
	    tx_client_features | tx_daemon_features ${DAEMON_FEATURES[@]+"${DAEMON_FEATURES[@]}"}
	tx_request 1 "$PROBE"
	tx_daemon_replies "$KP_TX/$1/$2/g2_isvalidpath_invalid.txt"
}

# session DAEMON DIR: the whole session described at the top.
session() {
	local dir="$KP_TX/$1/$2"
	handshake "$1" "$2"
	tx_part "$dir/b1_addtemproot_valid.txt" ops
	tx_part "$dir/b2_addtemproot_missing.txt" ops
	tx_request 11 "$V2"
	tx_daemon_replies "$dir/b1_addtemproot_valid.txt"
	[ "${NO_BARRIER:-}" ] || tx_part "$dir/d1_collectgarbage_returndead.txt" ops
	tx_part "$dir/c_queryvalidpaths.txt" ops
}

# run_session SCRIPT: plays SCRIPT to keep-paths rooting the three paths,
# and checks the replies and the replay's verdict.
run_session() {
	replay_start "$1"
	NIX_STORE_DIR=$SD kp_start --store "unix://$REPLAY_SOCKET" \
	    ${KP_OPTS[@]+"${KP_OPTS[@]}"} "$V1" "$MISSING" "$V2"
	kp_reply; assert_equal "$reply" "ok $V1"
	kp_reply; assert_equal "$reply" "missing $MISSING"
	kp_reply; assert_equal "$reply" "ok $V2"
	kp_stop
	assert_equal "$kp_status" 0
	replay_finish
}

@test "the replay double catches a client byte that differs from the recording" {
	fixtures nix-2.24.15
	# Expect SetOptions with verbosity 1: keep-paths sends 0.
	session nix-2.24.15 v1.38 |
	    sed 's/^< 00 00 00 00 00 00 00 00 # verbosity (0 = lvlError) = 0 (0x0)$/< 01 00 00 00 00 00 00 00 # verbosity/' \
	    >"$BATS_TEST_TMPDIR/script"
	run grep -c '# verbosity$' "$BATS_TEST_TMPDIR/script"
	assert_output 1
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start --store "unix://$REPLAY_SOCKET" "$V1"
	# Waited for here, not under run: a subshell cannot wait for it.
	if replay_finish 2>"$BATS_TEST_TMPDIR/verdict"; then
		fail "the replay accepted bytes that differ from the script"
	fi
	run cat "$BATS_TEST_TMPDIR/verdict"
	# 0x48 in the recording; keep-paths' feature list is 24 bytes longer.
	assert_output --partial "client bytes differ at client offset 0x60, in verbosity"
	assert_line "replay:   expected 01 00 00 00 00 00 00 00"
	assert_line "replay:   got      00 00 00 00 00 00 00 00"
	kp_stop
}

@test "1.38, Nix 2.24.15: feature exchange (ours: addTempRoots, derived; the daemon's empty), trust word (recorded)" {
	fixtures nix-2.24.15
	session nix-2.24.15 v1.38 >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "1.37, Nix 2.24.15 (derived: daemon offers 1.37, keep-paths still 1.38)" {
	fixtures nix-2.24.15
	session nix-2.24.15 v1.37 | tx_version client 0x126 |
	    tx_version daemon 0x125 >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "1.35, Lix's floor (derived: daemon offers 1.35, keep-paths still 1.38)" {
	fixtures nix-2.24.15
	session nix-2.24.15 v1.35 | tx_version client 0x126 |
	    tx_version daemon 0x123 >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "1.34, Nix 2.24.15 (derived: daemon offers 1.34, keep-paths still 1.38)" {
	fixtures nix-2.24.15
	session nix-2.24.15 v1.34 | tx_version client 0x126 |
	    tx_version daemon 0x122 >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "1.34, Nix 2.8.0 (recorded as is: a 1.38 client meeting Debian's daemon)" {
	fixtures nix-2.8.0
	session nix-2.8.0 v1.38 >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "a daemon offering 1.39 or 1.40 is spoken to at 1.38 (derived version word)" {
	fixtures nix-2.24.15
	for word in 0x127 0x128; do
		session nix-2.24.15 v1.38 | tx_version daemon "$word" \
		    >"$BATS_TEST_TMPDIR/script"
		run_session "$BATS_TEST_TMPDIR/script"
	done
}

# --barrier: a daemon reporting Nix 2.35 or later at protocol 1.38 needs
# no barrier (its collector re-checks temp roots before each deletion);
# Lix (2.90 and up, protocol 1.35) and everything unknown keep it.  The
# replay holds keep-paths to the exact bytes: a barrier sent or left out
# where the script says otherwise fails it.  The version strings are
# derived from the 2.24.15 recording: no Nix 2.35 is packaged yet.
barrier_session() {	# VERSION_WORD NIX_VERSION [OPTION...]
	local word=$1 version=$2
	shift 2
	fixtures nix-2.24.15
	session nix-2.24.15 v1.38 | tx_version daemon "$word" |
	    tx_nix_version "$version" >"$BATS_TEST_TMPDIR/script"
	KP_OPTS=("$@")
	run_session "$BATS_TEST_TMPDIR/script"
	KP_OPTS=()
}

@test "--barrier=auto: no barrier for Nix 2.35.0 at 1.38 (derived version string)" {
	NO_BARRIER=1 barrier_session 0x126 2.35.0
	NO_BARRIER=1 barrier_session 0x126 2.36.1pre20270101_0123abc
	NO_BARRIER=1 barrier_session 0x127 2.89.0 --barrier=auto
}

@test "--barrier=auto keeps the barrier for Nix 2.34, Lix and unknown versions" {
	barrier_session 0x126 2.34.8
	barrier_session 0x126 2.93.0	# Lix's numbering, were it at 1.38
	barrier_session 0x126 3.11.2
	barrier_session 0x126 2.
	barrier_session 0x126 "nix (Determinate Nix 3.11.2) 2.31.2"
	barrier_session 0x126 "$(printf '2.35.%070d' 0)"	# too long to trust
	# 2.35 at 1.37: no such Nix, so the barrier stays.
	session nix-2.24.15 v1.37 | tx_version client 0x126 |
	    tx_version daemon 0x125 | tx_nix_version 2.35.0 \
	    >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "1.35 with a Lix version string keeps the barrier (derived)" {
	fixtures nix-2.24.15
	session nix-2.24.15 v1.35 | tx_version client 0x126 |
	    tx_version daemon 0x123 | tx_nix_version 2.93.0 \
	    >"$BATS_TEST_TMPDIR/script"
	run_session "$BATS_TEST_TMPDIR/script"
}

@test "--barrier=always and --barrier=never override what the daemon says" {
	barrier_session 0x126 2.35.0 --barrier=always
	NO_BARRIER=1 barrier_session 0x126 2.24.15 --barrier=never
}

@test "--barrier takes always, auto or never only" {
	run -64 --separate-stderr "$KEEP_PATHS" --barrier=sometimes </dev/null
	assert_equal "$stderr" "keep-paths: --barrier sometimes: not always, auto or never"
}

# The client's hello, then the daemon's magic with version word $1.
hello_only() {
	tx_part "$KP_TX/nix-2.24.15/v1.38/a_handshake_setoptions.txt" handshake |
	    head -n 4 | tx_version daemon "$1"
}

# refused_at WORD MESSAGE: a daemon offering version WORD is refused with
# MESSAGE (after "keep-paths: SOCKET: ") and exit 76.
refused_at() {
	fixtures nix-2.24.15
	hello_only "$1" >"$BATS_TEST_TMPDIR/script"
	replay_start "$BATS_TEST_TMPDIR/script"
	stdin_open
	run -76 --separate-stderr env NIX_STORE_DIR=$SD "$KEEP_PATHS" \
	    --store "unix://$REPLAY_SOCKET" "$V1" <&"$hold"
	assert_equal "$stderr" "keep-paths: $REPLAY_SOCKET: $2"
	replay_finish
}

@test "a daemon older than 1.34 is refused with both versions named, exit 76" {
	refused_at 0x121 "daemon protocol 1.33 is older than 1.34, the oldest keep-paths speaks (Nix 2.8)"
}

@test "a Guix daemon (minor 0x63) is refused, exit 76" {
	refused_at 0x163 "daemon speaks protocol 1.99, keep-paths speaks 1.34 to 1.38"
}

# A batch of one path at DIR: AddTempRoot answered by REPLY_FILE's first
# operation's reply (or b1's), the barrier, and QueryValidPaths([path]).
one_path_batch() {
	local dir="$KP_TX/$1/$2" path=$3
	tx_request 11 "$path"
	if [ -n "${4:-}" ]; then
		first_reply "$4"
	else
		tx_daemon_replies "$dir/b1_addtemproot_valid.txt"
	fi
	tx_part "$dir/d1_collectgarbage_returndead.txt" ops
	tx_query_valid "$path"
	tx_valid_reply "$path"
}

# first_reply FILE: the daemon's reply to the first operation of FILE.
first_reply() {
	awk '/^# === request:/ { n++ } n == 2 && /^D->C/' "$1" |
	    awk '{ hex = substr($0, 14, 48); sub(/ +$/, "", hex);
	           print "> " hex " # " substr($0, 81) }'
}

# refused_then_ok: a script whose daemon refuses V1's AddTempRoot with
# e3's one STDERR_ERROR frame (derived), then takes V1 when asked again.
refused_then_ok() {
	local e3="$KP_TX/nix-2.24.15/v1.38/e3_collectgarbage_ignoreliveness_error_then_isvalidpath.txt"
	handshake nix-2.24.15 v1.38
	one_path_batch nix-2.24.15 v1.38 "$V1" "$e3"
	one_path_batch nix-2.24.15 v1.38 "$V1"
}

@test "an error during an operation (e3): that line gets an error reply, the session goes on" {
	fixtures nix-2.24.15
	refused_then_ok >"$BATS_TEST_TMPDIR/script"
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start --store "unix://$REPLAY_SOCKET" "$V1"
	kp_reply
	assert_equal "$reply" "error $V1: you are not allowed to ignore liveness"
	kp_send "$V1"
	kp_reply
	assert_equal "$reply" "ok $V1"
	kp_stop
	assert_equal "$kp_status" 0
	replay_finish
}

# A barrier covers every root sent before it: a batch whose roots are all
# held already, each sent before the last barrier, needs none.
@test "gcroots over a daemon that refuses a path (e3): its link goes with the error, the next ok makes it again" {
	fixtures nix-2.24.15
	refused_then_ok >"$BATS_TEST_TMPDIR/script"
	replay_start "$BATS_TEST_TMPDIR/script"
	local sessions="$BATS_TEST_TMPDIR/sessions"
	mkdir "$sessions"
	NIX_STORE_DIR=$SD NIX_REMOTE="unix://$REPLAY_SOCKET" \
	    kp_start --store "gcroots?dir=$sessions" "$V1"
	kp_reply
	assert_equal "$reply" "error $V1: you are not allowed to ignore liveness"
	# "error": nothing rooted for the line, the link neither.
	run find "$sessions" -type l
	assert_output ""
	kp_send "$V1"
	kp_reply
	assert_equal "$reply" "ok $V1"
	run find "$sessions" -type l
	assert_output --regexp "^$sessions/keep-paths-[0-9]+-[0-9a-f]{8}/${V1##*/}\$"
	kp_stop
	assert_equal "$kp_status" 0
	replay_finish
}

@test "a path asked again is only checked: no AddTempRoot, no barrier; a new one gets both" {
	fixtures nix-2.24.15
	{
		handshake nix-2.24.15 v1.38
		one_path_batch nix-2.24.15 v1.38 "$V1"
		tx_query_valid "$V1"
		tx_valid_reply "$V1"
		one_path_batch nix-2.24.15 v1.38 "$V2"
	} >"$BATS_TEST_TMPDIR/script"
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start --store "unix://$REPLAY_SOCKET" "$V1"
	kp_reply; assert_equal "$reply" "ok $V1"
	kp_send "$V1"
	kp_reply; assert_equal "$reply" "ok $V1"
	kp_send "$V2"
	kp_reply; assert_equal "$reply" "ok $V2"
	kp_stop
	assert_equal "$kp_status" 0
	replay_finish
}

@test "a request the daemon cannot read (e1: two STDERR_ERROR, then EOF): lost, exit 76" {
	fixtures nix-2.24.15
	e1="$KP_TX/nix-2.24.15/v1.38/e1_addtemproot_malformed.txt"
	{
		handshake nix-2.24.15 v1.38
		one_path_batch nix-2.24.15 v1.38 "$V1"
		# (derived: e1's two frames and hang-up answer a good path)
		tx_request 11 "$V2"
		first_reply "$e1"
		echo close
	} >"$BATS_TEST_TMPDIR/script"
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start --store "unix://$REPLAY_SOCKET" "$V1"
	kp_reply
	assert_equal "$reply" "ok $V1"
	kp_send "$V2"
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 76
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: the daemon could not read a request and is hanging up: path '/tmp/not-the-store/xyz-malformed' is not in the Nix store"
	assert_line "keep-paths: LOST 1 root: the store no longer protects it"
	replay_finish
}

# lost_76 MESSAGE: the script serves a session for $V1 whose root, held,
# is lost to a broken reply: "lost", exit 76, and MESSAGE on stderr.
lost_76() {
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start --store "unix://$REPLAY_SOCKET" --no-reconnect "$V1"
	kp_reply
	assert_equal "$reply" "lost"
	kp_stop
	assert_equal "$kp_status" 76
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "$1"
}

@test "a QueryValidPaths reply counting more paths than were asked: malformed at once, exit 76 (no wait for them)" {
	fixtures nix-2.24.15
	{
		handshake nix-2.24.15 v1.38
		tx_request 11 "$V1"
		tx_daemon_replies "$KP_TX/nix-2.24.15/v1.38/b1_addtemproot_valid.txt"
		tx_part "$KP_TX/nix-2.24.15/v1.38/d1_collectgarbage_returndead.txt" ops
		tx_query_valid "$V1"
		echo "> $(wire_u64 $((0x616c7473))) # STDERR_LAST (derived)"
		echo "> $(wire_u64 $((1 << 23))) # valid paths: count 2^23, 1 asked (derived)"
		echo "> $(wire_string "$V1") # the one path (derived)"
	} >"$BATS_TEST_TMPDIR/script"
	lost_76 "keep-paths: malformed reply from the daemon"
	replay_finish
}

@test "a daemon message that never ends is cut off at 4 MiB: exit 76, not a buffer without bound" {
	fixtures nix-2.24.15
	{
		handshake nix-2.24.15 v1.38
		tx_request 11 "$V1"
		tx_daemon_replies "$KP_TX/nix-2.24.15/v1.38/b1_addtemproot_valid.txt"
		tx_part "$KP_TX/nix-2.24.15/v1.38/d1_collectgarbage_returndead.txt" ops | grep '^<'
		echo "> $(wire_u64 $((0x616c7473))) # STDERR_LAST (derived)"
		echo "> $(wire_u64 $((1 << 20))) # deleted paths: 2^20 empty strings, 8 MiB (derived)"
		# 4.5 MiB of them, then silence: the message is never complete.
		perl -e 'my $l = "> " . join(" ", ("00") x 4096) . "\n"; print $l x 1152'
	} >"$BATS_TEST_TMPDIR/script"
	lost_76 "keep-paths: a message from the daemon longer than 4194304 bytes"
	kill "$REPLAY_PID" 2>/dev/null || true
}

# multi_refused PATH: AddTempRoots for PATH answered by e3's one
# STDERR_ERROR frame (derived), then the daemon hangs up: what keep-paths
# pipelined behind it is never read.
multi_refused() {
	tx_add_temp_roots "$1"
	first_reply "$KP_TX/nix-2.24.15/v1.38/e3_collectgarbage_ignoreliveness_error_then_isvalidpath.txt"
	echo close
}

# AddTempRoots (op 49): a batch's roots in one op where the daemon lists
# the feature (Determinate Nix 3.21.5 and later), one AddTempRoot each
# where it does not (the tests above).
@test "a daemon listing addTempRoots gets a batch's roots in one AddTempRoots; -v says its features" {
	fixtures nix-2.24.15
	local dir=$KP_TX/nix-2.24.15/v1.38
	local DAEMON_FEATURES=(addTempRoots otherFeature)
	{
		handshake nix-2.24.15 v1.38
		tx_add_temp_roots "$V1" "$MISSING" "$V2"
		tx_daemon_replies "$dir/b1_addtemproot_valid.txt"
		tx_part "$dir/d1_collectgarbage_returndead.txt" ops
		tx_part "$dir/c_queryvalidpaths.txt" ops
	} >"$BATS_TEST_TMPDIR/script"
	KP_OPTS=(-v)
	run_session "$BATS_TEST_TMPDIR/script"
	KP_OPTS=()
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $REPLAY_SOCKET: daemon features: addTempRoots, otherFeature; roots go in one AddTempRoots per 512"
}

@test "a daemon that lists addTempRoots and fails it, with --no-reconnect: exit 76, named" {
	fixtures nix-2.24.15
	local DAEMON_FEATURES=(addTempRoots)
	{
		handshake nix-2.24.15 v1.38
		multi_refused "$V1"
	} >"$BATS_TEST_TMPDIR/script"
	replay_start "$BATS_TEST_TMPDIR/script"
	stdin_open
	run -76 --separate-stderr env NIX_STORE_DIR=$SD "$KEEP_PATHS" \
	    --no-reconnect --store "unix://$REPLAY_SOCKET" "$V1" <&"$hold"
	assert_equal "$stderr" "keep-paths: $REPLAY_SOCKET: the daemon offered AddTempRoots, then failed it: you are not allowed to ignore liveness"
	replay_finish
}

# The fallback is the reconnect's re-registration: a new connection, every
# root with AddTempRoot.  Two replays on one socket, one after the other.
@test "a daemon that lists addTempRoots and fails it: a new connection, each root with AddTempRoot, nothing lost" {
	fixtures nix-2.24.15
	local dir=$KP_TX/nix-2.24.15/v1.38
	local DAEMON_FEATURES=(addTempRoots)
	{
		handshake nix-2.24.15 v1.38
		# The first batch goes in one op, and is held.
		tx_add_temp_roots "$V1"
		tx_daemon_replies "$dir/b1_addtemproot_valid.txt"
		tx_part "$dir/d1_collectgarbage_returndead.txt" ops
		tx_query_valid "$V1"
		tx_valid_reply "$V1"
		# The second fails.
		multi_refused "$V2"
	} >"$BATS_TEST_TMPDIR/script"
	{
		# Still listing it: keep-paths does not use it again this
		# session.  Every root again, the barrier, one check of all.
		handshake nix-2.24.15 v1.38
		tx_request 11 "$V1"
		tx_daemon_replies "$dir/b1_addtemproot_valid.txt"
		tx_request 11 "$V2"
		tx_daemon_replies "$dir/b1_addtemproot_valid.txt"
		tx_part "$dir/d1_collectgarbage_returndead.txt" ops
		tx_query_valid "$V1" "$V2"
		tx_valid_reply "$V1" "$V2"
		# Then the batch in flight: held, so only its check.
		tx_query_valid "$V2"
		tx_valid_reply "$V2"
	} >"$BATS_TEST_TMPDIR/script2"
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start -v --store "unix://$REPLAY_SOCKET" "$V1"
	kp_reply; assert_equal "$reply" "ok $V1"
	kp_send "$V2"
	replay_finish
	rm -f "$REPLAY_SOCKET"
	replay_start "$BATS_TEST_TMPDIR/script2"
	kp_reply; assert_equal "$reply" "ok $V2"
	kp_stop
	assert_equal "$kp_status" 0
	replay_finish
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $REPLAY_SOCKET: AddTempRoots failed (you are not allowed to ignore liveness): each root again with AddTempRoot, on a new connection"
	run grep -c "AddTempRoots failed" "$BATS_TEST_TMPDIR/kp.err"
	assert_output 1
}

@test "a daemon that lists addTempRoots and hangs up during one: a new connection, each root with AddTempRoot" {
	fixtures nix-2.24.15
	local dir=$KP_TX/nix-2.24.15/v1.38
	local DAEMON_FEATURES=(addTempRoots)
	{
		handshake nix-2.24.15 v1.38
		tx_add_temp_roots "$V1"
		echo close
	} >"$BATS_TEST_TMPDIR/script"
	{
		# Every root again, then the batch in flight: held, only checked.
		handshake nix-2.24.15 v1.38
		one_path_batch nix-2.24.15 v1.38 "$V1"
		tx_query_valid "$V1"
		tx_valid_reply "$V1"
	} >"$BATS_TEST_TMPDIR/script2"
	replay_start "$BATS_TEST_TMPDIR/script"
	NIX_STORE_DIR=$SD kp_start -v --store "unix://$REPLAY_SOCKET" "$V1"
	replay_finish
	rm -f "$REPLAY_SOCKET"
	replay_start "$BATS_TEST_TMPDIR/script2"
	kp_reply; assert_equal "$reply" "ok $V1"
	kp_stop
	assert_equal "$kp_status" 0
	replay_finish
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_line "keep-paths: $REPLAY_SOCKET: the connection ended during AddTempRoots: each root again with AddTempRoot"
}
