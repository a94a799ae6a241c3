/*
 * pathscan-split: the path scanner finds the same paths however its
 * stream is cut into pieces.  A stream of worker-protocol strings, .drv
 * text and near misses is scanned whole, cut at every point into two
 * pieces, and fed one byte at a time; each must find exactly the
 * expected paths, in order.  Exits 0, or 1 saying what differed.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pathscan.h"

#define DIR	"/tmp/s/store"
#define H1	"0c7x3nlb0dh2ihcx3ivymy1vhqjwn5ri"
#define H2	"1d011gvnmpd02i0mvcplj4n50qag4lhc"
#define H3	"aav7zfzwnhli33v8l08vb2n18f0rdgvk"

static const char *expected[] = {
	DIR "/" H1 "-hello-2.12",		/* a framed string */
	DIR "/" H2 "-abcdefghij",		/* framed, 56 bytes: no padding */
	DIR "/" H3 "-x.txt",			/* quoted, in .drv text */
	DIR "/" H1 "-bash",			/* a file inside: /bin/sh */
	DIR "/" H2 "-end",			/* the stream's last bytes */
};
#define NEXPECTED	(sizeof(expected) / sizeof(expected[0]))

struct found {
	char	*paths[64];
	size_t	 n;
};

static int
on_found(void *arg, const char *path, size_t len)
{
	struct found *f = arg;

	if (f->n < 64 && (f->paths[f->n] = strndup(path, len)) != NULL)
		f->n++;
	return 0;
}

/* A worker-protocol string: u64 length, bytes, zeros to 8. */
static void
put_string(struct buf *b, const char *s)
{
	uint64_t n = strlen(s);
	unsigned char len[8], zeros[8] = { 0 };
	int i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	buf_append(b, len, 8);
	buf_append(b, s, n);
	buf_append(b, zeros, (8 - n % 8) % 8);
}

static void
make_stream(struct buf *b)
{
	/* After a 56-byte path, a u64 whose first byte is '5' (53). */
	static const unsigned char five[8] = { '5', 0, 0, 0, 0, 0, 0, 0 };

	put_string(b, expected[0]);
	put_string(b, expected[1]);
	buf_append(b, five, 8);
	buf_printf(b, "Derive([(\"out\",\"%s\",\"\",\"\")],[],[]," , expected[2]);
	buf_printf(b, "%s/bin/sh\n", expected[3]);
	/* Near misses: another directory, a bad hash, a name too long. */
	buf_printf(b, "/x" DIR "x/" H1 "-no " DIR "/" H1 "e-bad-hash-char ");
	buf_printf(b, DIR "/short-name ");
	buf_printf(b, DIR "/" H1 "-%0220d ", 7);
	buf_printf(b, DIR "/" H1 "- " DIR "/" H1 "-.dotfirst ");
	buf_printf(b, "%s", expected[4]);
}

static int
check(const char *how, struct found *f)
{
	size_t i;
	int bad = f->n != NEXPECTED;

	for (i = 0; i < f->n && !bad; i++)
		bad = strcmp(f->paths[i], expected[i]) != 0;
	if (bad) {
		printf("%s: found %zu paths, expected %zu:\n", how, f->n,
		    NEXPECTED);
		for (i = 0; i < f->n; i++)
			printf("  %s\n", f->paths[i]);
	}
	for (i = 0; i < f->n; i++)
		free(f->paths[i]);
	f->n = 0;
	return bad;
}

/* Scans the stream in pieces of the sizes given (0 ends the list; the
 * last size repeats). */
static int
scan_cut(const struct buf *b, size_t first, size_t rest, const char *how)
{
	struct pathscan s;
	struct found f = { { NULL }, 0 };
	const unsigned char *p = buf_head(b);
	size_t len = buf_used(b), off = 0, n = first;

	pathscan_init(&s, DIR);
	while (off < len) {
		if (n > len - off || n == 0)
			n = len - off;
		if (pathscan_feed(&s, p + off, n, on_found, &f) != 0)
			return 1;
		off += n;
		n = rest;
	}
	if (pathscan_end(&s, on_found, &f) != 0)
		return 1;
	return check(how, &f);
}

int
main(void)
{
	struct buf b = { NULL, 0, 0, 0 };
	char how[64];
	size_t cut;
	int bad = 0;

	make_stream(&b);
	bad |= scan_cut(&b, 0, 0, "whole");
	bad |= scan_cut(&b, 1, 1, "byte by byte");
	bad |= scan_cut(&b, 7, 13, "7, then 13 at a time");
	for (cut = 1; cut < buf_used(&b); cut++) {
		snprintf(how, sizeof(how), "cut at %zu", cut);
		bad |= scan_cut(&b, cut, 0, how);
	}
	buf_free(&b);
	if (!bad)
		printf("ok: %zu paths, whole, byte by byte, and at every cut\n",
		    NEXPECTED);
	return bad;
}
