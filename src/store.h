/*
 * store: the back-end interface.  A back end roots the paths of a batch,
 * waits out any collection already running, checks validity, and only then
 * gives each request its reply.  No step may block: a back end exposes one
 * fd to poll and makes progress in handle().
 */
#ifndef KP_STORE_H
#define KP_STORE_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>

#include "batch.h"

enum store_status {
	STORE_BUSY,		/* nothing to report yet */
	STORE_DONE,		/* the submitted batch has all its replies */
	STORE_UNREACHABLE,	/* the store could not be reached or set up */
	STORE_PROTOCOL,		/* the store broke the protocol */
	STORE_CLOSED,		/* the store connection dropped */
	STORE_SYSTEM,		/* a local failure: out of memory */
};

#define STORE_ERROR_MAX	1024

/* Stores in one session (--store given more than once). */
#define STORE_MAX	8
/*
 * The most pollfds one store fills in: for each of its stores, two while a
 * drop opens a new connection before closing the old one.
 */
#define STORE_POLLFDS_MAX	(2 * STORE_MAX)

struct store {
	const struct store_ops	*ops;
	char			 error[STORE_ERROR_MAX]; /* set on failure */
	const char		*failed; /* of several stores, the one that
					    failed; NULL if only one */
	const char		*lost;	/* on failure: the paths known to be
					   collected, one per line; NULL:
					   every root is gone */
};

struct rootset;

struct store_ops {
	/*
	 * Fills in the fds and events to poll (fd -1: none), at most
	 * STORE_POLLFDS_MAX; returns how many.
	 */
	size_t	(*pollfd)(struct store *, struct pollfd *);
	/*
	 * When handle() must be called even if the fd stays quiet: a time
	 * on xio_now_ms()'s clock, or -1 for never.
	 */
	long	(*wakeup)(struct store *);
	/*
	 * Makes progress on the revents of the pollfds it filled in (all 0:
	 * the wakeup time came); returns a store_status.
	 */
	int	(*handle)(struct store *, const struct pollfd *);
	/* Returns 1 once the store takes batches. */
	int	(*ready)(struct store *);
	/*
	 * Starts rooting every request of the batch that has a path; the
	 * batch must stay put until STORE_DONE.  Returns STORE_BUSY,
	 * STORE_DONE at once if nothing needs the store, or a failure.
	 * A batch of REQUEST_KEEP (roots held elsewhere already) needs no
	 * barrier or validity check: each is "ok" once registered.
	 */
	int	(*submit)(struct store *, struct batch *);
	/*
	 * Starts releasing the roots that the batch's pending requests (all
	 * REQUEST_DROP) name; each gets REPLY_DROPPED once its root is
	 * released, or an error (not held, or the store cannot release one
	 * root).  The roots that stay are never left unregistered.  Returns
	 * as submit() does.  A daemon connection has none: store_open_all()
	 * wraps it in store_renew, which drops by replacing it.
	 */
	int	(*drop)(struct store *, struct batch *);
	/*
	 * Optional: while a hold batch is in flight, the loop offers the
	 * holds queued behind it, q->req[from..to), which will come in a
	 * later batch.  The store may register their roots now, before
	 * the batch's barrier, so that one barrier covers both (each one
	 * re-reads every temp root on the machine).  Nothing is owed for
	 * them until they are submitted.  Returns as handle() does.
	 */
	int	(*ahead)(struct store *, const struct batch *q, size_t from,
		    size_t to);
	/*
	 * Optional: starts releasing every root without blocking (the
	 * worker hangs up as it exits).  From then on pollfd, wakeup and
	 * handle drive it, and handle returns STORE_DONE once the roots are
	 * released or the wait for it gave up; close() then waits no more.
	 * Returns as handle() does.
	 */
	int	(*release)(struct store *);
	/* Roots registered, or perhaps registered: what a drop would lose. */
	size_t	(*roots)(struct store *);
	/*
	 * Optional (a daemon connection): the roots it holds, those the
	 * session's replies rooted marked ROOT_ROOTED, for a drop's refill.
	 */
	const struct rootset *(*rootset)(struct store *);
	/* Releases every root and frees the store. */
	void	(*close)(struct store *);
};

/*
 * Whether a daemon back end waits out a running collection after rooting
 * (--barrier).  Nix 2.5 to 2.34 and Lix can delete a path rooted while
 * their collector runs; Nix 2.35 re-checks temp roots before each
 * deletion.  auto skips the wait only for a daemon that says it is such a
 * Nix (see store_daemon.c).
 */
enum store_barrier {
	STORE_BARRIER_AUTO,
	STORE_BARRIER_ALWAYS,
	STORE_BARRIER_NEVER,
};

/* The store's wakeup time, or -1: none, or no store (NULL). */
long	store_wakeup(struct store *);

/*
 * For stores made of stores: the inner store s, which filled in pfd[0..n),
 * has something to handle, on its fds or from its wakeup time.
 */
int	store_due(struct store *s, const struct pollfd *pfd, size_t n);

/* Starts b on s: submit() or drop(), as the batch's kind says. */
int	store_start(struct store *s, struct batch *b);

/*
 * For back ends that cannot release one root: refuses every pending
 * request of the drop batch, saying why.  Returns STORE_DONE, or a failure.
 */
int	store_refuse_drop(struct store *, struct batch *, const char *why);

/* For back ends: sets the store's error message; returns status. */
int	store_fail(struct store *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* store_fail for ENOMEM: STORE_SYSTEM. */
int	store_oom(struct store *);

#endif
