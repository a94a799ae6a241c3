/*
 * store: the back-end interface.  A back end registers roots with its
 * store, waits out any collection already running, checks validity, and
 * releases them; it never sees a request.  The session core (core.h)
 * starts each batch on the store's root set and reads the replies from
 * it.  No step may block: a back end exposes the fds to poll (and a time
 * to be woken at) and makes progress in handle().
 */
#ifndef KP_STORE_H
#define KP_STORE_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>

#include "rootset.h"

enum store_status {
	STORE_BUSY,		/* nothing to report yet */
	STORE_DONE,		/* the work started is done */
	STORE_UNREACHABLE,	/* the store could not be reached or set up */
	STORE_PROTOCOL,		/* the store broke the protocol */
	STORE_CLOSED,		/* the store connection dropped */
	STORE_SYSTEM,		/* a local failure: out of memory */
};

#define STORE_ERROR_MAX	1024

/* Stores in one session (--store given more than once). */
#define STORE_MAX	8
/* The most pollfds one store fills in: two while a drop opens a new
 * connection before closing the old one. */
#define STORE_POLLFDS	2

struct store {
	const struct store_ops	*ops;
	char			 error[STORE_ERROR_MAX]; /* set on failure */
	const char		*lost;	/* on failure: the paths known to be
					   collected, one per line; NULL:
					   every root is gone */
};

/*
 * What a back end implements.  Required: pollfd, handle, ready, rootset,
 * submit, roots, close.  Optional (NULL): wakeup, drop, ahead, release,
 * adopt.
 * Nobody calls an op directly: the store_* functions below do, and give
 * an absent optional op its stated meaning, so it is never called.
 * Every op that returns an int returns a store_status.
 */
struct store_ops {
	/*
	 * Fills in the fds and events to poll (fd -1: none), at most
	 * STORE_POLLFDS; returns how many.
	 */
	size_t	(*pollfd)(struct store *, struct pollfd *);
	/*
	 * Optional: when handle() must be called even if the fds stay
	 * quiet, a time on xio_now_ms()'s clock, or -1 for never.
	 * Absent: never.
	 */
	long	(*wakeup)(struct store *);
	/*
	 * Makes progress on the revents of the pollfds it filled in (all 0:
	 * the wakeup time came).  STORE_DONE: the batch submitted (or the
	 * drop, or the release) is done.
	 */
	int	(*handle)(struct store *, const struct pollfd *);
	/* Returns 1 once the store takes batches. */
	int	(*ready)(struct store *);
	/*
	 * The roots the store holds or is registering, each with its marks
	 * (rootset.h): ROOTED and ACKED as the session's replies left them.
	 * The core starts each batch on this set (rootset_begin) and reads
	 * its replies from it (rootset_reply).
	 */
	struct rootset *(*rootset)(struct store *);
	/*
	 * Starts on the batch, the set's asked[0..nasked) but those marked
	 * REFUSED: registers each root not held yet, waits out a running
	 * collection where the Nix needs it, then checks validity, marking
	 * each root VALID, or REFUSED with a reason (rootset_refuse).  A
	 * root refused has nothing registered for it by this submit (one
	 * held before stays held).  Returns STORE_BUSY, STORE_DONE at once
	 * if nothing needs the store, or a failure.
	 */
	int	(*submit)(struct store *);
	/*
	 * Optional: starts releasing ids[0..n), roots of its set (sorted,
	 * distinct, each ROOT_ROOTED).  One it cannot release stays held
	 * and gets a reason in why[i] (malloc'd; why[] comes all NULL).
	 * The roots that stay are never left unregistered.  Returns as
	 * submit() does.  Absent: every one is refused, saying so.
	 */
	int	(*drop)(struct store *, const root_id *ids, char **why,
		    size_t n);
	/*
	 * Optional: while a batch is in flight, the core offers the holds
	 * queued behind it, paths[0..n), checked store paths, which will
	 * come in a later batch.  The store may register them now, before
	 * the batch's barrier, so that one barrier covers both (each one
	 * re-reads every temp root on the machine).  Nothing is owed for
	 * them until they are submitted.  Returns STORE_BUSY or a failure,
	 * never STORE_DONE.  Absent: nothing is registered ahead.
	 */
	int	(*ahead)(struct store *, const char *const *paths, size_t n);
	/*
	 * Optional: starts releasing every root without blocking (the
	 * worker hangs up as it exits).  From then on pollfd, wakeup and
	 * handle drive it, and handle returns STORE_DONE once the roots are
	 * released or the wait for it gave up; close() then waits no more.
	 * Returns as handle() does.  Absent: STORE_DONE; close() releases.
	 */
	int	(*release)(struct store *);
	/* Roots registered, or perhaps registered: what a failure loses. */
	size_t	(*roots)(struct store *);
	/*
	 * Optional (a daemon connection, for a drop's new connection, once
	 * ready, with no batch): registers every root of from (another
	 * connection's set) marked ROOT_ROOTED, but those in skip[0..nskip)
	 * (sorted ids of from), keeping its ROOT_ROOTED and ROOT_ACKED
	 * marks.  The other connection holds them all along: no barrier or
	 * validity check.  STORE_DONE once every one is registered; one
	 * refused is a failure.  Absent: STORE_SYSTEM, saying so.
	 */
	int	(*adopt)(struct store *, const struct rootset *from,
		    const root_id *skip, size_t nskip);
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

/* The ops, as store_ops says; an absent optional op is not called. */
size_t	store_pollfd(struct store *, struct pollfd *);
/* The store's wakeup time, or -1: none, or no store (NULL). */
long	store_wakeup(struct store *);
int	store_handle(struct store *, const struct pollfd *);
int	store_ready(struct store *);
struct rootset *store_rootset(struct store *);
int	store_submit(struct store *);
int	store_drop(struct store *, const root_id *ids, char **why, size_t n);
int	store_ahead(struct store *, const char *const *paths, size_t n);
int	store_release(struct store *);
size_t	store_roots(struct store *);
int	store_adopt(struct store *, const struct rootset *from,
	    const root_id *skip, size_t nskip);
/* Closes s, if not NULL. */
void	store_close(struct store *);

/*
 * The store s, which filled in pfd[0..n), has something to handle, on its
 * fds or from its wakeup time.
 */
int	store_due(struct store *s, const struct pollfd *pfd, size_t n);

/*
 * For back ends that cannot release one root: gives each of why[0..n)
 * a copy of reason.  Returns STORE_DONE, or a failure.
 */
int	store_refuse_drop(struct store *, char **why, size_t n,
	    const char *reason);

/* For back ends: sets the store's error message; returns status. */
int	store_fail(struct store *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* store_fail for ENOMEM: STORE_SYSTEM. */
int	store_oom(struct store *);

#endif
