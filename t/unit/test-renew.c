/*
 * store_renew: a drop, make before break, with fake connections: the
 * roots that stay are adopted by a new connection before the old one is
 * released; a path not held, a new connection that fails and a root the
 * new connection refuses all leave the old one holding everything.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include "batch.h"
#include "buf.h"
#include "request.h"
#include "rootset.h"
#include "store.h"
#include "core.h"
#include "store_renew.h"
#include "unit.h"

#define SD	"/kp-unit-no-such-dir/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"
#define P1	SD "/" HASH "-one"
#define P2	SD "/" HASH "-two"
#define P3	SD "/" HASH "-three"

/* A fake daemon connection: it holds what it is given, at once. */
struct conn {
	struct store	 store;
	struct rootset	 roots;
	int		 releasing;	/* release() started: done next turn */
	const char	*refuse;	/* adopt() refuses this path */
};

/* What the test sees of the connections made. */
static struct conn *made[8];
static size_t nmade, nclosed;
static const char *reopen_fails;	/* reopen's message, if it fails */
static const char *adopt_refuses;	/* the next connection's refusal */

static size_t
conn_pollfd(struct store *s, struct pollfd *pfd)
{
	pfd->fd = -1;
	return 1;
}

/* Always due: as a daemon's new connection is, once it can answer. */
static long
conn_wakeup(struct store *s)
{
	return 0;
}

static int
conn_handle(struct store *s, const struct pollfd *pfd)
{
	struct conn *c = (struct conn *)s;

	if (!c->releasing)
		return STORE_BUSY;
	c->releasing = 0;
	return STORE_DONE;
}

static int
conn_ready(struct store *s)
{
	return 1;
}

static int
conn_submit(struct store *s)
{
	struct conn *c = (struct conn *)s;
	size_t i;

	for (i = 0; i < c->roots.nasked; i++)
		rootset_mark(&c->roots, c->roots.asked[i],
		    ROOT_HELD | ROOT_VALID);
	return STORE_DONE;
}

static int
conn_adopt(struct store *s, const struct rootset *from, const root_id *skip,
    size_t nskip)
{
	struct conn *c = (struct conn *)s;
	char path[PATH_MAX];
	root_id id, mine;

	for (id = rootset_next(from, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(from, id)) {
		if (bsearch(&id, skip, nskip, sizeof(id), rootset_id_cmp))
			continue;
		rootset_path(from, id, path);
		if (c->refuse != NULL && strcmp(path, c->refuse) == 0)
			return store_fail(s, STORE_PROTOCOL, "%s: refused",
			    path);
		mine = rootset_add(&c->roots, path);
		rootset_mark(&c->roots, mine, rootset_flags(from, id) |
		    ROOT_HELD);
	}
	return STORE_DONE;
}

static int
conn_release(struct store *s)
{
	((struct conn *)s)->releasing = 1;
	return STORE_BUSY;
}

static size_t
conn_roots(struct store *s)
{
	return ((struct conn *)s)->roots.n;
}

static struct rootset *
conn_rootset(struct store *s)
{
	return &((struct conn *)s)->roots;
}

static void
conn_close(struct store *s)
{
	struct conn *c = (struct conn *)s;
	size_t i;

	for (i = 0; i < nmade; i++)
		if (made[i] == c)
			made[i] = NULL;
	rootset_free(&c->roots);
	free(c);
	nclosed++;
}

static const struct store_ops conn_ops = {
	.pollfd = conn_pollfd,
	.wakeup = conn_wakeup,
	.handle = conn_handle,
	.ready = conn_ready,
	.submit = conn_submit,
	.release = conn_release,
	.roots = conn_roots,
	.rootset = conn_rootset,
	.adopt = conn_adopt,
	.close = conn_close,
};

static struct store *
conn_new(void)
{
	struct conn *c = calloc(1, sizeof(*c));

	c->store.ops = &conn_ops;
	rootset_init(&c->roots, SD);
	c->refuse = adopt_refuses;
	made[nmade++] = c;
	return &c->store;
}

static struct store *
reopen(const void *arg, char *err, size_t errlen)
{
	if (reopen_fails != NULL) {
		snprintf(err, errlen, "%s", reopen_fails);
		return NULL;
	}
	return conn_new();
}

/* The renewing store of the session holding(). */
static struct store *renew;

/* A session holding P1, P2 and P3 on one fake connection. */
static struct core *
holding(void)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	struct core *c;
	char err[256];
	int skipping = 0;

	nmade = nclosed = 0;
	reopen_fails = adopt_refuses = NULL;
	renew = store_renew_open(conn_new(), reopen, NULL, err, sizeof(err));
	c = unit_core(renew);
	buf_append(&in, P1 "\n" P2 "\n" P3 "\n", strlen(P1 P2 P3) + 3);
	CHECK(batch_take_lines(&b, SD, &in, &skipping, 100) == 0);
	CHECK(unit_run(c, &b) == STORE_DONE);
	CHECK_STR(unit_core_replies(c, &b, 0),
	    "ok " P1 "\nok " P2 "\nok " P3 "\n");
	batch_free(&b);
	buf_free(&in);
	return c;
}

