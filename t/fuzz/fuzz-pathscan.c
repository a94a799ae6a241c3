/*
 * fuzz-pathscan: the path scanner, on any bytes.  The first byte is the
 * size of the pieces (1 to 64) the rest arrives in.  Scanned in pieces,
 * the stream must give exactly the paths that an independent oracle finds
 * in it whole: a plain scan of the complete buffer, with Nix's rules for
 * a base name written out here again (not storepath_check_base).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathscan.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DIR		"/nix/store"
#define DIRLEN		(sizeof(DIR) - 1)
#define HASH		32
#define NAME_MAX_LEN	211
#define FOUND_MAX	4096

struct found {
	size_t	 off[FOUND_MAX];	/* oracle: offsets into the input */
	char	*paths[FOUND_MAX];	/* scanner: copies */
	size_t	 len[FOUND_MAX];
	size_t	 n;
};

/* Nix's base-32 digits: no e, o, t, u. */
static int
oracle_base32(uint8_t c)
{
	return c != '\0' && strchr("0123456789abcdfghijklmnpqrsvwxyz", c) !=
	    NULL;
}

/* Nix's name characters. */
static int
oracle_name_char(uint8_t c)
{
	return c != '\0' && strchr("abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=", c) != NULL;
}

/* HASH-NAME, NAME 1 to 211 name characters not starting with '.'. */
static int
oracle_base(const uint8_t *p, size_t len)
{
	size_t i;

	if (len < HASH + 2 || len > HASH + 1 + NAME_MAX_LEN ||
	    p[HASH] != '-' || p[HASH + 1] == '.')
		return 0;
	for (i = 0; i < HASH; i++)
		if (!oracle_base32(p[i]))
			return 0;
	for (i = HASH + 1; i < len; i++)
		if (!oracle_name_char(p[i]))
			return 0;
	return 1;
}

static void
oracle_add(struct found *f, size_t off, size_t len)
{
	if (f->n < FOUND_MAX) {
		f->off[f->n] = off;
		f->len[f->n++] = len;
	}
}

/*
 * Every DIR/ followed by a run of name characters: the 8 bytes before DIR,
 * read as a worker-protocol string length that ends within the run, name
 * the path if they make it valid; else the whole run does, if valid.
 */
static void
oracle(const uint8_t *d, size_t len, struct found *f)
{
	size_t at = 0, base, end, k;
	uint64_t n;
	const uint8_t *hit;

	while (at < len && (hit = memmem(d + at, len - at, DIR, DIRLEN)) !=
	    NULL) {
		at = (size_t)(hit - d);
		base = at + DIRLEN + 1;
		if (base > len)
			break;
		if (d[base - 1] != '/') {
			at++;
			continue;
		}
		for (end = base; end < len && end - base <= HASH + 1 +
		    NAME_MAX_LEN && oracle_name_char(d[end]); end++)
			;
		if (at >= 8) {
			for (n = 0, k = 8; k > 0; k--)
				n = n << 8 | d[at - 8 + k - 1];
			if (n > DIRLEN + 1 && n <= end - at &&
			    oracle_base(d + base, n - DIRLEN - 1)) {
				oracle_add(f, at, n);
				at += n;
				continue;
			}
		}
		if (oracle_base(d + base, end - base))
			oracle_add(f, at, end - at);
		at = end;
	}
}

static int
on_found(void *arg, const char *path, size_t len)
{
	struct found *f = arg;

	if (f->n == FOUND_MAX)
		return 0;
	if ((f->paths[f->n] = malloc(len)) == NULL)
		abort();
	memcpy(f->paths[f->n], path, len);
	f->len[f->n++] = len;
	return 0;
}

static void
scan(const uint8_t *data, size_t len, size_t piece, struct found *f)
{
	struct pathscan s;
	size_t off, n;

	pathscan_init(&s, DIR);
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		if (pathscan_feed(&s, data + off, n, on_found, f) != 0)
			abort();
	}
	if (pathscan_end(&s, on_found, f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct found want, got;
	size_t i;

	if (len == 0)
		return 0;
	want.n = got.n = 0;
	oracle(data + 1, len - 1, &want);
	scan(data + 1, len - 1, data[0] % 64 + 1, &got);
	if (want.n != got.n)
		abort();
	for (i = 0; i < got.n; i++) {
		if (want.len[i] != got.len[i] ||
		    memcmp(data + 1 + want.off[i], got.paths[i], got.len[i]) !=
		    0)
			abort();
		free(got.paths[i]);
	}
	return 0;
}
