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
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rootset.h"
#include "store_daemon.h"
#include "transport.h"
#include "worker_proto.h"
#include "xio.h"

/* How long closing waits for the daemon worker to hang up (and so to
 * have dropped the roots). */
#define HANGUP_WAIT_MS	1000
/* How long a lost connection waits for ssh's exit status, to report it. */
#define CHILD_EXIT_WAIT_MS	500

/*
 * Paths per QueryValidPaths, so no single reply grows large: 512 paths
 * are 37 KB each way, and the queries are pipelined all the same.
 */
#define QUERY_CHUNK	512
/* Roots per AddTempRoots (op 49), where the daemon takes it. */
#define ROOTS_CHUNK	512
/*
 * A batch's requests are encoded as the socket takes them, while less than
 * this waits to be written: 16,384 AddTempRoots and their queries are
 * 2.6 MB on the wire, which need never sit in memory at once.
 */
#define FEED_MAX	(64 * 1024)
#define READ_CHUNK	65536

/*
 * The barrier waits for roots offered ahead while more than this many
 * AddTempRoots are unanswered: the daemon still has them to do (some
 * 15 ms on Nix 2.8), so sending it then leaves the daemon no idle time.
 */
#define BARRIER_SLACK	1024

#define PROBE_NAME	"00000000000000000000000000000000-keep-paths-probe"

/* Reconnection attempts: the first at once, then backing off to this. */
#define RETRY_FIRST_MS	100
#define RETRY_MAX_MS	2000

/* What the daemon owes us, in order. */
enum expect_kind {
	EXPECT_HELLO,		/* magic and version */
	EXPECT_HELLO_REST,	/* features, nixVersion, trust */
	EXPECT_STARTUP,		/* the startup stderr loop */
	EXPECT_SET_OPTIONS,
	EXPECT_PROBE,
	EXPECT_ADD_ROOT,
	EXPECT_AHEAD_ROOT,	/* AddTempRoot for a later batch */
	EXPECT_ADD_ROOTS,	/* AddTempRoots (op 49): root = how many */
	EXPECT_AHEAD_ROOTS,	/* ... for a later batch */
	EXPECT_BARRIER,
	EXPECT_QUERY_VALID,
	EXPECT_RECHECK,		/* QueryValidPaths after reconnecting */
};

struct expect {
	enum expect_kind	 kind;
	root_id			 root;	/* EXPECT_ADD_ROOT, _AHEAD_ROOT; for
					   EXPECT_QUERY_VALID, _RECHECK: the
					   paths asked, the most a reply has */
};

struct store_daemon {
	struct store	 store;
	struct transport t;
	unsigned	 version;	/* negotiated: obeyed everywhere */
	unsigned	 offered;	/* the daemon's own version word */
	enum store_barrier barrier_mode;
	int		 barrier;	/* this connection's daemon needs it */
	char		*storedir;
	char		*name;		/* the socket, or the store URI */
	struct buf	 in;
	struct buf	 out;
	struct expect	*expect;
	size_t		 ehead, elen, ecap;
	struct rootset	 roots;
	size_t		 nheld;		/* acknowledged */
	size_t		 nsent;		/* sent, not yet acknowledged */
	size_t		 unbarred;	/* roots sent since the last barrier */
	root_id		*ahead;		/* offered ahead, to send before the
					   batch's barrier */
	size_t		 nahead, ahead_sent, aheadcap;
	char		*root_error;	/* the last AddTempRoot refusal */
	/* AddTempRoots (op 49): this connection's daemon takes it */
	int		 multi;
	int		 multi_off;	/* it failed once: op 11 from then on */
	int		 multi_redo;	/* ... just now: a new connection */
	root_id		*sent;		/* sent by op 49, in order, unanswered */
	size_t		 shead, slen, scap;
	int		 verbose;
	char		*lost;		/* store.lost: collected in a gap */
	struct batch	*batch;		/* in flight, or NULL */
	/* What of the batch (roots.asked) is still to be encoded. */
	int		 feeding;
	size_t		 feed_root;	/* next AddTempRoot */
	int		 feed_barrier;	/* the barrier, after the roots */
	size_t		 feed_query;	/* next QueryValidPaths chunk */
	enum expect_kind feed_kind;	/* EXPECT_QUERY_VALID, EXPECT_RECHECK,
					   or EXPECT_ADD_ROOT: no queries */
	int		 ready;
	int		 releasing;	/* release(): closing, the roots go */
	int		 ending;	/* the connection ended: awaiting the
					   child, for its status */
	char		 end_why[256];	/* why it ended; "": end of file */
	/* --reconnect */
	struct transport_target target;	/* socket or argv; none: off */
	long		 window_ms;	/* to reconnect in, from the drop */
	int		 reconnecting;	/* since the drop, until rechecked */
	int		 rechecking;	/* the recheck is queued */
	long		 retry_at;	/* next attempt, while no fd */
	long		 retry_ms;
	long		 give_up_at;
};

