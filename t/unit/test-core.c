/*
 * core: several stores, one batch, with fake back ends: every store
 * answers each request from its own root set, the replies come request
 * after request in the stores' order, each naming its store, and the
 * batch is never copied; a store done at once, one answering later and
 * one failing are all told apart; drops find their roots in each store's
 * set; a store added while the session runs takes part from the next
 * batch; a holding store still connecting holds up only the batches with
 * requests for it.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include "batch.h"
#include "buf.h"
#include "core.h"
#include "request.h"
#include "rootset.h"
#include "store.h"
#include "unit.h"

#define SD	"/kp-unit-no-such-dir/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"
#define P1	SD "/" HASH "-one"
#define P2	SD "/" HASH "-two"
#define P3	SD "/" HASH "-three"

/* A back end that answers from a script, at once or when woken. */
struct fake {
	struct store	 store;
	struct rootset	 roots;
	const char	*refuse;	/* this path is refused */
	const char	*missing;	/* this one is not valid */
	const char	*keep;		/* a drop cannot release this one */
	int		 at_once;	/* submit() answers, or handle() */
	int		 fail;		/* handle() fails the store */
	int		 unready;	/* ready() says no */
	int		 busy;
	size_t		 submits, drops;
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
	return ((struct fake *)s)->busy ? 0 : -1;
}

/* Marks the asked roots as the script says. */
static int
answer(struct fake *f)
{
	char path[PATH_MAX];
	root_id id;
	size_t i;

	for (i = 0; i < f->roots.nasked; i++) {
		id = f->roots.asked[i];
		rootset_path(&f->roots, id, path);
		if (f->refuse != NULL && strcmp(path, f->refuse) == 0) {
			if (rootset_refuse(&f->roots, id, "refused") == -1)
				return store_oom(&f->store);
		} else if (f->missing == NULL || strcmp(path, f->missing) != 0)
			rootset_mark(&f->roots, id, ROOT_VALID);
		rootset_mark(&f->roots, id, ROOT_HELD);
	}
	f->busy = 0;
	return STORE_DONE;
}

static int
fake_handle(struct store *s, const struct pollfd *pfd)
{
	struct fake *f = (struct fake *)s;

	if (!f->busy)
		return STORE_BUSY;
	if (f->fail)
		return store_fail(s, STORE_CLOSED, "fake: connection lost");
	return answer(f);
}

static int
fake_ready(struct store *s)
{
	return !((struct fake *)s)->unready;
}

static struct rootset *
fake_rootset(struct store *s)
{
	return &((struct fake *)s)->roots;
}

static int
fake_submit(struct store *s)
{
	struct fake *f = (struct fake *)s;

	f->submits++;
	f->busy = 1;
	return f->at_once ? answer(f) : STORE_BUSY;
}

/* Releases at once, but the one it keeps. */
static int
fake_drop(struct store *s, const root_id *ids, char **why, size_t n)
{
	struct fake *f = (struct fake *)s;
	char path[PATH_MAX];
	size_t i;

	f->drops++;
	for (i = 0; i < n; i++) {
		rootset_path(&f->roots, ids[i], path);
		if (f->keep != NULL && strcmp(path, f->keep) == 0)
			why[i] = strdup("kept");
		else
			rootset_unmark(&f->roots, ids[i], ROOT_ROOTED);
	}
	return STORE_DONE;
}

static size_t
fake_roots(struct store *s)
{
	struct fake *f = (struct fake *)s;
	size_t n = 0;
	root_id id;

	for (id = rootset_next(&f->roots, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(&f->roots, id))
		n += (rootset_flags(&f->roots, id) & ROOT_ROOTED) != 0;
	return n;
}

static void
fake_close(struct store *s)
{
	struct fake *f = (struct fake *)s;

	(*f->closed)++;
	rootset_free(&f->roots);
	free(f);
}

static const struct store_ops fake_ops = {
	.pollfd = fake_pollfd,
	.wakeup = fake_wakeup,
	.handle = fake_handle,
	.ready = fake_ready,
	.rootset = fake_rootset,
	.submit = fake_submit,
	.roots = fake_roots,
	.close = fake_close,
};

/* The same, and it can release single roots. */
static const struct store_ops fake_drop_ops = {
	.pollfd = fake_pollfd,
	.wakeup = fake_wakeup,
	.handle = fake_handle,
	.ready = fake_ready,
	.rootset = fake_rootset,
	.submit = fake_submit,
	.drop = fake_drop,
	.roots = fake_roots,
	.close = fake_close,
};

static struct fake *
fake_new(int *closed, const struct store_ops *ops)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->store.ops = ops;
	f->closed = closed;
	rootset_init(&f->roots, SD);
	return f;
}

