/*
 * store_daemon: temporary roots held by a Nix daemon worker.
 *
 * One connection; every request is pipelined, and replies are parsed as
 * they arrive (a daemon whose replies are not drained stops reading: 50,000
 * unread AddTempRoot replies deadlock it).  A batch is, in this order:
 *	AddTempRoot for each path not yet held on this connection,
 *	one CollectGarbage(ReturnDead, maxFreed 0) barrier,
 *	QueryValidPaths in chunks,
 * and the daemon runs them strictly in order, so every root is registered
 * before the barrier, and validity is read only once no collection that
 * was running at registration time is still running (Nix <= 2.34 and Lix
 * can delete a path rooted mid-collection).
 *
 * A barrier covers every root sent before it, and each one costs the
 * daemon a re-read of every temp root on the machine (0.4 s at 100,000
 * held on Nix 2.8).  So a batch sends none if every root it asks for was
 * sent before the last barrier; and while a batch is in flight the loop
 * offers the holds queued behind it (daemon_ahead), whose roots go out
 * ahead of the batch's barrier, which waits for them until the daemon
 * has nearly caught up with the roots before it.  A burst of 100,000
 * paths then costs about half the barriers.
 *
 * The barrier is skipped only where the collector cannot lose a root
 * rooted mid-collection (--barrier=auto, store_daemon_needs_barrier): Nix
 * 2.35 and later.  Lix numbers itself 2.90 and up and still has the race;
 * it stays at protocol 1.35, so only a daemon offering 1.38 or later and
 * reporting a version from 2.35 to 2.89 goes without.  Everything else,
 * an unknown version string included, keeps the barrier.
 *
 * Right after the handshake an IsValidPath of a well-formed path under our
 * store directory checks that the daemon serves that directory: otherwise
 * the first real path would make it drop the connection and every root.
 *
 * With --reconnect, a connection that drops is opened again (retrying,
 * within a window), every root is registered again, the barrier waits out
 * any collection, and one QueryValidPaths of every root tells which of the
 * acked ones were collected while no connection held them: only those are
 * lost.  Then the batch that was in flight, if any, is submitted again.
 *
 * This file has the store ops and the connection's end; the handshake,
 * the sending, the replies and the reconnect each have their own
 * (store_daemon_int.h lists them).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_daemon.h"
#include "store_daemon_int.h"
#include "xio.h"

/* How long closing waits for the daemon worker to hang up (and so to
 * have dropped the roots). */
#define HANGUP_WAIT_MS	1000
/* How long a lost connection waits for ssh's exit status, to report it. */
#define CHILD_EXIT_WAIT_MS	500
#define READ_CHUNK	65536

/*
 * The connection has ended and any child is reaped: reconnect, or fail.
 * With ssh at the other end, its exit status says more than an errno or
 * an end of file, unless it had to be killed.
 */
static int
ended(struct store_daemon *d)
{
	char end[256];
	const char *why = d->end_why[0] != '\0' ? d->end_why : NULL;

	d->ending = 0;
	if (d->t.child != -1 && d->t.closing == 1)
		why = transport_end(&d->t, 0, !d->ready, end, sizeof(end));
	else if (why == NULL || d->t.child != -1)
		why = "end of file";
	/* It ended with AddTempRoots unanswered: never again. */
	if (d->multi && d->shead < d->slen) {
		if (d->verbose)
			warnx("%s: the connection ended during AddTempRoots: "
			    "each root again with AddTempRoot", d->name);
		d->multi = 0;
		d->multi_off = 1;
	}
	if ((d->ready || d->reconnecting) && daemon_reconnect_on(d))
		return daemon_start_reconnect(d, why);
	if (!d->ready)
		return store_fail(&d->store, STORE_UNREACHABLE, "%s: the "
		    "connection closed during the handshake: %s", d->name,
		    why);
	return store_fail(&d->store, STORE_CLOSED, "%s: connection to the "
	    "daemon lost: %s", d->name, why);
}

/*
 * The connection ended; why is an errno text, or NULL at end of file.
 * A child (ssh) gets CHILD_EXIT_WAIT_MS to exit by itself, awaited from
 * the main poll (daemon_wakeup), never here.
 */
static int
closed(struct store_daemon *d, const char *why)
{
	strlcpy(d->end_why, why != NULL ? why : "", sizeof(d->end_why));
	transport_close_start(&d->t, CHILD_EXIT_WAIT_MS);
	d->ending = 1;
	return transport_close_step(&d->t) ? ended(d) : STORE_BUSY;
}

/*
 * A write failed.  The peer may have answered and hung up after poll()
 * returned, so its answer (a listener that is no daemon, a refusal) is
 * still unread: read it to the end.  Its hang-up (end of file, a reset)
 * says more than our write's EPIPE, which follows from it.
 */
static int
write_failed(struct store_daemon *d, int saved_errno)
{
	ssize_t n;
	int status;

	while ((n = buf_read_fd(&d->in, d->t.fd, READ_CHUNK)) > 0)
		if ((status = daemon_parse_input(d)) != STORE_BUSY)
			return status;
	if (n == 0)
		return closed(d, NULL);
	return closed(d, strerror(errno != EAGAIN ? errno : saved_errno));
}

static size_t
daemon_pollfd(struct store *s, struct pollfd *pfd)
{
	struct store_daemon *d = (struct store_daemon *)s;

	pfd->fd = d->t.fd;
	pfd->events = POLLIN;
	if (!d->releasing && !d->ending && buf_used(&d->out) > 0)
		pfd->events |= POLLOUT;
	return 1;
}

/*
 * While reconnecting: with no connection, the next attempt; with one, the
 * end of the window for its handshake (the recheck after it may wait out
 * a collection, as any batch may).
 */
