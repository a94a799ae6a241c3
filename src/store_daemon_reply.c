/*
 * store_daemon_reply: the daemon's messages parsed in the order owed,
 * what each answer means for its roots, and a batch's replies.
 */
#include "config.h"

#include <err.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_daemon_int.h"
#include "xio.h"

static void
log_line(const char *text, size_t len)
{
	char *msg;

	if ((msg = wp_message_text(text, len)) != NULL && *msg != '\0')
		warnx("daemon: %s", msg);
	free(msg);
}

static int
parse_query_valid(struct store_daemon *d, struct wp_reader *r, size_t asked)
{
	uint64_t n, i;
	const char *s;
	size_t len;
	char path[PATH_MAX];
	root_id root;
	int rc;

	if ((rc = wp_get_u64(r, &n)) != WP_OK)
		return rc;
	if (n > asked)
		return WP_BAD;	/* more than a subset: not parsed at all */
	for (i = 0; i < n; i++) {
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
		if (len >= sizeof(path))
			return WP_BAD;
		memcpy(path, s, len);
		path[len] = '\0';
		/* Only a subset of what we asked may come back. */
		if ((root = rootset_find(&d->roots, path)) == ROOT_NONE ||
		    !(rootset_flags(&d->roots, root) & ROOT_ASKED))
			return WP_BAD;
		rootset_mark(&d->roots, root, ROOT_VALID); /* if reparsed too */
	}
	return WP_OK;
}

/* Parses the result that follows STDERR_LAST for e. */
static int
parse_result(struct store_daemon *d, struct wp_reader *r,
    const struct expect *e)
{
	uint64_t v;
	int rc;

	switch (e->kind) {
	case EXPECT_PROBE:
	case EXPECT_ADD_ROOT:
	case EXPECT_AHEAD_ROOT:
	case EXPECT_ADD_ROOTS:
	case EXPECT_AHEAD_ROOTS:
		return wp_get_u64(r, &v);
	case EXPECT_BARRIER:
		if ((rc = wp_skip_strings(r)) != WP_OK ||
		    (rc = wp_get_u64(r, &v)) != WP_OK)	/* bytes freed */
			return rc;
		return wp_get_u64(r, &v);		/* obsolete */
	case EXPECT_QUERY_VALID:
	case EXPECT_RECHECK:
		return parse_query_valid(d, r, e->root);
	case EXPECT_HELLO:
	case EXPECT_HELLO_REST:
	case EXPECT_STARTUP:
	case EXPECT_SET_OPTIONS:
		break;
	}
	return WP_OK;
}

/*
 * A root sent is answered: held, or (an error) not, to be sent again by
 * its own batch or after a reconnect.
 */
static void
root_answered(struct store_daemon *d, root_id id, int held)
{
	rootset_unmark(&d->roots, id, ROOT_AHEAD);
	d->nsent--;
	if (held) {
		rootset_mark(&d->roots, id, ROOT_HELD);
		d->nheld++;
	}
}

/* The first n roots sent by op 49 are answered (root_answered). */
static void
sent_pop(struct store_daemon *d, size_t n, int held)
{
	for (; n > 0 && d->shead < d->slen; n--)
		root_answered(d, d->sent[d->shead++], held);
}

/* Acts on a complete reply; e has been popped. */
static int
on_result(struct store_daemon *d, const struct expect *e)
{
	if (e->kind == EXPECT_PROBE && d->reconnecting)
		return daemon_queue_recheck(d);
	if (e->kind == EXPECT_PROBE)
		d->ready = 1;
	else if (e->kind == EXPECT_ADD_ROOT || e->kind == EXPECT_AHEAD_ROOT)
		root_answered(d, e->root, 1);
	else if (e->kind == EXPECT_ADD_ROOTS || e->kind == EXPECT_AHEAD_ROOTS)
		sent_pop(d, e->root, 1);
	return STORE_BUSY;
}

/*
 * A daemon that offered AddTempRoots failed it (an error, or its end
 * while one was unanswered): the roots it held are not lost, but every
 * root goes again, one AddTempRoot each, on a new connection (the
 * reconnect's re-registration), once parsing is over.  Without
 * --reconnect the session ends.
 */
static int
multi_failed(struct store_daemon *d, const char *why)
{
	if (!daemon_reconnect_on(d))
		return store_fail(&d->store, STORE_PROTOCOL, "%s: the daemon "
		    "offered AddTempRoots, then failed it: %s", d->name, why);
	if (d->verbose && !d->multi_off)
		warnx("%s: AddTempRoots failed (%s): each root again with "
		    "AddTempRoot, on a new connection", d->name, why);
	d->multi = 0;
	d->multi_off = 1;
	d->multi_redo = 1;
	return STORE_BUSY;
}

