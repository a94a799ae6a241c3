/*
 * fuzz-request: request lines as a parent might send them, any bytes, in
 * any pieces.  Every complete line must get exactly one request, every
 * reply must be one line, and the batches the loop would move out must
 * each be of one kind, in order.  Paths resolve against a small file
 * system of the harness's, not the machine's: the same input always
 * resolves the same way, with links absolute and relative, into the
 * store, into a directory above it, and in a loop.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "batch.h"
#include "storepath.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define STOREDIR	"/nix/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"

/* The file system paths resolve against: directories, links, a file. */
static const struct node {
	const char	*path;
	mode_t		 type;
	const char	*target;
} nodes[] = {
	{ "/", S_IFDIR, NULL },
	{ "/nix", S_IFDIR, NULL },
	{ "/nix/store", S_IFDIR, NULL },
	{ "/tmp", S_IFDIR, NULL },
	{ "/file", S_IFREG, NULL },
	{ "/result", S_IFLNK, STOREDIR "/" HASH "-x" },
	{ "/tmp/rel", S_IFLNK, "../nix/store/" HASH "-y/bin" },
	{ "/tmp/up", S_IFLNK, "/nix" },
	{ "/chain", S_IFLNK, "/tmp/up/store/" HASH "-z/share" },
	{ "/loop", S_IFLNK, "/loop" },
	{ "/bad", S_IFLNK, STOREDIR "/not-a-store-path" },
};

static const struct node *
node(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (strcmp(nodes[i].path, path) == 0)
			return &nodes[i];
	errno = ENOENT;
	return NULL;
}

static int
fake_lstat(const char *path, struct stat *st)
{
	const struct node *n = node(path);

	if (n == NULL)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_mode = n->type | 0755;
	return 0;
}

static ssize_t
fake_readlink(const char *path, char *buf, size_t size)
{
	const struct node *n = node(path);
	size_t len;

	if (n == NULL || n->target == NULL) {
		errno = n == NULL ? ENOENT : EINVAL;
		return -1;
	}
	len = strlen(n->target) < size ? strlen(n->target) : size;
	memcpy(buf, n->target, len);
	return (ssize_t)len;
}

static char *
fake_getcwd(char *buf, size_t size)
{
	return strlcpy(buf, "/tmp", size) < size ? buf : NULL;
}

static const struct storepath_fs fake_fs = {
	fake_lstat, fake_readlink, fake_getcwd
};

/* Every reply is exactly one line. */
static void
check_replies(struct batch *b)
{
	struct buf out = { 0 };
	struct reply rep;
	size_t i, used;
	const unsigned char *nl;

	for (i = 0; i < b->n; i++) {
		rep.kind = b->req[i].reply;
		rep.why = b->req[i].why;
		if (rep.kind == REPLY_PENDING &&
		    b->req[i].kind == REQUEST_DROP)
			rep.kind = REPLY_DROPPED;
		else if (rep.kind == REPLY_PENDING)
			rep.kind = i % 2 ? REPLY_OK : REPLY_MISSING;
		if (rep.kind != REPLY_ERROR && b->req[i].path == NULL)
			abort();
		used = buf_used(&out);
		if (request_format_reply(&out, &b->req[i], &rep,
		    i % 3 ? NULL : "store", 0) == -1)
			break;
		nl = memchr(buf_head(&out) + used, '\n', buf_used(&out) - used);
		if (nl == NULL || nl != buf_head(&out) + buf_used(&out) - 1)
			abort();
	}
	buf_free(&out);
}

/* Moved out as the loop does, batches hold one kind and keep the order. */
static void
check_kinds(struct batch *b)
{
	struct batch all = { NULL, 0, 0 }, one = { NULL, 0, 0 };
	size_t i;

	while (b->n > 0) {
		if (batch_move(&one, b, 3) == -1)
			goto out;
		for (i = 1; i < one.n; i++)
			if (one.req[i].kind != one.req[0].kind)
				abort();
		if (batch_move(&all, &one, SIZE_MAX) == -1)
			goto out;
	}
	batch_free(&one);
	batch_free(b);
	*b = all;
	return;
out:
	batch_free(&one);
	batch_free(&all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { 0 };
	size_t off = 0, piece, lines = 0, i;
	int skipping = 0;

	storepath_set_fs(&fake_fs);
	/* The first byte sets the size of the pieces the bytes arrive in. */
	piece = size > 0 ? data[0] % 64 + 1 : 1;
	for (i = 1; i < size; i++)
		lines += data[i] == '\n';
	for (off = size > 0 ? 1 : 0; off < size; off += piece) {
		if (buf_append(&in, data + off,
		    size - off < piece ? size - off : piece) == -1 ||
		    batch_take_lines(&b, STOREDIR, &in, &skipping, SIZE_MAX) == -1)
			goto out;
	}
	/*
	 * One request per line; an over-long line is answered once, however
	 * many pieces it takes, even before its newline arrives.
	 */
	if (b.n > lines + 1)
		abort();
	check_kinds(&b);
	check_replies(&b);
out:
	batch_free(&b);
	buf_free(&in);
	return 0;
}