static void
push(struct batch *b, const char *path)
{
	struct request *r = batch_push(b);

	r->kind = REQUEST_HOLD;
	r->path = strdup(path);
}

static struct core *
three_stores(int *closed, struct fake **f)
{
	struct store *inner[3];
	const char *labels[] = { "a", "b", "c d" };
	size_t i;

	for (i = 0; i < 3; i++) {
		f[i] = fake_new(closed, &fake_ops);
		inner[i] = &f[i]->store;
	}
	return unit_cores(inner, labels, 3);
}

static void
interleaved(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *f[3];
	int closed = 0;
	struct core *c = three_stores(&closed, f);
	struct request *r;

	f[0]->at_once = 1;		/* done in submit */
	f[1]->missing = P2;		/* done when woken */
	f[2]->refuse = P1;
	push(&b, P1);
	push(&b, P2);
	r = batch_push(&b);
	r->input = strdup("");		/* as request_parse_line refuses it */
	CHECK(request_set_error(r, "empty request") == 0);
	push(&b, P1);
	CHECK(unit_run(c, &b) == STORE_DONE);
	CHECK(b.n == 4);		/* not copied */
	CHECK(core_replying(c) == 3);
	CHECK_STR(unit_core_replies(c, &b, 0),
	    "ok " P1 " a\n"
	    "ok " P1 " b\n"
	    "error " P1 ": c\\sd: refused\n"
	    "ok " P2 " a\n"
	    "missing " P2 " b\n"
	    "ok " P2 " c\\sd\n"
	    "error : a: empty request\n"
	    "error : b: empty request\n"
	    "error : c\\sd: empty request\n"
	    "ok " P1 " a\n"
	    "ok " P1 " b\n"
	    "error " P1 ": c\\sd: refused\n");
	/* Rooted: ok and missing, on each store; not the refused. */
	CHECK(core_roots(c) == 2 + 2 + 1);
	batch_free(&b);
	core_close(c);
	CHECK(closed == 3);
}

/* One store fails: the session's error names it. */
static void
one_fails(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *f[3];
	int closed = 0;
	struct core *c = three_stores(&closed, f);

	f[1]->fail = 1;
	push(&b, P1);
	CHECK(unit_run(c, &b) == STORE_CLOSED);
	CHECK_STR(core_error(c), "b: fake: connection lost");
	CHECK_STR(core_failed(c), "b");
	batch_free(&b);
	core_close(c);
	CHECK(closed == 3);
}

static void
push_drop(struct batch *b, const char *path)
{
	struct request *r = batch_push(b);
	char line[PATH_MAX];

	snprintf(line, sizeof(line), "drop %s", path);
	r->kind = REQUEST_DROP;
	r->path = strdup(path);
	r->input = strdup(line);
}

/*
 * Drops: a store without drop refuses each root it holds; one with drop
 * releases them (but one it keeps, saying why); a path not held is an
 * error on each store, and the stores see only roots they hold.
 */
static void
drops(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *f[2];
	struct store *inner[2];
	const char *labels[] = { "plain", "dropper" };
	int closed = 0;
	struct core *c;

	f[0] = fake_new(&closed, &fake_ops);
	f[1] = fake_new(&closed, &fake_drop_ops);
	f[1]->keep = P2;
	inner[0] = &f[0]->store;
	inner[1] = &f[1]->store;
	c = unit_cores(inner, labels, 2);
	f[0]->at_once = f[1]->at_once = 1;
	push(&b, P1);
	push(&b, P2);
	CHECK(unit_run(c, &b) == STORE_DONE);
	batch_free(&b);
	push_drop(&b, P1);
	push_drop(&b, P2);
	push_drop(&b, P3);
	push_drop(&b, P1);
	CHECK(unit_run(c, &b) == STORE_DONE);
	CHECK(f[1]->drops == 1);
	CHECK_STR(unit_core_replies(c, &b, 0),
	    "error drop " P1 ": plain: this store cannot release one root\n"
	    "dropped " P1 " dropper\n"
	    "error drop " P2 ": plain: this store cannot release one root\n"
	    "error drop " P2 ": dropper: kept\n"
	    "error drop " P3 ": plain: not held by this session\n"
	    "error drop " P3 ": dropper: not held by this session\n"
	    "error drop " P1 ": plain: this store cannot release one root\n"
	    "dropped " P1 " dropper\n");
	batch_free(&b);
	/* Dropped: no longer held there. */
	push_drop(&b, P1);
	CHECK(unit_run(c, &b) == STORE_DONE);
	CHECK_STR(unit_core_replies(c, &b, 1),
	    "error drop " P1 ": plain: this store cannot release one root\n"
	    "error drop " P1 ": dropper: not held by this session\n");
	CHECK(f[1]->drops == 1);
	batch_free(&b);
	core_close(c);
	CHECK(closed == 2);
}

