/*
 * core: the session's stores, and the replies a batch gets from them.
 *
 * Every batch goes to each store.  A store registers, checks and releases
 * the roots of its own root set (store.h) and never sees a request: the
 * core starts each batch on the store's set and reads each request's
 * reply from it, one reply per request and store, so a request is never
 * copied.  Stores can be added while the session runs; each takes part
 * from the next batch on.  A store that fails ends the session, and its
 * label names it.
 */
#ifndef KP_CORE_H
#define KP_CORE_H

#include <poll.h>
#include <stddef.h>

#include "batch.h"
#include "request.h"
#include "store.h"

/* The most pollfds the core fills in. */
#define CORE_POLLFDS	(STORE_MAX * STORE_POLLFDS)

struct core;

/* An empty core, or NULL (ENOMEM). */
struct core *core_new(void);

/*
 * Adds s, one of the session's own stores, which the core owns from then
 * on (and closes if it cannot be added): it roots every request that
 * names no holding store.  label names it in replies and messages (a
 * --store value, made visible here); NULL only for a session's one
 * store, whose replies name none.  Returns 0, or -1 with errno ENOMEM,
 * or E2BIG: STORE_MAX stores already, or a store without a label beside
 * another.
 */
int	core_add(struct core *, struct store *s, const char *label);

/*
 * A holding store failed (status, error; it had roots registered, or
 * perhaps registered; lost: the paths known collected, one per line, or
 * NULL as store.lost): the core closes it and its requests get error
 * replies from then on; the session goes on.
 */
typedef void	(*core_lost_fn)(void *arg, int status, const char *error,
		    size_t roots, const char *lost);

/*
 * Adds s as a holding store, opened while the session runs: it roots only
 * the requests that name it (request.stores, bit 1 << the index
 * returned), and its failure is lost(arg, ...)'s, not the session's.
 * label names it (not NULL).  Returns its index, or -1 as core_add.
 */
int	core_add_holding(struct core *, struct store *s, const char *label,
	    core_lost_fn lost, void *arg);

/* The stores' fds to poll, at most CORE_POLLFDS; returns how many. */
size_t	core_pollfd(struct core *, struct pollfd *);
/* The earliest of the stores' wakeup times, or -1. */
long	core_wakeup(struct core *);
/* A store, which filled in its part of pfd (core_pollfd), has something
 * to handle, on its fds or from its wakeup time. */
int	core_due(struct core *, const struct pollfd *pfd);
/*
 * Makes progress on the stores that are due.  Returns STORE_BUSY,
 * STORE_DONE once the batch has every store's replies, or a store's
 * failure, which is the session's (core_error).
 */
int	core_handle(struct core *, const struct pollfd *);
/*
 * 1 once every one of the session's own stores takes batches.  A holding
 * store that does not yet (connecting, reconnecting) gets a batch once it
 * does, if the batch has requests for it; one without is done with it.
 */
int	core_ready(struct core *);

/*
 * Starts b on every store: a batch holds or drops, never both.  b must
 * stay put until STORE_DONE; its replies are then core_reply's until the
 * next batch starts.  Returns as core_handle does.
 */
int	core_start(struct core *, struct batch *b);
/*
 * Offers each store the holds queued behind the batch in flight,
 * q->req[from..to) (store.h: ahead).  Returns STORE_BUSY or a failure.
 */
int	core_ahead(struct core *, const struct batch *q, size_t from,
	    size_t to);

/* How many stores replied to the batch done. */
size_t	core_replying(const struct core *);
/*
 * Store k's reply to request i of the batch done, k < core_replying();
 * *store is its label (NULL: the session's only store).  REPLY_PENDING:
 * the request was not for store k.
 */
const struct reply *core_reply(const struct core *, size_t i, size_t k,
	    const char **store);

/*
 * The replies of the batch done are read: they go, and so does what the
 * batch's offers ahead took (a session holds its roots for hours after
 * its largest batch).
 */
void	core_replies_read(struct core *);

/* Roots registered, or perhaps registered: what a failure loses. */
size_t	core_roots(struct core *);

/*
 * The failure: its message; the label of the store that failed (NULL:
 * the only store); the paths known collected, one per line (NULL: every
 * root is gone).
 */
const char *core_error(const struct core *);
const char *core_failed(const struct core *);
const char *core_lost(const struct core *);
/* Sets the session's failure (no store's own); returns status. */
int	core_fail(struct core *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Closes every store: the roots are released. */
void	core_close(struct core *);

#endif
