/*
 * core: each batch on every store; the replies read from the stores'
 * root sets, one per request and store, kept store after store.
 *
 * A hold: the core begins the batch on the store's set (its distinct
 * paths become the asked roots), the store registers, waits out a
 * collection and checks them, and once it is done rootset_reply reads
 * each request's reply.  A drop: the core finds the roots the batch
 * names in the store's set (a path not held is an error reply at once),
 * the store releases them and says which it could not, with why.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vis.h>

#include "core.h"
#include "xio.h"

struct core_store {
	struct store	*s;		/* NULL once a holding store is gone */
	char		*label;		/* visibly encoded; NULL: the only one */
	int		 holding;	/* opened while the session runs */
	core_lost_fn	 lost;		/* a holding store's failure, told */
	void		*lost_arg;
	char		*gone_why;	/* why a holding store is gone */
	int		 done;		/* with the batch in flight */
	int		 waiting;	/* a holding store, to start the batch
					   in flight once it is ready */
	size_t		 off, npfd;	/* its pollfds: where, how many */
	/* A drop in flight: the root of each request (ROOT_NONE: none),
	 * and the distinct roots given to the store with their reasons. */
	root_id		*drop_of;
	root_id		*ids;
	char		**why;
	size_t		 nids;
};

struct core {
	struct core_store st[STORE_MAX];
	size_t		 n;
	size_t		 nbatch;	/* stores in the batch in flight or
					   done: they have replies */
	size_t		 ndone;
	struct batch	*batch;		/* in flight or done, or NULL */
	int		 busy;		/* batch is in flight */
	int		 dropping;	/* ... and drops */
	struct reply	*rep;		/* nbatch * batch->n, store after
					   store */
	size_t		 nrep;
	const char	**paths;	/* offered ahead: a scratch array */
	size_t		 pathscap;
	int		 failed;	/* its index, or -1 */
	const char	*lost;
	char		 error[STORE_ERROR_MAX];
};

struct core *
core_new(void)
{
	struct core *c;

	if ((c = calloc(1, sizeof(*c))) != NULL)
		c->failed = -1;
	return c;
}

/* The session's own stores (not holding ones). */
static size_t
session_stores(const struct core *c)
{
	size_t k, n = 0;

	for (k = 0; k < c->n; k++)
		n += !c->st[k].holding;
	return n;
}

static int
add(struct core *c, struct store *s, const char *label, core_lost_fn lost,
    void *arg)
{
	struct core_store *cs = &c->st[c->n];
	int holding = lost != NULL;

	/* Unlabelled: the one session store, whose replies name none. */
	if (c->n == STORE_MAX || (label == NULL && (holding ||
	    session_stores(c) > 0)) || (!holding && session_stores(c) > 0 &&
	    c->st[0].label == NULL)) {
		store_close(s);
		errno = E2BIG;
		return -1;
	}
	memset(cs, 0, sizeof(*cs));
	if (label != NULL && stravis(&cs->label, label, VIS_OCTAL |
	    VIS_CSTYLE | VIS_WHITE) == -1) {
		store_close(s);
		return -1;
	}
	cs->s = s;
	cs->holding = holding;
	cs->lost = lost;
	cs->lost_arg = arg;
	cs->done = 1;
	return (int)c->n++;
}

int
core_add(struct core *c, struct store *s, const char *label)
{
	return add(c, s, label, NULL, NULL) == -1 ? -1 : 0;
}

int
core_add_holding(struct core *c, struct store *s, const char *label,
    core_lost_fn lost, void *arg)
{
	return add(c, s, label, lost, arg);
}

int
core_fail(struct core *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return status;
}

static int store_done(struct core *, size_t);
static int start_on(struct core *, size_t);
static void drop_free(struct core_store *);

/*
 * Holding store k failed: it goes, its owner is told, and its requests
 * get error replies; the session goes on.
 */
static int
holding_gone(struct core *c, size_t k, int status)
{
	struct core_store *cs = &c->st[k];

	/* NULL (ENOMEM): its requests' replies say only that it is gone. */
	cs->gone_why = strdup(cs->s->error);
	cs->lost(cs->lost_arg, status, cs->s->error, store_roots(cs->s),
	    cs->s->lost);
	store_close(cs->s);
	cs->s = NULL;
	drop_free(cs);
	if (c->busy && k < c->nbatch && !cs->done)
		return store_done(c, k);
	return STORE_BUSY;
}

