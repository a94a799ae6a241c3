/*
 * pathscan: store paths in a stream of pieces.
 *
 * The window holds the bytes that may still start a path (with the 8
 * bytes before them, for a length), then the new piece.  Every start
 * position is looked at once: either it is decided (a path, or not one),
 * or it waits in the window for the bytes that decide it.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathscan.h"
#include "storepath.h"
#include "xio.h"

/* The longest base name: hash, dash, name. */
#define BASE_MAX	(STOREPATH_HASH_LEN + 1 + STOREPATH_NAME_MAX)
/* A worker-protocol string length, little-endian, before its bytes. */
#define LEN_BYTES	8

void
pathscan_init(struct pathscan *s, const char *storedir)
{
	memset(s, 0, sizeof(*s));
	s->storedir = storedir;
	s->dirlen = strlen(storedir);
}

void
pathscan_free(struct pathscan *s)
{
	free(s->win);
	s->win = NULL;
	s->len = s->cap = s->from = 0;
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = LEN_BYTES - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int
valid_base(const unsigned char *base, size_t len)
{
	char why[STOREPATH_WHY_MAX];

	return len <= BASE_MAX &&
	    storepath_check_base((const char *)base, len, why,
	    sizeof(why)) == 0;
}

/*
 * The length of the path at win[at] that its worker-protocol length
 * announces, if that length ends within the run of name characters up
 * to end and names a valid path; else 0.
 */
static size_t
announced(const struct pathscan *s, size_t at, size_t end)
{
	uint64_t n;

	if (at < LEN_BYTES)
		return 0;
	n = le64(s->win + at - LEN_BYTES);
	if (n <= s->dirlen + 1 || n > end - at)
		return 0;
	return valid_base(s->win + at + s->dirlen + 1, n - s->dirlen - 1) ?
	    (size_t)n : 0;
}

/*
 * Looks at the start position at (STOREDIR at win[at]).  Returns the
 * position to look on from, or 0 if more bytes are needed to decide
 * (final: decide with what there is); -1 for found's failure.
 */
static long
look_at(struct pathscan *s, size_t at, int final, pathscan_found found,
    void *arg, int *rc)
{
	size_t base = at + s->dirlen + 1, end = base, n;

	if (base > s->len)
		return final ? (long)s->len : 0;
	if (s->win[base - 1] != '/')
		return (long)(at + 1);
	while (end < s->len && end - base <= BASE_MAX &&
	    storepath_name_char(s->win[end]))
		end++;
	if ((n = announced(s, at, end)) > 0) {
		*rc = found(arg, (const char *)s->win + at, n);
		return *rc == 0 ? (long)(at + n) : -1;
	}
	if (end == s->len && end - base <= BASE_MAX && !final)
		return 0;
	if (valid_base(s->win + base, end - base)) {
		*rc = found(arg, (const char *)s->win + at, end - at);
		if (*rc != 0)
			return -1;
	}
	return (long)end;
}

/* Scans win from s->from; keeps what is undecided.  Returns 0 or rc. */
static int
scan(struct pathscan *s, int final, pathscan_found found, void *arg)
{
	size_t pos = s->from, stop, keep;
	unsigned char *hit;
	long next;
	int rc = 0;

	for (;;) {
		hit = s->dirlen > 0 && pos < s->len ? memmem(s->win + pos,
		    s->len - pos, s->storedir, s->dirlen) : NULL;
		if (hit == NULL) {
			/* A STOREDIR cut short may start in its last bytes. */
			stop = s->len >= s->dirlen ? s->len - s->dirlen + 1 : 0;
			stop = stop > pos ? stop : pos;
			break;
		}
		next = look_at(s, (size_t)(hit - s->win), final, found, arg,
		    &rc);
		if (next == -1)
			return rc;
		if (next == 0) {
			stop = (size_t)(hit - s->win);
			break;
		}
		pos = (size_t)next;
	}
	if (final)
		stop = s->len;
	keep = stop > LEN_BYTES ? stop - LEN_BYTES : 0;
	memmove(s->win, s->win + keep, s->len - keep);
	s->len -= keep;
	s->from = stop - keep;
	return 0;
}

int
pathscan_feed(struct pathscan *s, const void *data, size_t len,
    pathscan_found found, void *arg)
{
	unsigned char *win;
	size_t cap;

	if (len == 0)
		return 0;
	if (s->len + len > s->cap) {
		cap = s->len + len;
		if ((win = realloc(s->win, cap)) == NULL)
			return -1;
		s->win = win;
		s->cap = cap;
	}
	memcpy(s->win + s->len, data, len);
	s->len += len;
	return scan(s, 0, found, arg);
}

int
pathscan_end(struct pathscan *s, pathscan_found found, void *arg)
{
	int rc = s->len > 0 ? scan(s, 1, found, arg) : 0;

	pathscan_free(s);
	return rc;
}

int
pathscan_read(struct pathscan *scan, int fd, struct buf *to,
    pathscan_found found, void *arg)
{
	unsigned char chunk[65536];
	ssize_t n;

	if ((n = xio_read(fd, chunk, sizeof(chunk))) == 0) {
		errno = 0;
		return -1;
	}
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (pathscan_feed(scan, chunk, (size_t)n, found, arg) == -1 ||
	    buf_append(to, chunk, (size_t)n) == -1)
		return -2;
	return 1;
}