/* The drop lines of text, run on c: their replies. */
static const char *
drop(struct core *c, const char *text)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	static char out[4096];
	int skipping = 0;

	buf_append(&in, text, strlen(text));
	CHECK(batch_take_lines(&b, SD, &in, &skipping, 100) == 0);
	CHECK(unit_run(c, &b) == STORE_DONE);
	snprintf(out, sizeof(out), "%s", unit_core_replies(c, &b, 0));
	batch_free(&b);
	buf_free(&in);
	return out;
}

static void
drop_one(void)
{
	struct core *s = holding();
	const struct rootset *set;

	CHECK_STR(drop(s, "drop " P2 "\n"), "dropped " P2 "\n");
	/* The old connection is gone; the new one holds P1 and P3, acked. */
	CHECK(nmade == 2 && nclosed == 1 && made[0] == NULL);
	set = store_rootset(&made[1]->store);
	CHECK(set->n == 2);
	CHECK(rootset_find(set, P2) == ROOT_NONE);
	CHECK(rootset_flags(set, rootset_find(set, P1)) & ROOT_ACKED);
	CHECK(rootset_flags(set, rootset_find(set, P3)) & ROOT_ROOTED);
	/* Dropped twice: not held any more. */
	CHECK_STR(drop(s, "drop " P2 "\n"), "error drop " P2 ": not held by "
	    "this session\n");
	CHECK(nmade == 2);		/* no new connection for it */
	core_close(s);
	CHECK(nclosed == 2);
}

static void
new_connection_fails(void)
{
	struct core *s = holding();

	reopen_fails = "connection refused";
	CHECK_STR(drop(s, "drop " P1 "\n"), "error drop " P1 ": nothing "
	    "dropped: a new connection for the roots that stay failed: "
	    "connection refused\n");
	CHECK(nclosed == 0 && store_rootset(renew) == &made[0]->roots);
	CHECK(store_roots(renew) == 3);
	core_close(s);
}

static void
root_refused_on_adopt(void)
{
	struct core *s = holding();

	adopt_refuses = P3;
	CHECK_STR(drop(s, "drop " P1 "\n"), "error drop " P1 ": nothing "
	    "dropped: a new connection for the roots that stay failed: "
	    P3 ": refused\n");
	/* The new connection is closed; the old one holds all three. */
	CHECK(nmade == 2 && nclosed == 1 && made[1] == NULL);
	CHECK(made[0] != NULL && made[0]->roots.n == 3);
	core_close(s);
}

int
main(void)
{
	RUN(drop_one);
	RUN(new_connection_fails);
	RUN(root_refused_on_adopt);
	return UNIT_DONE();
}
