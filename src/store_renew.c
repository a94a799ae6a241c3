/*
 * store_renew: a drop, make before break.
 *
 * The roots the connection holds are its own set's (store_ops.rootset),
 * those marked ROOT_ROOTED by the replies of every batch ("ok" and
 * "missing" are rooted).  A drop of some of them:
 *	opens the next connection, and once it is ready has it adopt every
 *	other root (store_ops.adopt): registered, with no barrier, since the
 *	old connection holds them meanwhile: a collection running now read
 *	them from its file, and any later one reads them from the new one;
 *	releases the old connection, whose worker hangs up as it exits and
 *	so no longer holds the dropped roots (awaited from the main poll,
 *	never blocking it); then the drop is done.
 * Should the next connection fail, it is closed, every root of the drop
 * gets its reason and the old connection goes on holding everything.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rootset.h"
#include "store_renew.h"
#include "xio.h"

struct store_renew {
	struct store	 store;
	struct store	*cur;		/* holds the roots */
	struct store	*next;		/* a drop's new connection, or NULL */
	struct store	*old;		/* a drop's old one, releasing */
	store_reopen_fn	 reopen;
	void		*arg;
	int		 holding;	/* a hold batch is in flight */
	const root_id	*dropped;	/* in cur's set, sorted (not owned) */
	char		**why;		/* the drop's reasons (store.h) */
	size_t		 ndropped;
	int		 adopting;	/* next is taking the roots that stay */
	size_t		 ncur, nnext;	/* the pollfds each filled in */
};

/* cur failed: so has the session. */
static int
cur_status(struct store_renew *r, int status)
{
	if (status != STORE_BUSY && status != STORE_DONE) {
		store_fail(&r->store, status, "%s", r->cur->error);
		r->store.lost = r->cur->lost;
	}
	return status;
}

/* A hold batch is done: cur's set holds its replies. */
static int
hold_done(struct store_renew *r)
{
	r->holding = 0;
	return STORE_DONE;
}

static void
drop_forget(struct store_renew *r)
{
	r->dropped = NULL;
	r->why = NULL;
	r->ndropped = 0;
}

/*
 * The drop failed before anything was released: every root keeps held,
 * with the reason.  why may lie in next, so it is copied before next is
 * freed.
 */
static int
drop_abandon(struct store_renew *r, const char *why)
{
	char reason[STORE_ERROR_MAX + 64];
	char **whys = r->why;
	size_t n = r->ndropped;

	snprintf(reason, sizeof(reason), "nothing dropped: a new connection "
	    "for the roots that stay failed: %s", why);
	if (r->next != NULL)
		store_close(r->next);
	r->next = NULL;
	r->adopting = 0;
	drop_forget(r);
	return store_refuse_drop(&r->store, whys, n, reason);
}

/* The old connection has released its roots: the drop is done. */
static int
drop_released(struct store_renew *r)
{
	store_close(r->old);
	r->old = NULL;
	drop_forget(r);
	return STORE_DONE;
}

/*
 * next holds every root that stays: the old connection can go.  Its
 * worker's hang-up is awaited from the main poll, so that end of file
 * from the parent is still honoured meanwhile.
 */
static int
drop_done(struct store_renew *r)
{
	r->adopting = 0;
	r->old = r->cur;
	r->cur = r->next;
	r->next = NULL;
	/* Without release(), close() is the (blocking) release. */
	if (store_release(r->old) == STORE_BUSY)
		return STORE_BUSY;
	return drop_released(r);
}

/* What next said; once it is ready, the roots that stay go to it. */
static int
next_status(struct store_renew *r, int status)
{
	if (status == STORE_BUSY && !r->adopting && store_ready(r->next)) {
		r->adopting = 1;
		status = store_adopt(r->next, store_rootset(r->cur),
		    r->dropped, r->ndropped);
	}
	if (status == STORE_DONE)
		return drop_done(r);
	if (status != STORE_BUSY)
		return drop_abandon(r, r->next->error);
	return STORE_BUSY;
}