static int
expect_push(struct store_daemon *d, enum expect_kind kind, root_id root)
{
	struct expect *e;
	size_t cap;

	/*
	 * A queue that never empties (a burst keeps the daemon busy) moves
	 * its unanswered half to the front rather than growing for ever.
	 */
	if (d->ehead == d->elen)
		d->ehead = d->elen = 0;
	else if (d->elen == d->ecap && d->ehead >= d->ecap / 2) {
		memmove(d->expect, d->expect + d->ehead,
		    (d->elen - d->ehead) * sizeof(*d->expect));
		d->elen -= d->ehead;
		d->ehead = 0;
	}
	if (d->elen == d->ecap) {
		cap = d->ecap ? d->ecap * 2 : 64;
		if ((e = reallocarray(d->expect, cap, sizeof(*e))) == NULL)
			return -1;
		d->expect = e;
		d->ecap = cap;
	}
	d->expect[d->elen].kind = kind;
	d->expect[d->elen].root = root;
	d->elen++;
	return 0;
}

static void
log_line(const char *text, size_t len)
{
	char *msg;

	if ((msg = wp_message_text(text, len)) != NULL && *msg != '\0')
		warnx("daemon: %s", msg);
	free(msg);
}

/*
 * The daemon's magic and version; queues the rest of our handshake.
 * Returns a wp_result; a refusal is WP_OK with *status set.
 */
static int
parse_hello(struct store_daemon *d, struct wp_reader *r, int *status)
{
	uint64_t magic, v;
	char probe[PATH_MAX];

	if (wp_get_u64(r, &magic) == WP_SHORT || wp_get_u64(r, &v) == WP_SHORT)
		return WP_SHORT;
	*status = STORE_PROTOCOL;
	if (magic != WP_MAGIC_2) {
		store_fail(&d->store, STORE_PROTOCOL, "%s: not a Nix daemon "
		    "(bad magic number)", d->name);
		return WP_OK;
	}
	if (WP_MAJOR(v) != 1 || WP_MINOR(v) >= WP_GUIX_MINOR) {
		store_fail(&d->store, STORE_PROTOCOL, "%s: daemon speaks protocol "
		    "%u.%u, keep-paths speaks 1.%u to 1.%u",
		    d->name, (unsigned)WP_MAJOR(v),
		    (unsigned)WP_MINOR(v), WP_MINOR(WP_MIN_VERSION),
		    WP_MINOR(WP_CLIENT_VERSION));
		return WP_OK;
	}
	if (v < WP_MIN_VERSION) {
		store_fail(&d->store, STORE_PROTOCOL, "%s: daemon protocol 1.%u is "
		    "older than 1.%u, the oldest keep-paths speaks (Nix 2.8)",
		    d->name, (unsigned)WP_MINOR(v),
		    WP_MINOR(WP_MIN_VERSION));
		return WP_OK;
	}
	*status = STORE_BUSY;
	d->offered = (unsigned)v;
	d->version = v < WP_CLIENT_VERSION ? (unsigned)v : WP_CLIENT_VERSION;
	snprintf(probe, sizeof(probe), "%s/%s", d->storedir, PROBE_NAME);
	if (wp_put_hello_rest(&d->out, d->version) == -1 ||
	    expect_push(d, EXPECT_HELLO_REST, ROOT_NONE) == -1 ||
	    wp_put_set_options(&d->out) == -1 ||
	    expect_push(d, EXPECT_SET_OPTIONS, ROOT_NONE) == -1 ||
	    wp_put_is_valid_path(&d->out, probe) == -1 ||
	    expect_push(d, EXPECT_PROBE, ROOT_NONE) == -1)
		*status = store_oom(&d->store);
	return WP_OK;
}

