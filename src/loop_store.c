/*
 * loop_store: the session's requests and the store.  Queued lines become
 * batches (a batch holds or drops, never both); each goes to the store,
 * holds queued behind it are offered ahead; when the store is done, each
 * request has its reply, for stdout or for capture's relay.  A store that
 * fails loses what it held: "lost" lines, and the exit status.
 */
#include "config.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "loop_int.h"
#include "xio.h"

void
loop_store_close(struct loop *l)
{
	core_close(l->core);
	l->core = NULL;
}

/*
 * "lost PATH" for each path the store knows was collected, else "lost":
 * all of them are gone.  Of several stores, the line names the one lost.
 * Returns 0, or -1 if a line could not be queued (ENOMEM).
 */
static int
lost_lines(struct loop *l)
{
	const char *p = core_lost(l->core), *nl, *name = core_failed(l->core);
	const char *sep = name != NULL ? " " : "";

	if (name == NULL)
		name = "";
	for (; p != NULL && (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (buf_printf(&l->out, "lost %.*s%s%s\n", (int)(nl - p), p,
		    sep, name) == -1)
			return -1;
	if (core_lost(l->core) == NULL &&
	    buf_printf(&l->out, "lost%s%s\n", sep, name) == -1)
		return -1;
	return 0;
}

/*
 * Out of memory for the lost lines: the line a script waits for must
 * still come.  Once the replies before it are out, "lost" from static
 * storage, in one write after POLLOUT (it is below PIPE_BUF).
 */
static void
lost_line_static(struct loop *l, int timeout_ms)
{
	static const char line[] = "lost\n";
	struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };

	if (buf_used(&l->out) == 0 && poll(&pfd, 1, timeout_ms) == 1 &&
	    (pfd.revents & POLLOUT))
		(void)xio_write(STDOUT_FILENO, line, sizeof(line) - 1);
}

/*
 * The store failed.  Roots it held are gone: say so on stdout ("lost") and
 * on stderr.  With a command running, it runs on and the status waits.
 */
int
loop_store_failed(struct loop *l, int status)
{
	size_t roots = core_roots(l->core);
	int exitcode, queued;

	switch (status) {
	case STORE_UNREACHABLE:	exitcode = KP_EXIT_UNREACHABLE; break;
	case STORE_PROTOCOL:	exitcode = KP_EXIT_PROTOCOL; break;
	case STORE_SYSTEM:	exitcode = KP_EXIT_OSERR; break;
	default:		exitcode = roots > 0 ? KP_EXIT_LOST :
				    KP_EXIT_UNREACHABLE; break;
	}
	warnx("%s", core_error(l->core));
	if (l->cfg->relay != NULL)
		relay_store_lost(l->cfg->relay);
	if (roots > 0) {
		warnx("LOST %zu root%s: the store no longer protects %s",
		    roots, roots == 1 ? "" : "s",
		    roots == 1 ? "it" : "them");
		if (l->cfg->command == NULL) {
			queued = lost_lines(l) == 0;
			loop_io_flush(l, FINAL_FLUSH_MS);
			if (!queued)
				lost_line_static(l, FINAL_FLUSH_MS);
		}
	}
	loop_store_close(l);
	if (l->child > 0) {
		l->failed = exitcode;
		return LOOP_GO;
	}
	return exitcode;
}

/* With a command, PATH arguments must all be rooted and valid to run it. */
static int
check_command_paths(struct loop *l)
{
	const struct request *r;
	const struct reply *rep;
	const char *store;
	size_t i, k;
	int refused = 0;

	for (i = 0; i < l->inflight.n; i++) {
		r = &l->inflight.req[i];
		if (r->captured)
			continue;
		for (k = 0; k < core_replying(l->core); k++) {
			rep = core_reply(l->core, i, k, &store);
			if (rep->kind == REPLY_PENDING)
				continue;	/* not for store k */
			if (rep->kind == REPLY_MISSING)
				warnx("%s: not valid%s%s", r->path,
				    store != NULL ? " on " : "",
				    store != NULL ? store : "");
			else if (rep->kind == REPLY_ERROR)
				warnx("%s: %s%s%s", request_input(r),
				    store != NULL ? store : "",
				    store != NULL ? ": " : "", rep->why);
			refused |= rep->kind != REPLY_OK;
		}
	}
	return refused ? KP_EXIT_REFUSED : LOOP_GO;
}

/*
 * A captured path's reply, of every store: an error if one refused it,
 * else missing if one found it not valid, else ok.
 */
static const struct reply *
captured_reply(struct loop *l, size_t i)
{
	const struct reply *rep, *worst = NULL;
	const char *store;
	size_t k;

	for (k = 0; k < core_replying(l->core); k++) {
		rep = core_reply(l->core, i, k, &store);
		if (rep->kind == REPLY_PENDING)
			continue;	/* not for store k */
		if (worst == NULL || rep->kind == REPLY_ERROR ||
		    (rep->kind == REPLY_MISSING && worst->kind == REPLY_OK))
			worst = rep;
	}
	return worst;
}

/* Capture hears the replies to the paths it captured, once each. */
static int
captured_replies(struct loop *l)
{
	const struct request *r;
	const struct reply *rep;
	size_t i;
	int rc = LOOP_GO;

	for (i = 0; i < l->inflight.n; i++) {
		r = &l->inflight.req[i];
		if ((rep = captured_reply(l, i)) == NULL)
			continue;
		switch ((enum request_capture)r->captured) {
		case CAPTURED_NOT:
			break;
		case CAPTURED_RELAY:
			if (relay_answered(l->cfg->relay, r, rep,
			    &l->queued) == -1) {
				warn("capture");
				rc = KP_EXIT_OSERR;
			}
			break;
		case CAPTURED_SSH:
			if (sshcap_answered(l->cfg->sshcap, r, rep,
			    &l->queued) == -1) {
				warn("capture over ssh");
				rc = KP_EXIT_OSERR;
			}
			break;
		}
	}
	return rc;
}

static void
heap_trim(void)
{
#ifdef HAVE_MALLOC_TRIM
	(void)malloc_trim(0);
#endif
}

static int
batch_done(struct loop *l)
{
	int rc = LOOP_GO, captured;

	l->busy = 0;
	if (l->cfg->command != NULL)
		rc = check_command_paths(l);
	else if (loop_io_format(l) == -1) {
		warn("replies");
		rc = KP_EXIT_OSERR;
	}
	if ((l->cfg->relay != NULL || l->cfg->sshcap != NULL) &&
	    (captured = captured_replies(l)) !=
	    LOOP_GO)
		rc = captured;
	/* Freed, not kept: a session holding roots for hours should not
	 * keep the high-water mark of its largest batch, nor of a drop's
	 * new connection taking every root that stays. */
	l->trim_due |= l->inflight.n >= TRIM_AFTER || (l->inflight.n > 0 &&
	    l->inflight.req[0].kind == REQUEST_DROP);
	core_replies_read(l->core);
	batch_free(&l->inflight);
	if (l->trim_due && l->queued.n == 0) {
		batch_free(&l->queued);
		heap_trim();
		l->trim_due = 0;
	}
	return rc;
}

/*
 * Queues the request lines read, up to QUEUE_MAX: the rest wait in l->in,
 * unparsed, until a batch makes room.  Returns 0/-1 (ENOMEM).
 */
int
loop_store_take(struct loop *l)
{
	return batch_take_lines(&l->queued, l->cfg->storedir, &l->in,
	    &l->skipping, QUEUE_MAX);
}

/* Hands the queued requests to the store, or starts the command. */
int
loop_store_dispatch(struct loop *l)
{
	int status;

	if (l->core == NULL || l->busy || !core_ready(l->core))
		return LOOP_GO;
	if (l->queued.n == 0) {
		if (l->cfg->command != NULL && l->child == 0)
			return loop_spawn_command(l);
		return LOOP_GO;
	}
	if (batch_move(&l->inflight, &l->queued, BATCH_MAX) == -1) {
		warn("requests");
		return KP_EXIT_OSERR;
	}
	l->ahead_from = l->ahead_from > l->inflight.n ?
	    l->ahead_from - l->inflight.n : 0;
	l->busy = 1;
	l->heard_at = xio_now_ms();
	status = core_start(l->core, &l->inflight);
	if (status == STORE_DONE)
		return batch_done(l);
	return status == STORE_BUSY ? LOOP_GO : loop_store_failed(l, status);
}

/*
 * Offers the store the holds queued behind the batch in flight (store.h:
 * ahead), up to the first that is no hold: a drop must find the session's
 * roots as they are when its turn comes.
 */
int
loop_store_offer_ahead(struct loop *l)
{
	size_t end = l->ahead_from;
	int status;

	if (l->core == NULL || !l->busy)
		return LOOP_GO;
	while (end < l->queued.n && l->queued.req[end].kind == REQUEST_HOLD)
		end++;
	if (end == l->ahead_from)
		return LOOP_GO;
	status = core_ahead(l->core, &l->queued, l->ahead_from, end);
	l->ahead_from = end;
	return status == STORE_BUSY ? LOOP_GO : loop_store_failed(l, status);
}

int
loop_store_handle(struct loop *l, const struct pollfd *pfd)
{
	int status = core_handle(l->core, pfd);

	if (status == STORE_DONE)
		return batch_done(l);
	return status == STORE_BUSY ? LOOP_GO : loop_store_failed(l, status);
}
