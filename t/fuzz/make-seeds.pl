#!/usr/bin/perl
# Writes seed inputs for the fuzz targets into DIR/TARGET: daemon, request,
# storepath, pathscan, conf, nixconf and storeuri.  For fuzz-daemon: the byte streams a Nix
# daemon sends in answer to exactly what fuzz-daemon's keep-paths sends
# (handshake, SetOptions, the store-directory probe, then two batches of
# AddTempRoot, the collector barrier and QueryValidPaths), for protocols
# 1.34 (Nix 2.8) and 1.38, with log lines, activities and refusals mixed
# in.  The first byte of each input is the size of the pieces it arrives
# in (fuzz-daemon, fuzz-request).  For fuzz-daemon three more follow: the
# mode (1: --reconnect, 2: drops) and where the second connection's bytes
# begin (16 bits, little-endian; 0xffff: none).
#
#   make-seeds.pl DIR
use strict;
use warnings;

my $top = shift or die "usage: $0 DIR\n";
mkdir $top;
mkdir "$top/$_" for qw(daemon request storepath pathscan conf nixconf storeuri relay sshargs);
my $dir = "$top/daemon";

my $S = "/nix/store";
my ($P1, $P2, $P3) = map { "$S/$_" } (
    "0" x 32 . "-one", "1" x 32 . "-two", "2" x 32 . "-three");

sub u64 { pack "Q<", shift }
sub str { my $s = shift; u64(length $s) . $s . "\0" x ((8 - length($s) % 8) % 8) }
sub strs { u64(scalar @_) . join "", map { str($_) } @_ }

my $LAST = u64(0x616c7473);
sub log_line { u64(0x6f6c6d67) . str(shift) }
sub activity {
	u64(0x53545254) . u64(7) . u64(3) . u64(0) . str("copying") .
	    u64(1) . u64(0) . u64(42) . u64(0) .	# fields: one int 42
	    u64(0x53544f50) . u64(7)
}
sub error {
	my ($minor, $msg) = @_;
	return u64(0x63787470) . str($msg) . u64(1) if $minor < 26;
	u64(0x63787470) . str("Error") . u64(0) . str("Error") . str($msg) .
	    u64(0) . u64(1) . u64(0) . str("while adding a root");
}

sub hello {
	my ($minor, @features) = @_;
	@features = ("gc-barrier") unless @features;
	my $s = u64(0x6478696f) . u64(0x100 | $minor);
	$s .= strs(@features) if $minor >= 38;
	$s .= str("2.99.0") if $minor >= 33;
	$s .= u64(1) if $minor >= 35;
	$s . $LAST .			# startup
	    $LAST . 			# SetOptions
	    $LAST . u64(0);		# probe: not valid
}

sub barrier { $LAST . strs() . u64(0) . u64(0) }

sub session {
	my ($minor, %o) = @_;
	my $b1 = ($o{log} ? log_line("adding roots") : "") .
	    $LAST . u64(1) .
	    ($o{refuse} ? error($minor, "path '$P2' is not allowed") :
	    ($o{activity} ? activity() : "") . $LAST . u64(1)) .
	    barrier() . $LAST . strs($P1);
	# A refused root is asked for again in the next batch.
	my $b2 = ($LAST . u64(1)) x ($o{refuse} ? 2 : 1) . barrier() . $LAST .
	    strs($o{refuse} ? ($P3) : ($P2, $P3));
	hello($minor) . $b1 . $b2;
}

my %seeds = (
	"v34-plain" => session(34),
	"v38-plain" => session(38),
	"v38-log-activity" => session(38, log => 1, activity => 1),
	"v34-refused" => session(34, refuse => 1),
	"v38-refused" => session(38, refuse => 1),
	"v38-probe-refused" => substr(hello(38), 0, -16) .
	    error(38, "path '$S/0' is not in the Nix store"),
	"v38-bad-magic" => u64(0x12345678) . u64(0x126),
	# AddTempRoots (op 49): one reply for a batch's roots, then a failed one.
	"v38-add-temp-roots" => hello(38, "addTempRoots") . $LAST . u64(1) .
	    barrier() . $LAST . strs($P1, $P2) .
	    error(38, "AddTempRoots: not allowed") . $LAST . strs($P3),
	"v38-old-version" => u64(0x6478696f) . u64(0x115),
);
# [mode, bytes of the first connection, bytes of the later ones]
my %two = (
	# The daemon goes with the second batch unanswered: a new connection
	# takes every root again (barrier, one check of all), then the second
	# batch is only checked.
	"v38-reconnect" => [1, hello(38) . $LAST . u64(1) . $LAST . u64(1) .
	    barrier() . $LAST . strs($P1),
	    hello(38) . ($LAST . u64(1)) x 3 . barrier() . $LAST .
	    strs($P1, $P2, $P3) . $LAST . strs($P2, $P3)],
	# Both batches held, then "drop P1": a new connection adopts P2 and
	# P3 (one AddTempRoot each, no barrier), and the old one goes.
	"v38-drop" => [2, hello(38) . $LAST . u64(1) . $LAST . u64(1) .
	    barrier() . $LAST . strs($P1, $P2) . $LAST . u64(1) . barrier() .
	    $LAST . strs($P2, $P3),
	    hello(38) . ($LAST . u64(1)) x 2],
	"v34-drop-reconnect" => [3, session(34), hello(34) . ($LAST . u64(1)) x 2],
);
for my $name (sort keys %seeds) {
	# Small pieces: a daemon only answers what was asked, and keep-paths
	# asks for the next batch only between pieces.
	for my $piece (1, 8) {
		open my $f, ">", "$dir/$name-$piece" or die "$dir/$name: $!\n";
		binmode $f;
		print $f chr($piece - 1), chr(0), "\xff\xff", $seeds{$name};
		close $f;
	}
}
for my $name (sort keys %two) {
	my ($mode, $first, $later) = @{$two{$name}};
	open my $f, ">", "$dir/$name-8" or die "$dir/$name: $!\n";
	binmode $f;
	print $f chr(7), chr($mode), pack("v", length $first), $first, $later;
	close $f;
}

