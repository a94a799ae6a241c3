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

void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->req[i].input);
		free(b->req[i].path);
		free(b->req[i].why);
	}
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
