/*
 * fuzz-pathscan: the path scanner, on any bytes.  The first byte is the
 * size of the pieces (1 to 64) the rest arrives in.  Scanned in pieces,
 * the stream must give exactly the paths it gives scanned whole, and
 * every path found must be STOREDIR/ and a base name storepath accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathscan.h"
#include "storepath.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DIR	"/nix/store"
#define FOUND_MAX	4096

struct found {
	char	*paths[FOUND_MAX];
	size_t	 n;
};

static int
on_found(void *arg, const char *path, size_t len)
{
	struct found *f = arg;
	char why[STOREPATH_WHY_MAX];

	if (len <= sizeof(DIR) || memcmp(path, DIR "/", sizeof(DIR)) != 0 ||
	    storepath_check_base(path + sizeof(DIR), len - sizeof(DIR), why,
	    sizeof(why)) == -1)
		abort();
	if (f->n == FOUND_MAX)
		return 0;
	if ((f->paths[f->n] = strndup(path, len)) == NULL)
		abort();
	f->n++;
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
	static struct found whole, pieces;
	size_t i, piece;

	if (len == 0)
		return 0;
	piece = data[0] % 64 + 1;
	scan(data + 1, len - 1, len, &whole);
	scan(data + 1, len - 1, piece, &pieces);
	if (whole.n != pieces.n)
		abort();
	for (i = 0; i < whole.n; i++) {
		if (strcmp(whole.paths[i], pieces.paths[i]) != 0)
			abort();
		free(whole.paths[i]);
		free(pieces.paths[i]);
	}
	whole.n = pieces.n = 0;
	return 0;
}
