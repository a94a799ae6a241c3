# Builds replay-daemon scripts from the annotated transcripts of real
# daemon sessions in t/transcripts/ (copied from shared/transcripts/).
# A script line is "< HEX # label" (the client must send it) or
# "> HEX # label" (the daemon sends it); see t/replay-daemon.c.

KP_TX="$KP_SRCDIR/t/transcripts"

# tx_part FILE PART: the handshake and SetOptions ("handshake"), or every
# operation after them ("ops"), of one recorded session.
tx_part() {
	awk -v part="$2" '
		/^# === request:/ { n++ }
		/^(C->D|D->C)/ {
			if ((n <= 1 ? "handshake" : "ops") != part)
				next
			hex = substr($0, 14, 48)
			sub(/ +$/, "", hex)
			print ($1 == "C->D" ? "<" : ">") " " hex " # " substr($0, 81)
		}' "$1"
}

# tx_daemon_replies FILE: only the daemon's side of a session's operations.
tx_daemon_replies() {
	tx_part "$1" ops | grep '^>'
}

# tx_version WHO WORD: replaces the protocol version word that WHO
# ("client" or "daemon") sends in the handshake; reads and writes a script.
tx_version() {
	local hex
	hex=$(wire_u64 "$(($2))")
	sed "s/^\\([<>]\\) [0-9a-f ]* # $1 protocol version = .*/\\1 $hex # $1 protocol version = $2 (derived)/"
}

# tx_client_features: keep-paths' feature list at 1.38, ["addTempRoots"],
# in place of the recorded client's empty one; reads and writes a script.
tx_client_features() {
	local count str
	count=$(wire_u64 1) str=$(wire_string addTempRoots)
	sed "s/^< [0-9a-f ]* # client features: list count = 0.*/< $count # client features: count 1 (derived)\n< $str # client feature 'addTempRoots' (derived)/"
}

# tx_daemon_features FEATURE...: the daemon lists these features in place
# of the recorded empty list; reads and writes a script.
tx_daemon_features() {
	local lines f
	lines="> $(wire_u64 $#) # daemon features: count $# (derived)"
	for f; do
		lines="$lines\n> $(wire_string "$f") # daemon feature '$f' (derived)"
	done
	sed "s/^> [0-9a-f ]* # daemon features: list count = 0.*/$lines/"
}

# tx_add_temp_roots PATH...: an AddTempRoots (op 49) request for the paths.
tx_add_temp_roots() {
	local p
	echo "< $(wire_u64 49) # op AddTempRoots (derived)"
	echo "< $(wire_u64 $#) # paths: count (derived)"
	for p; do echo "< $(wire_string "$p") # path '$p' (derived)"; done
}

# wire_u64 N and wire_string S: the protocol's encodings, as hex.
wire_u64() {
	perl -e 'print join(" ", map { sprintf "%02x", $_ } unpack("C*", pack("Q<", $ARGV[0])))' "$1"
}

wire_string() {
	perl -e '$s = $ARGV[0];
		$b = pack("Q<", length $s) . $s . "\0" x ((8 - length($s) % 8) % 8);
		print join(" ", map { sprintf "%02x", $_ } unpack("C*", $b))' "$1"
}

# tx_request OP PATH: a one-path request (IsValidPath 1, AddTempRoot 11)
# that no recording has verbatim, built from the protocol's encodings.
tx_request() {
	echo "< $(wire_u64 "$1") # op $1 (derived)"
	echo "< $(wire_string "$2") # path '$2' (derived)"
}

# tx_query_valid PATH...: a QueryValidPaths request for the paths (1.27+).
tx_query_valid() {
	local p
	echo "< $(wire_u64 31) # op QueryValidPaths (derived)"
	echo "< $(wire_u64 $#) # paths: count (derived)"
	for p; do echo "< $(wire_string "$p") # path '$p' (derived)"; done
	echo "< $(wire_u64 0) # substitute flag (derived)"
}

# tx_valid_reply PATH...: its reply: STDERR_LAST and the valid paths.
tx_valid_reply() {
	local p
	echo "> $(wire_u64 $((0x616c7473))) # STDERR_LAST (derived)"
	echo "> $(wire_u64 $#) # valid paths: count (derived)"
	for p; do echo "> $(wire_string "$p") # valid path '$p' (derived)"; done
}

# replay_start SCRIPT: serves SCRIPT on $BATS_TEST_TMPDIR/daemon.sock.
replay_start() {
	REPLAY_SOCKET="$BATS_TEST_TMPDIR/daemon.sock"
	"$REPLAY_DAEMON" "$REPLAY_SOCKET" "$1" 2>"$BATS_TEST_TMPDIR/replay.err" 3>&- &
	REPLAY_PID=$!
	kp_wait_until -S "$REPLAY_SOCKET" ||
	    { cat "$BATS_TEST_TMPDIR/replay.err" >&2; return 1; }
}

# replay_finish: the replay's verdict, with its diff on a mismatch.
replay_finish() {
	local rc=0
	wait "$REPLAY_PID" || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$BATS_TEST_TMPDIR/replay.err" >&2
		return 1
	fi
}

# tx_nix_version VERSION: replaces the nixVersion string the daemon sends
# in the handshake (1.33+); reads and writes a script.
tx_nix_version() {
	awk -v enc="$(wire_string "$1")" -v v="$1" '
		/# daemon nixVersion: string length/ {
			print "> " enc " # daemon nixVersion = '\''" v "'\'' (derived)"
			next
		}
		/# daemon nixVersion: (string bytes|padding)/ { next }
		{ print }'
}