/* Store k failed: so has the session, and its message names store k. */
static int
store_failed(struct core *c, size_t k, int status)
{
	const struct core_store *cs = &c->st[k];
	const char *error;
	size_t len;

	if (cs->holding)
		return holding_gone(c, k, status);
	error = cs->s->error;

	c->failed = (int)k;
	c->lost = cs->s->lost;
	if (cs->label == NULL)
		return core_fail(c, status, "%s", error);
	len = strlen(cs->label);
	if (strncmp(error, cs->label, len) == 0 && error[len] == ':')
		return core_fail(c, status, "%s", error);
	return core_fail(c, status, "%s: %s", cs->label, error);
}

static void
replies_free(struct core *c)
{
	size_t i;

	for (i = 0; i < c->nrep; i++)
		free(c->rep[i].why);
	free(c->rep);
	c->rep = NULL;
	c->nrep = 0;
}

static void
drop_free(struct core_store *cs)
{
	size_t i;

	for (i = 0; i < cs->nids && cs->why != NULL; i++)
		free(cs->why[i]);
	free(cs->why);
	free(cs->ids);
	free(cs->drop_of);
	cs->why = NULL;
	cs->ids = cs->drop_of = NULL;
	cs->nids = 0;
}

/* Store k's replies to the drop, from the reasons it gave. */
static int
drop_replies(struct core *c, size_t k, struct reply *rep)
{
	struct core_store *cs = &c->st[k];
	const root_id *id;
	size_t i, j;

	for (i = 0; i < c->batch->n; i++) {
		if (cs->drop_of[i] == ROOT_NONE)
			continue;
		id = bsearch(&cs->drop_of[i], cs->ids, cs->nids,
		    sizeof(*cs->ids), rootset_id_cmp);
		j = (size_t)(id - cs->ids);
		if (cs->why[j] == NULL)
			rep[i].kind = REPLY_DROPPED;
		else if (reply_set_error(&rep[i], cs->why[j]) == -1)
			return -1;
	}
	return 0;
}

/* A gone holding store's replies: an error for each of its requests. */
static int
gone_replies(struct core *c, size_t k, struct reply *rep)
{
	const struct core_store *cs = &c->st[k];
	const struct batch *b = c->batch;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->req[i].reply == REPLY_PENDING &&
		    request_for(&b->req[i], (unsigned)k, cs->holding) &&
		    reply_set_error(&rep[i], cs->gone_why != NULL ?
		    cs->gone_why : "its store is gone") == -1)
			return -1;
	return 0;
}

/* Store k is done with the batch: its replies are read now, before its
 * set can change. */
static int
store_done(struct core *c, size_t k)
{
	struct core_store *cs = &c->st[k];
	struct reply *rep = c->rep + k * c->batch->n;
	int rc;

	cs->done = 1;
	cs->waiting = 0;
	if (cs->s == NULL) {
		if (gone_replies(c, k, rep) == -1)
			return core_fail(c, STORE_SYSTEM, "%s",
			    strerror(ENOMEM));
		rc = 0;
	} else if (c->dropping) {
		rc = drop_replies(c, k, rep);
		drop_free(cs);
	} else
		rc = rootset_reply(store_rootset(cs->s), c->batch,
		    (unsigned)k, cs->holding, rep);
	if (rc == -1)
		return store_failed(c, k, store_oom(cs->s));
	if (++c->ndone < c->nbatch)
		return STORE_BUSY;
	c->busy = 0;
	return STORE_DONE;
}

/* Acts on what store k said.  Returns a store_status for the session. */
static int
on_store(struct core *c, size_t k, int status)
{
	if (status == STORE_BUSY)
		return STORE_BUSY;
	if (status != STORE_DONE)
		return store_failed(c, k, status);
	if (!c->busy || k >= c->nbatch || c->st[k].done || c->st[k].waiting)
		return STORE_BUSY;	/* nothing of a batch */
	return store_done(c, k);
}

size_t
core_pollfd(struct core *c, struct pollfd *pfd)
{
	size_t k, n = 0;

	for (k = 0; k < c->n; k++) {
		c->st[k].off = n;
		c->st[k].npfd = c->st[k].s != NULL ?
		    store_pollfd(c->st[k].s, &pfd[n]) : 0;
		n += c->st[k].npfd;
	}
	return n;
}