sub write_seed {
	my ($path, $bytes) = @_;
	open my $f, ">", $path or die "$path: $!\n";
	binmode $f;
	print $f $bytes;
	close $f;
}

write_seed("$top/request/lines", chr(7) . join "", map { "$_\n" }
    $P1, "$P2/bin/two", "relative/path", "", "$S/" . "e" x 32 . "-x..y",
    "/etc/passwd", "$S/..", "a" x 5000);
write_seed("$top/request/links", chr(63) . join "", map { "$_\n" }
    "/result", "/tmp/rel", "rel", "/chain", "/loop", "/bad", "/file/x",
    "/nope", "../result", "drop /result");
write_seed("$top/request/nul", chr(0) . "$P1\0\n$P3\n");
write_seed("$top/request/drops", chr(5) . join "", map { "$_\n" }
    $P1, "drop $P1", "drop", "drop ", "drop  $P2", "dropx", "drop relative",
    $P3, "drop $P3/bin/x");
# pathscan: framed strings (one of 48 bytes, then a u64 that starts with
# a name character), .drv text, a file inside a path, near misses.
write_seed("$top/pathscan/stream", chr(6) . str($P1) . str("$S/" . "3" x 32 .
    "-abcd") . u64(0x35) . "Derive([(\"out\",\"$P2\",\"\",\"\")]" .
    "$P3/bin/sh\n/x$S" . "x/" . "0" x 32 . "-no $S/" . "e" x 32 . "-bad");
write_seed("$top/storepath/good", "0" x 32 . "-hello-2.12.1");
write_seed("$top/storepath/bad-hash", "e" x 32 . "-x");
write_seed("$top/storepath/canon", "/nix//store/./x/../" . "0" x 32 . "-a/");
write_seed("$top/conf/every-key", "# comment\nstore = daemon\nconnect-timeout = 30s\n" .
    "store-timeout = 1m\nreconnect = yes\nquiet = no\ncapture-max = 5000\n" .
    "[keep-paths]\nreconnect = 2m\n[sweep]\nmin-age = 5m\n");
write_seed("$top/conf/long-line", "store = unix:///" . "a" x 250 . "\nquiet = yes\n");
write_seed("$top/conf/bad", "[other]\nx = 1\nstore =\ncapture-max = 0\n");
write_seed("$top/nixconf/store", "# nix.conf\nstore = ssh-ng://h?remote-store=x  extra\n" .
    "substituters =\n");
write_seed("$top/nixconf/includes", "include nix.conf\n!include absent.conf\n" .
    "include /dev/zero\nstore = daemon\n");
# sshargs: an even first byte and ssh's words; an odd one and a shim's
# message (its 32-bit length, then the magic, argc, args, envc, env, cwd).
write_seed("$top/sshargs/nix", "\0" . join "\0", "root\@h", "-x", "-a",
    "-i", "/k", "-oBatchMode=yes", "-p", "22", "--",
    "/nix/store/" . "x" x 32 . "-nix/bin/nix-daemon --stdio --store local");
write_seed("$top/sshargs/master", "\0" . join "\0", "-M", "-N", "-S", "/s", "h");
{
	my $m = join "", map { "$_\0" } "keep-paths ssh 1", "2", "h",
	    "nix-store --serve", "2", "HOME=/root",
	    "PATH=/run/user/0/keep-paths.00000000:/usr/bin", "/tmp";
	write_seed("$top/sshargs/message", "\1" . pack("V", length $m) . $m);
}
write_seed("$top/storeuri/each", join "\0", "auto");
write_seed("$top/storeuri/ssh", "ssh-ng://user\@host:22?remote-program=nix-daemon&" .
    "remote-store=local&ssh-key=/k&compress=true\0-o 'ProxyCommand a b' -v \"q\\\"\"");
write_seed("$top/storeuri/local", "local?root=/r&state=/s");
write_seed("$top/storeuri/gcroots", "gcroots?dir=/nix/var/nix/gcroots/x");
# relay: steps (0 connect, 1 client sends, 2 upstream sends, 3 client
# goes, 4 upstream ends, 5 answer, 6 store lost), each followed by a byte
# naming the client and, for 1 and 2, a length and the bytes.
sub send_bytes { my ($op, $who, $b) = @_; chr($op) . chr($who) . chr(length $b) . $b }
my $pathmsg = str($P1) . str($P2);
write_seed("$top/relay/serve", chr(0) . chr(0) . send_bytes(1, 0, $pathmsg) .
    send_bytes(2, 0, str($P3)) . chr(5) . chr(0) . "\0\1\2" . chr(3) . chr(0) .
    chr(4) . chr(0));
write_seed("$top/relay/many", join("", map { chr(0) . chr($_) . send_bytes(1, $_,
    str("$S/" . sprintf("%032d", $_) . "-p$_")) . chr(3) . chr($_) } 0 .. 35) .
    chr(5) . chr(0) . "\2" x 40);
write_seed("$top/relay/lost", chr(0) . chr(0) . send_bytes(1, 0, $pathmsg) . chr(6) .
    chr(0) . chr(3) . chr(0) . chr(0) . chr(1) . send_bytes(1, 1, $pathmsg));