/* Safe to print as it is: short, and visible ASCII only. */
static int
printable(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * The daemon's feature list (1.38): AddTempRoots is used where it lists
 * it, unless it failed once this session.  With -v, the list is said.
 */
static int
parse_features(struct store_daemon *d, struct wp_reader *r, char *list,
    size_t size)
{
	uint64_t n, i;
	const char *s;
	size_t len;
	int rc, offered = 0;

	if ((rc = wp_get_u64(r, &n)) != WP_OK)
		return rc;
	if (n > WP_FEATURES_MAX)
		return WP_BAD;
	for (i = 0; i < n; i++) {
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
		offered |= len == sizeof(WP_FEATURE_ADD_TEMP_ROOTS) - 1 &&
		    memcmp(s, WP_FEATURE_ADD_TEMP_ROOTS, len) == 0;
		if (printable(s, len) && strlen(list) + len + 3 < size) {
			if (list[0] != '\0')
				strlcat(list, ", ", size);
			strncat(list, s, len);
		} else if (list[0] == '\0')
			strlcpy(list, "(not printable)", size);
	}
	d->multi = offered && !d->multi_off;
	return WP_OK;
}

/* Features, nixVersion and trust; the startup stderr loop follows. */
static int
parse_hello_rest(struct store_daemon *d, struct wp_reader *r)
{
	const char *s, *known = NULL;
	char nix_version[64], features[512] = "";
	size_t len;
	uint64_t trust;
	int rc;

	if (WP_MINOR(d->version) >= 38 && (rc = parse_features(d, r,
	    features, sizeof(features))) != WP_OK)
		return rc;
	if (WP_MINOR(d->version) >= 33) {
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
		/* Longer than any version: unknown, so the barrier stays. */
		if (len < sizeof(nix_version)) {
			memcpy(nix_version, s, len);
			nix_version[len] = '\0';
			known = nix_version;
		}
	}
	/* Every connection decides anew: a reconnect may meet an upgrade. */
	d->barrier = store_daemon_needs_barrier(d->barrier_mode, d->offered,
	    known);
	if (WP_MINOR(d->version) >= 35 &&
	    (rc = wp_get_u64(r, &trust)) != WP_OK)
		return rc;
	/* Said once it is all read: a part is parsed again with the rest. */
	if (d->verbose && WP_MINOR(d->version) >= 38)
		warnx("%s: daemon features: %s%s", d->name, features[0] ?
		    features : "none", d->multi ? "; roots go in one "
		    "AddTempRoots per 512" : "");
	/* Still at the head: the stderr loop comes next. */
	d->expect[d->ehead].kind = EXPECT_STARTUP;
	return WP_OK;
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

static int queue_recheck(struct store_daemon *);
static int finish_reconnect(struct store_daemon *);
static int feed_start(struct store_daemon *, enum expect_kind);
static int feed(struct store_daemon *);
static int daemon_submit(struct store *, struct batch *);

/* --reconnect was asked for. */
static int
reconnect_on(const struct store_daemon *d)
{
	return d->target.socket != NULL || d->target.argv != NULL;
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
		return queue_recheck(d);
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
	if (!reconnect_on(d))
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
static int
batch_sent(const struct store_daemon *d)
{
	return !d->feeding && d->ehead == d->elen;
}

/* The batch holds roots that another connection holds already. */
static int
batch_kept(const struct batch *b)
{
	return b->n > 0 && b->req[0].kind == REQUEST_KEEP;
}

/* Gives every request of the finished batch its reply. */
static int
finish_batch(struct store_daemon *d)
{
	if (rootset_reply(&d->roots, d->batch) == -1)
		return store_oom(&d->store);
	d->batch = NULL;
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
		if ((rc = parse_hello(d, r, status)) == WP_OK)
			d->ehead++;
		return rc;
	}
	if (e.kind == EXPECT_HELLO_REST)
		return parse_hello_rest(d, r);
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

/*
 * After the handshake on a new connection: every root again, the barrier,
 * and one validity check of them all, as one batch.
 */
static int
queue_recheck(struct store_daemon *d)
{
	/* Every root is sent again: queue_root counts them anew. */
	d->nsent = d->nheld = 0;
	if (rootset_begin_all(&d->roots) == -1 ||
	    feed_start(d, EXPECT_RECHECK) == -1)
		return store_oom(&d->store);
	d->rechecking = 1;
	return d->roots.nasked == 0 ? finish_reconnect(d) : STORE_BUSY;
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
static int
finish_reconnect(struct store_daemon *d)
{
	char path[PATH_MAX];
	root_id id, first = ROOT_NONE;
	struct batch *b = d->batch;
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
	d->batch = NULL;
	return b != NULL ? daemon_submit(&d->store, b) : STORE_BUSY;
}

/* The next attempt to connect, until the window closes. */
static int
try_reconnect(struct store_daemon *d)
{
	char err[STORE_ERROR_MAX];

	if (transport_open(&d->t, &d->target, err, sizeof(err)) == 0) {
		if (wp_put_hello(&d->out) == -1 ||
		    expect_push(d, EXPECT_HELLO, ROOT_NONE) == -1)
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
static int
start_reconnect(struct store_daemon *d, const char *why)
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

/* Ends the recheck or the batch in flight once all of it is answered. */
static int
batch_over(struct store_daemon *d)
{
	if (d->rechecking && batch_sent(d))
		return finish_reconnect(d);
	if (d->batch != NULL && !d->reconnecting && batch_sent(d))
		return finish_batch(d);
	return STORE_BUSY;
}

/* Parses every complete message in the input buffer. */
static int
parse_input(struct store_daemon *d)
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
		if (status != STORE_BUSY || (status = batch_over(d)) != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}

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
	if ((d->ready || d->reconnecting) && reconnect_on(d))
		return start_reconnect(d, why);
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
		if ((status = parse_input(d)) != STORE_BUSY)
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
		return d->reconnecting ? try_reconnect(d) : STORE_BUSY;
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
		if ((status = parse_input(d)) != STORE_BUSY)
			return status;
		if (d->multi_redo)
			return start_reconnect(d, "closed by keep-paths after "
			    "the daemon failed AddTempRoots");
	}
	if ((revents & POLLOUT) &&
	    buf_write_fd(&d->out, d->t.fd, SIZE_MAX) == -1 && errno != EAGAIN)
		return write_failed(d, errno);
	if (feed(d) == -1)
		return store_oom(&d->store);
	/* The last of it may have needed nothing sent (held already). */
	return batch_over(d);
}

static int
daemon_ready(struct store *s)
{
	return ((struct store_daemon *)s)->ready;
}

/*
 * Queues AddTempRoot for the root unless it is held already; kind is
 * EXPECT_ADD_ROOT, or EXPECT_AHEAD_ROOT for one offered ahead.
 */
static int
queue_root(struct store_daemon *d, root_id id, enum expect_kind kind)
{
	char path[PATH_MAX];

	if (rootset_flags(&d->roots, id) & ROOT_HELD)
		return 0;
	if (wp_put_add_temp_root(&d->out,
	    rootset_path(&d->roots, id, path)) == -1 ||
	    expect_push(d, kind, id) == -1)
		return -1;
	d->nsent++;
	d->unbarred++;
	return 0;
}

/* Appends id to the roots sent by op 49 and unanswered.  Returns 0/-1. */
static int
sent_push(struct store_daemon *d, root_id id)
{
	root_id *grown;
	size_t cap;

	if (d->shead == d->slen)
		d->shead = d->slen = 0;
	else if (d->slen == d->scap && d->shead >= d->scap / 2) {
		memmove(d->sent, d->sent + d->shead,
		    (d->slen - d->shead) * sizeof(*d->sent));
		d->slen -= d->shead;
		d->shead = 0;
	}
	if (d->slen == d->scap) {
		cap = d->scap ? d->scap * 2 : ROOTS_CHUNK;
		if ((grown = reallocarray(d->sent, cap, sizeof(*grown))) ==
		    NULL)
			return -1;
		d->sent = grown;
		d->scap = cap;
	}
	d->sent[d->slen++] = id;
	return 0;
}

/*
 * Queues one AddTempRoots (op 49) for the next roots of ids[*at .. n)
 * that are not held, ROOTS_CHUNK at most; *at moves past those looked
 * at.  kind is EXPECT_ADD_ROOTS, or EXPECT_AHEAD_ROOTS.  Returns 0/-1.
 */
static int
queue_roots(struct store_daemon *d, const root_id *ids, size_t n,
    size_t *at, enum expect_kind kind)
{
	char path[PATH_MAX];
	size_t count = 0, i;

	for (; *at < n && count < ROOTS_CHUNK; (*at)++) {
		if (rootset_flags(&d->roots, ids[*at]) & ROOT_HELD)
			continue;
		if (sent_push(d, ids[*at]) == -1)
			return -1;
		count++;
	}
	/* sent_push may move the queue: the chunk is its last count. */
	if (count == 0)
		return 0;
	if (wp_put_add_temp_roots_begin(&d->out, count) == -1)
		return -1;
	for (i = d->slen - count; i < d->slen; i++)
		if (wp_put_path(&d->out,
		    rootset_path(&d->roots, d->sent[i], path)) == -1)
			return -1;
	if (expect_push(d, kind, (root_id)count) == -1)
		return -1;
	d->nsent += count;
	d->unbarred += count;
	return 0;
}

/*
 * The batch's barrier, if its daemon needs one and any root went out
 * since the last: the roots sent before that one are covered by it.
 */
static int
queue_barrier(struct store_daemon *d)
{
	d->nahead = d->ahead_sent = 0;
	if (!d->barrier || d->unbarred == 0)
		return 0;
	if (wp_put_gc_barrier(&d->out) == -1 ||
	    expect_push(d, EXPECT_BARRIER, ROOT_NONE) == -1)
		return -1;
	d->unbarred = 0;
	return 0;
}

/*
 * Whether the barrier waits, for roots the loop may yet offer ahead: only
 * while the daemon has plenty of roots still to register before it.
 */
static int
barrier_waits(const struct store_daemon *d)
{
	return d->barrier && d->feed_kind == EXPECT_QUERY_VALID &&
	    d->nsent > BARRIER_SLACK;
}

/* Queues one QueryValidPaths (as feed_kind) for the next chunk of roots. */
static int
queue_query(struct store_daemon *d)
{
	const root_id *ids = d->roots.asked + d->feed_query;
	size_t n = d->roots.nasked - d->feed_query, i;
	char path[PATH_MAX];

	n = n < QUERY_CHUNK ? n : QUERY_CHUNK;
	if (wp_put_query_valid_begin(&d->out, n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (wp_put_path(&d->out,
		    rootset_path(&d->roots, ids[i], path)) == -1)
			return -1;
	d->feed_query += n;
	if (wp_put_query_valid_end(&d->out, d->version) == -1 ||
	    expect_push(d, d->feed_kind, (root_id)n) == -1)
		return -1;
	return 0;
}

/*
 * Encodes more of the batch, in order: every root not held yet, then
 * (unless kind is EXPECT_ADD_ROOT) the barrier and the validity queries.
 * Returns 0, or -1 (ENOMEM).
 */
static int
feed(struct store_daemon *d)
{
	int rc = 0;

	while (d->feeding && rc == 0 && buf_used(&d->out) < FEED_MAX) {
		if (d->feed_root < d->roots.nasked && d->multi)
			rc = queue_roots(d, d->roots.asked, d->roots.nasked,
			    &d->feed_root, EXPECT_ADD_ROOTS);
		else if (d->feed_root < d->roots.nasked)
			rc = queue_root(d, d->roots.asked[d->feed_root++],
			    EXPECT_ADD_ROOT);
		else if (d->feed_kind == EXPECT_ADD_ROOT ||
		    d->feed_query == d->roots.nasked)
			d->feeding = 0;
		else if (d->feed_barrier && d->ahead_sent < d->nahead &&
		    d->multi)
			rc = queue_roots(d, d->ahead, d->nahead, &d->ahead_sent,
			    EXPECT_AHEAD_ROOTS);
		else if (d->feed_barrier && d->ahead_sent < d->nahead)
			rc = queue_root(d, d->ahead[d->ahead_sent++],
			    EXPECT_AHEAD_ROOT);
		else if (d->feed_barrier && barrier_waits(d))
			break;		/* fed again as replies come */
		else if (d->feed_barrier) {
			d->feed_barrier = 0;
			rc = queue_barrier(d);
		} else
			rc = queue_query(d);
	}
	return rc;
}

/* Starts encoding the batch in roots.asked (see feed). */
static int
feed_start(struct store_daemon *d, enum expect_kind kind)
{
	d->feeding = 1;
	d->feed_root = d->feed_query = 0;
	d->feed_barrier = 1;
	d->feed_kind = kind;
	return feed(d);
}

static int
daemon_submit(struct store *s, struct batch *b)
{
	struct store_daemon *d = (struct store_daemon *)s;
	if (rootset_begin(&d->roots, b) == -1 ||
	    feed_start(d, batch_kept(b) ? EXPECT_ADD_ROOT :
	    EXPECT_QUERY_VALID) == -1)
		return store_oom(&d->store);
	d->batch = b;
	/* Nothing queued (every root held already): done now. */
	return batch_sent(d) ? finish_batch(d) : STORE_BUSY;
}

/* Adds the root to those to send ahead of the barrier.  Returns 0/-1. */
static int
ahead_push(struct store_daemon *d, root_id id)
{
	root_id *a;
	size_t cap;

	if (d->nahead == d->aheadcap) {
		cap = d->aheadcap ? d->aheadcap * 2 : 1024;
		if ((a = reallocarray(d->ahead, cap, sizeof(*a))) == NULL)
			return -1;
		d->ahead = a;
		d->aheadcap = cap;
	}
	d->ahead[d->nahead++] = id;
	rootset_mark(&d->roots, id, ROOT_AHEAD);
	return 0;
}

/*
 * The holds queued behind the batch in flight: their roots go out before
 * its barrier, if that is still to be sent (see the top of this file).
 * Their replies come from their own batch, which finds them held.
 */
static int
daemon_ahead(struct store *s, const struct batch *q, size_t from, size_t to)
{
	struct store_daemon *d = (struct store_daemon *)s;
	const struct request *r;
	root_id id;
	size_t i;

	if (!d->barrier || !d->ready || d->batch == NULL || !d->feeding ||
	    !d->feed_barrier || d->feed_kind != EXPECT_QUERY_VALID)
		return STORE_BUSY;
	for (i = from; i < to; i++) {
		r = &q->req[i];
		if (r->kind != REQUEST_HOLD || r->reply != REPLY_PENDING)
			continue;
		if ((id = rootset_add(&d->roots, r->path)) == ROOT_NONE)
			return store_oom(&d->store);
		if (rootset_flags(&d->roots, id) &
		    (ROOT_HELD | ROOT_ASKED | ROOT_AHEAD))
			continue;
		if (ahead_push(d, id) == -1)
			return store_oom(&d->store);
	}
	return feed(d) == -1 ? store_oom(&d->store) : STORE_BUSY;
}

static const struct rootset *
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
	    expect_push(d, EXPECT_HELLO, ROOT_NONE) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		daemon_close(&d->store);
		return NULL;
	}
	return &d->store;
}

/*
 * Reads "2.M" at the head of v (then ".", "pre", "-rc"... may follow):
 * returns M, or -1 if v is no 2.x version.
 */
static long
nix_minor(const char *v)
{
	long minor = 0;

	if (strncmp(v, "2.", 2) != 0 || v[2] < '0' || v[2] > '9')
		return -1;
	for (v += 2; *v >= '0' && *v <= '9'; v++)
		if ((minor = minor * 10 + (*v - '0')) > 999)
			return -1;
	return minor;
}

int
store_daemon_needs_barrier(enum store_barrier mode, unsigned offered,
    const char *nix_version)
{
	long minor;

	if (mode != STORE_BARRIER_AUTO)
		return mode == STORE_BARRIER_ALWAYS;
	if (nix_version == NULL || WP_MINOR(offered) < 38)
		return 1;
	minor = nix_minor(nix_version);
	return minor < 35 || minor > 89;
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
