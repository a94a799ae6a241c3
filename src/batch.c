/*
 * batch: requests in arrival order, moved between the loop's queue, the
 * batch in flight and the stores' copies.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "batch.h"

struct request *
batch_push(struct batch *b)
{
	struct request *r;
	size_t cap;

	if (b->n == b->cap) {
		cap = b->cap ? b->cap * 2 : 64;
		if ((r = reallocarray(b->req, cap, sizeof(*r))) == NULL)
			return NULL;
		b->req = r;
		b->cap = cap;
	}
	r = &b->req[b->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

int
batch_move(struct batch *to, struct batch *from, size_t max)
{
	struct request *r;
	size_t i, n = 0;

	while (n < from->n && n < max && from->req[n].kind == from->req[0].kind)
		n++;
	for (i = 0; i < n; i++) {
		if ((r = batch_push(to)) == NULL)
			return -1;
		*r = from->req[i];
	}
	if (from->n > n)
		memmove(from->req, from->req + n,
		    (from->n - n) * sizeof(from->req[0]));
	from->n -= n;
	return 0;
}

int
batch_add(struct batch *b, const char *storedir, const char *input,
    size_t len)
{
	struct request *r;

	return (r = batch_push(b)) == NULL ? -1 :
	    request_parse(r, storedir, input, len);
}

struct request *
batch_add_captured(struct batch *b, const char *path, int how)
{
	struct request *r;

	if ((r = batch_push(b)) == NULL)
		return NULL;
	if (request_captured(r, path, how) == -1) {
		b->n--;		/* the zeroed request it was */
		return NULL;
	}
	return r;
}

/* Appends the request of one line.  Returns 0/-1. */
static int
add_line(struct batch *b, const char *storedir, const char *line, size_t len)
{
	struct request *r;

	return (r = batch_push(b)) == NULL ? -1 :
	    request_parse_line(r, storedir, line, len);
}

int
batch_take_lines(struct batch *b, const char *storedir, struct buf *in,
    int *skipping, size_t max)
{
	const char *head, *nl;
	size_t used, len;

	while (b->n < max && (used = buf_used(in)) > 0) {
		head = (const char *)buf_head(in);
		nl = memchr(head, '\n', used);
		if (nl == NULL) {
			if (used <= REQUEST_LINE_MAX || *skipping) {
				if (*skipping)
					buf_consume(in, used);
				return 0;
			}
			/* Too long: answer it now, drop the rest of it later. */
			if (add_line(b, storedir, head, used) == -1)
				return -1;
			buf_consume(in, used);
			*skipping = 1;
			return 0;
		}
		len = (size_t)(nl - head);
		if (*skipping)
			*skipping = 0;
		else if (add_line(b, storedir, head, len) == -1)
			return -1;
		buf_consume(in, len + 1);
	}
	return 0;
}

void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		request_free(&b->req[i]);
	b->n = 0;
}

void
batch_free(struct batch *b)
{
	batch_clear(b);
	free(b->req);
	b->req = NULL;
	b->cap = 0;
}