static size_t
renew_pollfd(struct store *s, struct pollfd *pfd)
{
	struct store_renew *r = (struct store_renew *)s;

	r->ncur = store_pollfd(r->cur, pfd);
	/* next and old never at once: old is released after next is full. */
	if (r->next != NULL)
		r->nnext = store_pollfd(r->next, pfd + r->ncur);
	else if (r->old != NULL)
		r->nnext = store_pollfd(r->old, pfd + r->ncur);
	else
		r->nnext = 0;
	return r->ncur + r->nnext;
}

static long
renew_wakeup(struct store *s)
{
	struct store_renew *r = (struct store_renew *)s;

	return xio_earliest(store_wakeup(r->cur), r->next != NULL ?
	    store_wakeup(r->next) : store_wakeup(r->old));
}

static int
renew_handle(struct store *s, const struct pollfd *pfd)
{
	struct store_renew *r = (struct store_renew *)s;
	int status;

	if (store_due(r->cur, pfd, r->ncur)) {
		status = cur_status(r, store_handle(r->cur, pfd));
		/* Only a hold batch ends with cur; a drop ends with next. */
		if (status == STORE_DONE && r->next == NULL)
			return hold_done(r);
		if (status != STORE_BUSY && status != STORE_DONE)
			return status;
	}
	if (r->next != NULL && store_due(r->next, pfd + r->ncur, r->nnext))
		return next_status(r, store_handle(r->next,
		    pfd + r->ncur));
	if (r->old != NULL && store_due(r->old, pfd + r->ncur, r->nnext) &&
	    store_handle(r->old, pfd + r->ncur) != STORE_BUSY)
		return drop_released(r);
	return STORE_BUSY;
}

static int
renew_ready(struct store *s)
{
	struct store_renew *r = (struct store_renew *)s;

	return r->next == NULL && r->old == NULL &&
	    store_ready(r->cur);
}

static struct rootset *
renew_rootset(struct store *s)
{
	struct store_renew *r = (struct store_renew *)s;

	return store_rootset(r->cur);
}

static int
renew_submit(struct store *s)
{
	struct store_renew *r = (struct store_renew *)s;
	int status;

	r->holding = 1;
	status = cur_status(r, store_submit(r->cur));
	return status == STORE_DONE ? hold_done(r) : status;
}

/* Holds queued behind a hold batch go to cur; none during a drop. */
static int
renew_ahead(struct store *s, const char *const *paths, size_t n)
{
	struct store_renew *r = (struct store_renew *)s;

	if (r->next != NULL || r->old != NULL || !r->holding)
		return STORE_BUSY;
	return cur_status(r, store_ahead(r->cur, paths, n));
}

static int
renew_drop(struct store *s, const root_id *ids, char **why, size_t n)
{
	struct store_renew *r = (struct store_renew *)s;
	char err[STORE_ERROR_MAX];

	if (n == 0)
		return STORE_DONE;
	r->dropped = ids;
	r->why = why;
	r->ndropped = n;
	if ((r->next = r->reopen(r->arg, err, sizeof(err))) == NULL)
		return drop_abandon(r, err);
	return STORE_BUSY;
}

static size_t
renew_roots(struct store *s)
{
	struct store_renew *r = (struct store_renew *)s;

	return store_roots(r->cur);
}

static void
renew_close(struct store *s)
{
	struct store_renew *r = (struct store_renew *)s;

	if (r->next != NULL)
		store_close(r->next);
	if (r->old != NULL)
		store_close(r->old);
	store_close(r->cur);
	free(r->arg);
	free(r);
}

static const struct store_ops renew_ops = {
	.pollfd = renew_pollfd,
	.wakeup = renew_wakeup,
	.handle = renew_handle,
	.ready = renew_ready,
	.submit = renew_submit,
	.drop = renew_drop,
	.ahead = renew_ahead,
	.rootset = renew_rootset,
	.roots = renew_roots,
	.close = renew_close,
};

struct store *
store_renew_open(struct store *first, store_reopen_fn reopen, void *arg,
    char *err, size_t errlen)
{
	struct store_renew *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		store_close(first);
		free(arg);
		return NULL;
	}
	r->store.ops = &renew_ops;
	r->cur = first;
	r->reopen = reopen;
	r->arg = arg;
	return &r->store;
}
