/*
 * store_multi: several stores, one batch, with fake back ends: every
 * store answers each request, the replies come request after request in
 * the stores' order, each naming its store; a store done at once, one
 * answering later and one failing are all told apart.
 */
#include "config.h"

#include <stdlib.h>

#include "batch.h"
#include "buf.h"
#include "request.h"
#include "store.h"
#include "store_multi.h"
#include "unit.h"

#define SD	"/kp-unit-no-such-dir/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"
#define P1	SD "/" HASH "-one"
#define P2	SD "/" HASH "-two"

/* A back end that answers from a script, at once or when woken. */
struct fake {
	struct store	 store;
	const char	*refuse;	/* this path gets an error */
	const char	*missing;	/* this one is not valid */
	int		 at_once;	/* submit() answers, or handle() */
	int		 fail;		/* handle() fails the store */
	struct batch	*batch;
	size_t		 roots;
	int		*closed;
};

static size_t
fake_pollfd(struct store *s, struct pollfd *pfd)
{
	pfd->fd = -1;
	pfd->events = 0;
	return 1;
}

static long
fake_wakeup(struct store *s)
{
	return ((struct fake *)s)->batch != NULL ? 0 : -1;
}

static int
answer(struct fake *f)
{
	struct request *r;
	size_t i;

	for (i = 0; i < f->batch->n; i++) {
		r = &f->batch->req[i];
		if (r->reply != REPLY_PENDING)
			continue;
		if (f->refuse != NULL && strcmp(r->path, f->refuse) == 0) {
			if (request_set_error(r, "refused") == -1)
				return store_oom(&f->store);
		} else if (f->missing != NULL &&
		    strcmp(r->path, f->missing) == 0)
			r->reply = REPLY_MISSING;
		else {
			r->reply = REPLY_OK;
			f->roots++;
		}
	}
	f->batch = NULL;
	return STORE_DONE;
}

static int
fake_handle(struct store *s, const struct pollfd *pfd)
{
	struct fake *f = (struct fake *)s;

	if (f->batch == NULL)
		return STORE_BUSY;
	if (f->fail)
		return store_fail(s, STORE_CLOSED, "fake: connection lost");
	return answer(f);
}

static int
fake_ready(struct store *s)
{
	return 1;
}

static int
fake_submit(struct store *s, struct batch *b)
{
	struct fake *f = (struct fake *)s;

	f->batch = b;
	return f->at_once ? answer(f) : STORE_BUSY;
}

static size_t
fake_roots(struct store *s)
{
	return ((struct fake *)s)->roots;
}

static void
fake_close(struct store *s)
{
	(*((struct fake *)s)->closed)++;
	free(s);
}

static const struct store_ops fake_ops = {
	.pollfd = fake_pollfd,
	.wakeup = fake_wakeup,
	.handle = fake_handle,
	.ready = fake_ready,
	.submit = fake_submit,
	.roots = fake_roots,
	.close = fake_close,
};

static struct store *
fake_new(int *closed)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->store.ops = &fake_ops;
	f->closed = closed;
	return &f->store;
}

static void
push(struct batch *b, const char *path)
{
	struct request *r = batch_push(b);

	r->kind = REQUEST_HOLD;
	r->path = strdup(path);
}

static struct store *
three_stores(int *closed, struct fake **f)
{
	struct store *inner[3];
	char a[] = "a", b[] = "b", cd[] = "c d", *labels[] = { a, b, cd };
	char err[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		inner[i] = fake_new(closed);
		f[i] = (struct fake *)inner[i];
	}
	return store_multi_open(inner, labels, 3, err, sizeof(err));
}

static void
interleaved(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *f[3];
	int closed = 0;
	struct store *m = three_stores(&closed, f);
	struct request *r;

	f[0]->at_once = 1;		/* done in submit */
	f[1]->missing = P2;		/* done when woken */
	f[2]->refuse = P1;
	push(&b, P1);
	push(&b, P2);
	r = batch_push(&b);
	r->input = strdup("");		/* as request_parse_line refuses it */
	CHECK(request_set_error(r, "empty request") == 0);
	CHECK(unit_run(m, &b) == STORE_DONE);
	CHECK(b.n == 9);
	CHECK_STR(unit_replies(&b, 0),
	    "ok " P1 " a\n"
	    "ok " P1 " b\n"
	    "error " P1 ": c\\sd: refused\n"
	    "ok " P2 " a\n"
	    "missing " P2 " b\n"
	    "ok " P2 " c\\sd\n"
	    "error : a: empty request\n"
	    "error : b: empty request\n"
	    "error : c\\sd: empty request\n");
	CHECK(store_roots(m) == 2 + 1 + 1);
	batch_free(&b);
	store_close(m);
	CHECK(closed == 3);
}

/* One store fails: the session's error names it. */
static void
one_fails(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *f[3];
	int closed = 0;
	struct store *m = three_stores(&closed, f);

	f[1]->fail = 1;
	push(&b, P1);
	CHECK(unit_run(m, &b) == STORE_CLOSED);
	CHECK_STR(m->error, "b: fake: connection lost");
	CHECK_STR(m->failed, "b");
	batch_free(&b);
	store_close(m);
	CHECK(closed == 3);
}

/* No store can drop one root: each refuses, saying so. */
static void
drops_refused(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *f[3];
	int closed = 0;
	struct store *m = three_stores(&closed, f);
	struct request *r = batch_push(&b);

	r->kind = REQUEST_DROP;
	r->path = strdup(P1);
	r->input = strdup("drop " P1);
	CHECK(store_start(m, &b) == STORE_DONE);
	CHECK(b.n == 3);
	CHECK_STR(unit_replies(&b, 0),
	    "error drop " P1 ": a: this store cannot release one root\n"
	    "error drop " P1 ": b: this store cannot release one root\n"
	    "error drop " P1 ": c\\sd: this store cannot release one root\n");
	batch_free(&b);
	store_close(m);
}

int
main(void)
{
	RUN(interleaved);
	RUN(one_fails);
	RUN(drops_refused);
	return UNIT_DONE();
}
