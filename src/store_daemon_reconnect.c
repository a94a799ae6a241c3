/*
 * store_daemon_reconnect: --reconnect.  A dropped connection is opened
 * again (retrying, within a window), every root is registered again, the
 * barrier waits out any collection, and one QueryValidPaths of every root
 * tells which acked ones were collected while no connection held them.
 */
#include "config.h"

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_daemon_int.h"
#include "xio.h"

/* Reconnection attempts: the first at once, then backing off to this. */
#define RETRY_FIRST_MS	100
#define RETRY_MAX_MS	2000

/* --reconnect was asked for. */
int
daemon_reconnect_on(const struct store_daemon *d)
{
	return d->target.socket != NULL || d->target.argv != NULL;
}

/*
 * After the handshake on a new connection: every root again, the barrier,
 * and one validity check of them all, as one batch.
 */
int
daemon_queue_recheck(struct store_daemon *d)
{
	/* Every root is sent again: queue_root counts them anew. */
	d->nsent = d->nheld = 0;
	if (rootset_begin_all(&d->roots) == -1 ||
	    daemon_feed_start(d, EXPECT_RECHECK) == -1)
		return store_oom(&d->store);
	d->rechecking = 1;
	return d->roots.nasked == 0 ? daemon_finish_reconnect(d) : STORE_BUSY;
}

/* An acked root that a recheck found gone: collected in the gap. */
static int
collected(const struct store_daemon *d, root_id id)
{
	unsigned f = rootset_flags(&d->roots, id);

	return (f & ROOT_ACKED) && (~f & (ROOT_HELD | ROOT_VALID));
}

/*
 * The session ends: the roots collected in the gap, one per line, become
 * store.lost, for a "lost PATH" line each.
 */
static int
fail_collected(struct store_daemon *d, size_t lost, size_t len,
    root_id first)
{
	char path[PATH_MAX];
	root_id id;
	char *p;

	if ((d->lost = p = malloc(len + 1)) != NULL) {
		for (id = rootset_next(&d->roots, ROOT_NONE); id != ROOT_NONE;
		    id = rootset_next(&d->roots, id))
			if (collected(d, id))
				p += sprintf(p, "%s\n",
				    rootset_path(&d->roots, id, path));
		d->store.lost = d->lost;
	}
	return store_fail(&d->store, STORE_CLOSED, "%s: reconnected, "
	    "but %zu root%s acked before had been collected meanwhile, "
	    "%s among them", d->name, lost, lost == 1 ? "" : "s",
	    rootset_path(&d->roots, first, path));
}

/*
 * The roots are registered again and checked: those acked "ok" that are
 * no longer valid were collected while no connection held them.
 */
int
daemon_finish_reconnect(struct store_daemon *d)
{
	char path[PATH_MAX];
	root_id id, first = ROOT_NONE;
	size_t lost = 0, held = 0, len = 0;

	for (id = rootset_next(&d->roots, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(&d->roots, id)) {
		held += (rootset_flags(&d->roots, id) & ROOT_HELD) != 0;
		if (collected(d, id)) {
			lost++;
			len += strlen(rootset_path(&d->roots, id, path)) + 1;
			first = first != ROOT_NONE ? first : id;
		}
	}
	if (lost > 0)
		return fail_collected(d, lost, len, first);
	warnx("%s: reconnected; %zu root%s held again", d->name, held,
	    held == 1 ? "" : "s");
	d->reconnecting = d->rechecking = 0;
	d->ready = 1;
	/* The batch that was in flight starts over on this connection. */
	return d->batch ? daemon_resubmit(d) : STORE_BUSY;
}

/* The next attempt to connect, until the window closes. */
int
daemon_try_reconnect(struct store_daemon *d)
{
	char err[STORE_ERROR_MAX];

	if (transport_open(&d->t, &d->target, err, sizeof(err)) == 0) {
		if (wp_put_hello(&d->out) == -1 ||
		    daemon_expect_push(d, EXPECT_HELLO, ROOT_NONE) == -1)
			return store_oom(&d->store);
		return STORE_BUSY;
	}
	if (xio_now_ms() >= d->give_up_at)
		return store_fail(&d->store, STORE_CLOSED, "%s: could not "
		    "reconnect within %ld s: %s", d->name, d->window_ms / 1000,
		    err);
	d->retry_at = xio_now_ms() + d->retry_ms;
	if ((d->retry_ms *= 2) > RETRY_MAX_MS)
		d->retry_ms = RETRY_MAX_MS;
	return STORE_BUSY;
}

/* The connection dropped: every root is now only perhaps registered. */
int
daemon_start_reconnect(struct store_daemon *d, const char *why)
{
	if (!d->reconnecting) {
		warnx("%s: connection lost: %s; reconnecting", d->name, why);
		d->give_up_at = xio_now_ms() + d->window_ms;
	}
	transport_close(&d->t, 0);
	d->t.fd = -1;
	d->t.child = -1;
	buf_free(&d->in);
	buf_free(&d->out);
	d->ehead = d->elen = 0;
	d->shead = d->slen = 0;
	d->multi_redo = 0;
	d->feeding = 0;
	d->nahead = d->ahead_sent = d->unbarred = 0;
	d->nsent += d->nheld;
	d->nheld = 0;
	d->ready = d->rechecking = 0;
	d->reconnecting = 1;
	d->retry_ms = RETRY_FIRST_MS;
	d->retry_at = xio_now_ms();
	return STORE_BUSY;
}