/* A store added while a batch is in flight replies from the next one. */
static void
added_later(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *first, *later;
	int closed = 0;
	struct core *c = core_new();

	first = fake_new(&closed, &fake_ops);
	later = fake_new(&closed, &fake_ops);
	later->at_once = 1;
	CHECK(core_add(c, &first->store, "first") == 0);
	push(&b, P1);
	CHECK(core_start(c, &b) == STORE_BUSY);
	CHECK(core_add(c, &later->store, "later") == 0);
	CHECK(unit_finish(c) == STORE_DONE);
	CHECK(later->submits == 0 && core_replying(c) == 1);
	CHECK_STR(unit_core_replies(c, &b, 0), "ok " P1 " first\n");
	batch_free(&b);
	push(&b, P1);
	CHECK(unit_run(c, &b) == STORE_DONE);
	CHECK(later->submits == 1);
	CHECK_STR(unit_core_replies(c, &b, 0),
	    "ok " P1 " first\n"
	    "ok " P1 " later\n");
	batch_free(&b);
	core_close(c);
	CHECK(closed == 2);
}

static void
no_loss(void *arg, int status, const char *error, size_t roots,
    const char *lost)
{
	CHECK(!"a holding store failed");
}

/*
 * A holding store that is not ready yet (its host is slow to answer): a
 * batch with nothing for it is done without it; one with a request for
 * it waits, and starts on it once it is ready.
 */
static void
holding_connecting(void)
{
	struct batch b = { NULL, 0, 0 };
	struct fake *own, *host;
	int closed = 0, k;
	struct core *c = core_new();

	own = fake_new(&closed, &fake_ops);
	host = fake_new(&closed, &fake_ops);
	own->at_once = host->at_once = 1;
	host->unready = 1;
	CHECK(core_add(c, &own->store, "own") == 0);
	CHECK((k = core_add_holding(c, &host->store, "host", no_loss,
	    NULL)) == 1);
	CHECK(core_ready(c));		/* the session's own stores are */
	push(&b, P1);
	CHECK(unit_run(c, &b) == STORE_DONE);
	CHECK(host->submits == 0);
	CHECK_STR(unit_core_replies(c, &b, 0), "ok " P1 " own\n");
	batch_free(&b);
	push(&b, P2);
	b.req[0].stores = 1u << k;
	CHECK(unit_run(c, &b) == STORE_BUSY);
	CHECK(host->submits == 0);
	/* Its handshake is answered: it is due, and ready after. */
	host->unready = 0;
	host->busy = 1;
	CHECK(unit_finish(c) == STORE_DONE);
	CHECK(host->submits == 1);
	CHECK_STR(unit_core_replies(c, &b, 0), "ok " P2 " host\n");
	batch_free(&b);
	core_close(c);
	CHECK(closed == 2);
}

/* A store without a label beside another, or one too many: refused. */
static void
add_refused(void)
{
	int closed = 0;
	struct core *c = core_new();
	size_t i;

	CHECK(core_add(c, &fake_new(&closed, &fake_ops)->store, NULL) == 0);
	CHECK(core_add(c, &fake_new(&closed, &fake_ops)->store, "x") == -1);
	CHECK(closed == 1);
	core_close(c);
	c = core_new();
	for (i = 0; i < STORE_MAX; i++)
		CHECK(core_add(c, &fake_new(&closed, &fake_ops)->store,
		    "x") == 0);
	CHECK(core_add(c, &fake_new(&closed, &fake_ops)->store, "y") == -1);
	core_close(c);
	CHECK(closed == 3 + STORE_MAX);
}

int
main(void)
{
	RUN(interleaved);
	RUN(one_fails);
	RUN(drops);
	RUN(added_later);
	RUN(holding_connecting);
	RUN(add_refused);
	return UNIT_DONE();
}