/* Acts on STDERR_ERROR in place of a result; e has been popped. */
static int
on_error(struct store_daemon *d, const struct expect *e,
    const struct wp_stderr *m)
{
	char *msg;
	int status = STORE_BUSY;

	if ((msg = wp_message_text(m->text, m->textlen)) == NULL)
		return store_oom(&d->store);
	if (e->kind == EXPECT_ADD_ROOTS || e->kind == EXPECT_AHEAD_ROOTS) {
		sent_pop(d, e->root, 0);
		status = multi_failed(d, msg);
		free(msg);
		return status;
	}
	if (e->kind != EXPECT_ADD_ROOT && e->kind != EXPECT_AHEAD_ROOT &&
	    d->root_error != NULL &&
	    strcmp(msg, d->root_error) == 0) {
		/*
		 * The same error again, for the next request: the daemon
		 * could not even read the request, and hangs up after
		 * saying so twice.
		 */
		status = store_fail(&d->store, STORE_PROTOCOL, "the daemon could not read "
		    "a request and is hanging up: %s", msg);
		free(msg);
		return status;
	}
	switch (e->kind) {
	case EXPECT_ADD_ROOT:
		/* After the daemon started work: the connection goes on. */
		d->nsent--;
		free(d->root_error);
		d->root_error = msg;
		if (rootset_refuse(&d->roots, e->root, msg) == -1)
			return store_oom(&d->store);
		return STORE_BUSY;
	case EXPECT_AHEAD_ROOT:
		/* Its own batch sends it again, and replies with the error. */
		root_answered(d, e->root, 0);
		free(d->root_error);
		d->root_error = msg;
		return STORE_BUSY;
	case EXPECT_PROBE:
		status = store_fail(&d->store, STORE_UNREACHABLE, "the daemon refused a "
		    "path under %s (does it serve another store "
		    "directory?): %s", d->storedir, msg);
		break;
	case EXPECT_BARRIER:
		status = store_fail(&d->store, STORE_PROTOCOL, "the daemon refused to wait "
		    "for the garbage collector: %s", msg);
		break;
	case EXPECT_QUERY_VALID:
	case EXPECT_RECHECK:
		status = store_fail(&d->store, STORE_PROTOCOL, "the daemon refused to "
		    "check validity: %s", msg);
		break;
	case EXPECT_HELLO:
	case EXPECT_HELLO_REST:
	case EXPECT_STARTUP:
	case EXPECT_SET_OPTIONS:
	case EXPECT_ADD_ROOTS:		/* handled above */
	case EXPECT_AHEAD_ROOTS:
		status = store_fail(&d->store, STORE_UNREACHABLE, "daemon: %s", msg);
		break;
	}
	free(msg);
	return status;
}

/* Every request of the batch (or recheck) is encoded, and answered. */
int
daemon_batch_sent(const struct store_daemon *d)
{
	return !d->feeding && d->ehead == d->elen;
}

/* The batch is done: its replies are in roots, for the core to read. */
int
daemon_finish_batch(struct store_daemon *d)
{
	d->batch = 0;
	free(d->batch_ids);
	d->batch_ids = NULL;
	d->nbatch_ids = 0;
	/* Give back what the batch's requests and replies took. */
	if (buf_used(&d->out) == 0)
		buf_free(&d->out);
	if (buf_used(&d->in) == 0)
		buf_free(&d->in);
	return STORE_DONE;
}

/*
 * Parses one message for the expectation at the head.  Returns WP_OK with
 * r->off bytes to consume and *status saying what it did, WP_SHORT, or
 * WP_BAD.
 */
static int
parse_one(struct store_daemon *d, struct wp_reader *r, int *status)
{
	struct expect e = d->expect[d->ehead];
	struct wp_stderr m;
	int rc;

	*status = STORE_BUSY;
	if (e.kind == EXPECT_HELLO) {
		if ((rc = daemon_parse_hello(d, r, status)) == WP_OK)
			d->ehead++;
		return rc;
	}
	if (e.kind == EXPECT_HELLO_REST)
		return daemon_parse_hello_rest(d, r);
	if ((rc = wp_get_stderr(r, d->version, &m)) != WP_OK)
		return rc;
	switch (m.kind) {
	case WP_MSG_OTHER:
		return WP_OK;
	case WP_MSG_LOG:
		log_line(m.text, m.textlen);
		return WP_OK;
	case WP_MSG_ERROR:
		d->ehead++;
		*status = on_error(d, &e, &m);
		return WP_OK;
	case WP_MSG_LAST:
		if ((rc = parse_result(d, r, &e)) != WP_OK)
			return rc;
		d->ehead++;
		*status = on_result(d, &e);
		return WP_OK;
	}
	return WP_BAD;
}

/* Ends the recheck or the batch in flight once all of it is answered. */
/* Every root adopt() took over is registered, or one was refused. */
static int
adopted(struct store_daemon *d)
{
	char path[PATH_MAX];
	const struct root_refusal *r = d->roots.refused;

	d->adopting = 0;
	if (d->roots.nrefused > 0)
		return store_fail(&d->store, STORE_PROTOCOL, "%s: the daemon "
		    "refused %s: %s", d->name,
		    rootset_path(&d->roots, r->id, path), r->why);
	return STORE_DONE;
}

int
daemon_batch_over(struct store_daemon *d)
{
	if (d->rechecking && daemon_batch_sent(d))
		return daemon_finish_reconnect(d);
	if (d->batch && !d->reconnecting && daemon_batch_sent(d))
		return daemon_finish_batch(d);
	if (d->adopting && !d->reconnecting && daemon_batch_sent(d))
		return adopted(d);
	return STORE_BUSY;
}

/* Parses every complete message in the input buffer. */
int
daemon_parse_input(struct store_daemon *d)
{
	struct wp_reader r;
	int rc, status;

	while (buf_used(&d->in) > 0) {
		if (d->ehead == d->elen)
			return store_fail(&d->store, STORE_PROTOCOL, "unexpected data from "
			    "the daemon");
		r.p = buf_head(&d->in);
		r.len = buf_used(&d->in);
		r.off = 0;
		if ((rc = parse_one(d, &r, &status)) == WP_SHORT) {
			if (buf_used(&d->in) > WP_MESSAGE_MAX)
				return store_fail(&d->store, STORE_PROTOCOL,
				    "a message from the daemon longer than %u "
				    "bytes", WP_MESSAGE_MAX);
			return STORE_BUSY;
		}
		if (rc == WP_BAD)
			return store_fail(&d->store, STORE_PROTOCOL, "malformed reply from "
			    "the daemon");
		buf_consume(&d->in, r.off);
		if (status != STORE_BUSY || (status = daemon_batch_over(d)) != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}