long
core_wakeup(struct core *c)
{
	long first = -1;
	size_t k;

	for (k = 0; k < c->n; k++)
		first = xio_earliest(first, store_wakeup(c->st[k].s));
	return first;	/* store_wakeup(NULL) is -1 */
}

int
core_due(struct core *c, const struct pollfd *pfd)
{
	size_t k;

	for (k = 0; k < c->n; k++)
		if (c->st[k].s != NULL && store_due(c->st[k].s,
		    &pfd[c->st[k].off], c->st[k].npfd))
			return 1;
	return 0;
}

int
core_handle(struct core *c, const struct pollfd *pfd)
{
	struct core_store *cs;
	size_t k;
	int status;

	for (k = 0; k < c->n; k++) {
		cs = &c->st[k];
		if (cs->s == NULL || !store_due(cs->s, &pfd[cs->off],
		    cs->npfd))
			continue;
		status = on_store(c, k, store_handle(cs->s, &pfd[cs->off]));
		if (status == STORE_BUSY && cs->waiting && cs->s != NULL &&
		    store_ready(cs->s))
			status = start_on(c, k);
		if (status != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}

int
core_ready(struct core *c)
{
	size_t k;

	for (k = 0; k < c->n; k++)
		if (!c->st[k].holding && !store_ready(c->st[k].s))
			return 0;
	return 1;
}

/*
 * Finds the roots the drop batch names in store k's set: each request's
 * in drop_of, a path not held gets its error reply; the distinct roots
 * sorted in ids.  Returns 0/-1 (ENOMEM).
 */
static int
find_dropped(struct core *c, size_t k, struct reply *rep)
{
	struct core_store *cs = &c->st[k];
	const struct rootset *set = store_rootset(cs->s);
	const struct batch *b = c->batch;
	root_id id;
	size_t i, n = 0;

	if ((cs->drop_of = reallocarray(NULL, b->n + 1,
	    sizeof(*cs->drop_of))) == NULL ||
	    (cs->ids = reallocarray(NULL, b->n + 1, sizeof(*cs->ids))) == NULL)
		return -1;
	for (i = 0; i < b->n; i++) {
		cs->drop_of[i] = ROOT_NONE;
		if (b->req[i].reply != REPLY_PENDING ||
		    !request_for(&b->req[i], (unsigned)k, cs->holding))
			continue;
		id = rootset_find(set, b->req[i].path);
		if (id == ROOT_NONE ||
		    !(rootset_flags(set, id) & ROOT_ROOTED)) {
			if (reply_set_error(&rep[i], "not held by this "
			    "session") == -1)
				return -1;
			continue;
		}
		cs->drop_of[i] = cs->ids[n++] = id;
	}
	qsort(cs->ids, n, sizeof(*cs->ids), rootset_id_cmp);
	for (i = cs->nids = 0; i < n; i++)
		if (i == 0 || cs->ids[i] != cs->ids[i - 1])
			cs->ids[cs->nids++] = cs->ids[i];
	if ((cs->why = calloc(cs->nids + 1, sizeof(*cs->why))) == NULL)
		return -1;
	return 0;
}

/* Whether the batch has a request for store k still to answer. */
static int
has_requests(const struct core *c, size_t k)
{
	const struct batch *b = c->batch;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->req[i].reply == REPLY_PENDING &&
		    request_for(&b->req[i], (unsigned)k, c->st[k].holding))
			return 1;
	return 0;
}

/*
 * Starts the batch on store k.  A holding store that is not ready (still
 * connecting to its host, or reconnecting) gets it once it is, and only
 * if it has requests in it: a host that is slow to answer holds up only
 * the batches with paths for it.
 */
static int
start_on(struct core *c, size_t k)
{
	struct core_store *cs = &c->st[k];
	struct reply *rep = c->rep + k * c->batch->n;

	cs->done = 0;
	if (cs->s == NULL)
		return store_done(c, k);
	if (cs->holding && !store_ready(cs->s)) {
		if (!has_requests(c, k))
			return store_done(c, k);
		cs->waiting = 1;
		return STORE_BUSY;
	}
	cs->waiting = 0;
	if (!c->dropping) {
		if (rootset_begin(store_rootset(cs->s), c->batch,
		    (unsigned)k, cs->holding) == -1)
			return store_failed(c, k, store_oom(cs->s));
		return on_store(c, k, store_submit(cs->s));
	}
	if (find_dropped(c, k, rep) == -1)
		return store_failed(c, k, store_oom(cs->s));
	if (cs->nids == 0)
		return on_store(c, k, STORE_DONE);
	return on_store(c, k, store_drop(cs->s, cs->ids, cs->why, cs->nids));
}

/* Every store's reply to a request refused before any store saw it. */
static int
refused_replies(struct core *c)
{
	const struct batch *b = c->batch;
	size_t i, k;

	for (i = 0; i < b->n; i++) {
		if (b->req[i].reply == REPLY_PENDING)
			continue;
		for (k = 0; k < c->nbatch; k++)
			if (request_for(&b->req[i], (unsigned)k,
			    c->st[k].holding) &&
			    reply_set_error(&c->rep[k * b->n + i],
			    b->req[i].why) == -1)
				return -1;
	}
	return 0;
}

int
core_start(struct core *c, struct batch *b)
{
	size_t k;
	int status;

	replies_free(c);
	c->batch = b;
	c->nbatch = c->n;
	c->ndone = 0;
	c->dropping = b->n > 0 && b->req[0].kind == REQUEST_DROP;
	c->busy = 1;
	if ((c->rep = calloc(c->nbatch * b->n + 1, sizeof(*c->rep))) == NULL)
		return core_fail(c, STORE_SYSTEM, "%s", strerror(ENOMEM));
	c->nrep = c->nbatch * b->n;
	if (refused_replies(c) == -1)
		return core_fail(c, STORE_SYSTEM, "%s", strerror(ENOMEM));
	for (k = 0; k < c->nbatch; k++)
		if ((status = start_on(c, k)) != STORE_BUSY)
			return status;
	return STORE_BUSY;
}

/*
 * The pending holds of q->req[from..to) for store k, as paths.  Returns
 * how many.
 */
static size_t
ahead_paths(struct core *c, const struct batch *q, size_t from, size_t to,
    size_t k)
{
	const char **grown;
	size_t i, n = 0;

	if (to - from > c->pathscap) {
		if ((grown = reallocarray(c->paths, to - from,
		    sizeof(*grown))) == NULL)
			return 0;	/* offered ahead or not: a hint */
		c->paths = grown;
		c->pathscap = to - from;
	}
	for (i = from; i < to; i++)
		if (q->req[i].kind == REQUEST_HOLD &&
		    q->req[i].reply == REPLY_PENDING &&
		    request_for(&q->req[i], (unsigned)k, c->st[k].holding))
			c->paths[n++] = q->req[i].path;
	return n;
}

int
core_ahead(struct core *c, const struct batch *q, size_t from, size_t to)
{
	size_t k, n;
	int status;

	if (!c->busy || c->dropping)
		return STORE_BUSY;
	for (k = 0; k < c->nbatch; k++) {
		if (c->st[k].done || c->st[k].waiting || c->st[k].s == NULL ||
		    (n = ahead_paths(c, q, from, to, k)) == 0)
			continue;
		status = store_ahead(c->st[k].s, c->paths, n);
		if (status != STORE_BUSY)
			return store_failed(c, k, status);
	}
	return STORE_BUSY;
}

size_t
core_replying(const struct core *c)
{
	return c->busy || c->batch == NULL ? 0 : c->nbatch;
}

const struct reply *
core_reply(const struct core *c, size_t i, size_t k, const char **store)
{
	*store = c->st[k].label;
	return &c->rep[k * c->batch->n + i];
}

void
core_replies_read(struct core *c)
{
	replies_free(c);
	c->batch = NULL;
	free(c->paths);
	c->paths = NULL;
	c->pathscap = 0;
}

size_t
core_roots(struct core *c)
{
	size_t k, n = 0;

	if (c->failed != -1)
		return store_roots(c->st[c->failed].s);
	for (k = 0; k < c->n; k++)
		if (c->st[k].s != NULL && !c->st[k].holding)
			n += store_roots(c->st[k].s);
	return n;
}

const char *
core_error(const struct core *c)
{
	return c->error;
}

const char *
core_failed(const struct core *c)
{
	return c->failed != -1 ? c->st[c->failed].label : NULL;
}

const char *
core_lost(const struct core *c)
{
	return c->lost;
}

void
core_close(struct core *c)
{
	size_t k;

	if (c == NULL)
		return;
	for (k = 0; k < c->n; k++) {
		store_close(c->st[k].s);
		drop_free(&c->st[k]);
		free(c->st[k].label);
		free(c->st[k].gone_why);
	}
	replies_free(c);
	free(c->paths);
	free(c);
}