static long
daemon_wakeup(struct store *s)
{
	struct store_daemon *d = (struct store_daemon *)s;

	if (d->releasing || d->ending)
		return transport_close_wakeup(&d->t);
	if (!d->reconnecting || d->rechecking)
		return -1;
	return d->t.fd == -1 ? d->retry_at : d->give_up_at;
}

static int
daemon_handle(struct store *s, const struct pollfd *pfd)
{
	struct store_daemon *d = (struct store_daemon *)s;
	short revents = pfd->revents;
	ssize_t n;
	int status;

	if (d->releasing)
		return transport_close_step(&d->t) ? STORE_DONE : STORE_BUSY;
	if (d->ending)
		return transport_close_step(&d->t) ? ended(d) : STORE_BUSY;
	if (d->t.fd == -1)
		return d->reconnecting ? daemon_try_reconnect(d) : STORE_BUSY;
	if (d->reconnecting && !d->rechecking &&
	    xio_now_ms() >= d->give_up_at)
		return store_fail(&d->store, STORE_CLOSED, "%s: could not "
		    "reconnect within %ld s: connected, but the daemon did "
		    "not answer", d->name, d->window_ms / 1000);
	/* Read first: what the daemon said explains a failed write. */
	if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
		if ((n = buf_read_fd(&d->in, d->t.fd, READ_CHUNK)) == 0)
			return closed(d, NULL);
		if (n == -1 && errno != EAGAIN)
			return closed(d, strerror(errno));
		if ((status = daemon_parse_input(d)) != STORE_BUSY)
			return status;
		if (d->multi_redo)
			return daemon_start_reconnect(d, "closed by keep-paths after "
			    "the daemon failed AddTempRoots");
	}
	if ((revents & POLLOUT) &&
	    buf_write_fd(&d->out, d->t.fd, SIZE_MAX) == -1 && errno != EAGAIN)
		return write_failed(d, errno);
	if (daemon_feed(d) == -1)
		return store_oom(&d->store);
	/* The last of it may have needed nothing sent (held already). */
	return daemon_batch_over(d);
}

static int
daemon_ready(struct store *s)
{
	return ((struct store_daemon *)s)->ready;
}

static struct rootset *
daemon_rootset(struct store *s)
{
	return &((struct store_daemon *)s)->roots;
}

static size_t
daemon_roots(struct store *s)
{
	struct store_daemon *d = (struct store_daemon *)s;

	return d->nheld + d->nsent;
}

/*
 * Releases the roots: we stop sending, the worker reads EOF and exits, and
 * its exit drops its temp-roots lock.  Waiting (briefly) for it to hang up
 * means that once keep-paths has exited, a GC normally no longer sees
 * this session's roots.  A worker stuck behind a running collection is
 * not waited for beyond HANGUP_WAIT_MS.
 */
/* Starts releasing, as close does, but without waiting: see store.h. */
static int
daemon_release(struct store *s)
{
	struct store_daemon *d = (struct store_daemon *)s;

	d->releasing = 1;
	if (d->ending || d->t.fd == -1) {
		/* Nothing to hang up: only a child may be left. */
		d->ending = 0;
		d->t.closing = d->t.closing ? d->t.closing : 1;
	} else
		transport_close_start(&d->t, HANGUP_WAIT_MS);
	return transport_close_step(&d->t) ? STORE_DONE : STORE_BUSY;
}

static void
daemon_close(struct store *s)
{
	struct store_daemon *d = (struct store_daemon *)s;

	/* A release under way has waited already: its child goes now. */
	transport_close(&d->t, d->releasing ? 0 : HANGUP_WAIT_MS);
	transport_target_free(&d->target);
	rootset_free(&d->roots);
	buf_free(&d->in);
	buf_free(&d->out);
	free(d->expect);
	free(d->ahead);
	free(d->sent);
	free(d->batch_ids);
	free(d->root_error);
	free(d->lost);
	free(d->storedir);
	free(d->name);
	free(d);
}

static const struct store_ops daemon_ops = {
	.pollfd = daemon_pollfd,
	.wakeup = daemon_wakeup,
	.handle = daemon_handle,
	.ready = daemon_ready,
	.submit = daemon_submit,
	.ahead = daemon_ahead,
	.roots = daemon_roots,
	.rootset = daemon_rootset,
	.adopt = daemon_adopt,
	.release = daemon_release,
	.close = daemon_close,
};

struct store *
store_daemon_open(struct transport *t, const char *name,
    const char *storedir, char *err, size_t errlen)
{
	struct store_daemon *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		transport_close(t, 0);
		return NULL;
	}
	d->store.ops = &daemon_ops;
	d->t = *t;
	d->barrier = 1;		/* until the handshake says otherwise */
	if ((d->storedir = strdup(storedir)) == NULL ||
	    rootset_init(&d->roots, d->storedir) == -1 ||
	    (d->name = strdup(name)) == NULL ||
	    wp_put_hello(&d->out) == -1 ||
	    daemon_expect_push(d, EXPECT_HELLO, ROOT_NONE) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		daemon_close(&d->store);
		return NULL;
	}
	return &d->store;
}

void
store_daemon_set_barrier(struct store *s, enum store_barrier mode)
{
	struct store_daemon *d = (struct store_daemon *)s;

	d->barrier_mode = mode;
}

void
store_daemon_set_verbose(struct store *s, int verbose)
{
	((struct store_daemon *)s)->verbose = verbose;
}

int
store_daemon_reconnect(struct store *s, const struct transport_target *target,
    long window_ms)
{
	struct store_daemon *d = (struct store_daemon *)s;

	d->window_ms = window_ms;
	return transport_target_set(&d->target, target->socket, target->argv);
}
