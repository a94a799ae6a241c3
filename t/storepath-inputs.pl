#!/usr/bin/perl
# Prints store path inputs for storepath-diff, one per line: generated and
# mutated names (the hash alphabet and length, name characters and length,
# dots, dashes, any byte) and path forms (trailing and doubled slashes,
# "." and "..", paths inside store paths, the store directory itself, and
# directories whose names start with the store directory's).
#
#   storepath-inputs.pl STOREDIR [SEED]
use strict;
use warnings;

my ($S, $seed) = @ARGV;
die "usage: $0 STOREDIR [SEED]\n" unless defined $S;
srand($seed // 1);

my @HASH = split //, "0123456789abcdfghijklmnpqrsvwxyz";
my @NAME = (split(//, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    . "0123456789+-._?="));
sub pick { $_[int rand @_] }
sub hash { join "", map { pick(@HASH) } 1 .. ($_[0] // 32) }
sub name { my $n = shift; join "", map { pick(@NAME) } 1 .. $n }
sub out { print "$_\n" for @_ }

# Valid names, every length, then the limits.
out("$S/" . hash() . "-" . name(1 + int rand 60)) for 1 .. 400;
out("$S/" . hash() . "-" . name($_)) for 1 .. 215;

# The hash: a wrong character, a wrong length.
for (1 .. 300) {
	my $h = hash();
	substr($h, int rand 32, 1) = pick(split //, "eoutEOUTABZ!-_.");
	out("$S/$h-" . name(5));
}
out("$S/" . hash($_) . "-x") for 0 .. 31, 33 .. 40;
out("$S/" . hash(32), "$S/" . hash(32) . "-");

# Name characters: any byte but NUL and newline, anywhere.
for (1 .. 500) {
	my $n = name(1 + int rand 20);
	my $b;
	do { $b = 1 + int rand 255 } while $b == 10;
	substr($n, int rand(length($n) + 1), 0) = chr $b;
	out("$S/" . hash() . "-$n");
}

# Dots and dashes where they matter.
for my $n (".", "..", ".a", "..a", "...", ".-", "a.", "a..", "-", "--", "-a",
    "a-", "a-b", "?", "=", "+", "_", ".drv", "a.drv", ".git", "..drv") {
	out("$S/" . hash() . "-$n");
}

# Path forms around good names.
for (1 .. 60) {
	my $b = hash() . "-" . name(1 + int rand 20);
	(my $up = $S) =~ s{/[^/]+$}{};
	(my $leaf = $S) =~ s{.*/}{};
	out("$S/$b/", "$S//$b", "$S/./$b", "$S/x/../$b", "$S/$b/bin/x",
	    "$S/$b/.", "$S/$b/..", "${S}2/$b", "${S}-x/$b", "$up/$leaf/$b",
	    "$up/./$leaf//$b/", "$S/$b/../" . hash() . "-y", "/$S/$b",
	    "$S/$b//", "$S/$b/./", "$S/$b/x/..");
}
out($S, "$S/", "$S/.", "$S/..", "/", "//", "relative", "./x", "../x");
