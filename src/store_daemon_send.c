/*
 * store_daemon_send: a batch encoded as the socket takes it, in order:
 * roots not held yet (AddTempRoot, or AddTempRoots in 512s), the roots
 * offered ahead, the barrier, the validity queries.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_daemon_int.h"
#include "xio.h"

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

/*
 * The barrier waits for roots offered ahead while more than this many
 * AddTempRoots are unanswered: the daemon still has them to do (some
 * 15 ms on Nix 2.8), so sending it then leaves the daemon no idle time.
 */
#define BARRIER_SLACK	1024

/*
 * Room for one more element of size bytes at the end of the queue at
 * base, whose elements [*head, *len) wait to be answered, *cap allocated.
 * A queue that never empties (a burst keeps the daemon busy) moves its
 * unanswered half to the front rather than growing for ever.  Returns
 * the queue, moved or grown, or NULL (ENOMEM) with base as it was.
 */
static void *
queue_room(void *base, size_t size, size_t *head, size_t *len, size_t *cap,
    size_t first)
{
	size_t grown;

	if (*head == *len)
		*head = *len = 0;
	else if (*len == *cap && *head >= *cap / 2) {
		memmove(base, (char *)base + *head * size,
		    (*len - *head) * size);
		*len -= *head;
		*head = 0;
	}
	if (*len < *cap)
		return base;
	grown = *cap ? *cap * 2 : first;
	if ((base = reallocarray(base, grown, size)) != NULL)
		*cap = grown;
	return base;
}

int
daemon_expect_push(struct store_daemon *d, enum expect_kind kind, root_id root)
{
	struct expect *e;

	if ((e = queue_room(d->expect, sizeof(*e), &d->ehead, &d->elen,
	    &d->ecap, 64)) == NULL)
		return -1;
	d->expect = e;
	d->expect[d->elen].kind = kind;
	d->expect[d->elen].root = root;
	d->elen++;
	return 0;
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
	    daemon_expect_push(d, kind, id) == -1)
		return -1;
	d->nsent++;
	d->unbarred++;
	return 0;
}

/* Appends id to the roots sent by op 49 and unanswered.  Returns 0/-1. */
static int
sent_push(struct store_daemon *d, root_id id)
{
	root_id *sent;

	if ((sent = queue_room(d->sent, sizeof(*sent), &d->shead, &d->slen,
	    &d->scap, ROOTS_CHUNK)) == NULL)
		return -1;
	d->sent = sent;
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
	if (daemon_expect_push(d, kind, (root_id)count) == -1)
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
	    daemon_expect_push(d, EXPECT_BARRIER, ROOT_NONE) == -1)
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
	    daemon_expect_push(d, d->feed_kind, (root_id)n) == -1)
		return -1;
	return 0;
}

/*
 * Encodes more of the batch, in order: every root not held yet, then
 * (unless kind is EXPECT_ADD_ROOT) the barrier and the validity queries.
 * Returns 0, or -1 (ENOMEM).
 */
int
daemon_feed(struct store_daemon *d)
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
int
daemon_feed_start(struct store_daemon *d, enum expect_kind kind)
{
	d->feeding = 1;
	d->feed_root = d->feed_query = 0;
	d->feed_barrier = 1;
	d->feed_kind = kind;
	return daemon_feed(d);
}

/* Encodes the batch begun in roots.asked. */
static int
start_batch(struct store_daemon *d)
{
	if (daemon_feed_start(d, EXPECT_QUERY_VALID) == -1)
		return store_oom(&d->store);
	d->batch = 1;
	/* Nothing queued (every root held already): done now. */
	return daemon_batch_sent(d) ? daemon_finish_batch(d) : STORE_BUSY;
}

/*
 * The core began the batch in roots.asked; a reconnect's recheck asks
 * for every root, so the batch's roots are kept to start it again.
 */
int
daemon_submit(struct store *s)
{
	struct store_daemon *d = (struct store_daemon *)s;
	size_t n = d->roots.nasked;

	free(d->batch_ids);
	d->nbatch_ids = 0;
	if ((d->batch_ids = reallocarray(NULL, n + 1,
	    sizeof(*d->batch_ids))) == NULL)
		return store_oom(&d->store);
	if (n > 0)	/* asked may be NULL: memcpy(x, NULL, 0) is undefined */
		memcpy(d->batch_ids, d->roots.asked, n * sizeof(*d->batch_ids));
	d->nbatch_ids = n;
	return start_batch(d);
}

int
daemon_resubmit(struct store_daemon *d)
{
	if (rootset_begin_ids(&d->roots, d->batch_ids, d->nbatch_ids) == -1)
		return store_oom(&d->store);
	return start_batch(d);
}

/*
 * The roots that stay at a drop, from the old connection's set: copied
 * into this one's, marked as they were, and registered as a reconnect
 * registers them (every root of the set, in order), with no barrier or
 * check: the old connection holds them meanwhile.
 */
int
daemon_adopt(struct store *s, const struct rootset *from, const root_id *skip,
    size_t nskip)
{
	struct store_daemon *d = (struct store_daemon *)s;
	char path[PATH_MAX];
	unsigned flags;
	root_id id, mine;

	for (id = rootset_next(from, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(from, id)) {
		flags = rootset_flags(from, id);
		if (!(flags & ROOT_ROOTED) || bsearch(&id, skip, nskip,
		    sizeof(id), rootset_id_cmp) != NULL)
			continue;
		if ((mine = rootset_add(&d->roots,
		    rootset_path(from, id, path))) == ROOT_NONE)
			return store_oom(&d->store);
		rootset_mark(&d->roots, mine, flags & (ROOT_ROOTED | ROOT_ACKED));
	}
	if (rootset_begin_all(&d->roots) == -1 ||
	    daemon_feed_start(d, EXPECT_ADD_ROOT) == -1)
		return store_oom(&d->store);
	d->adopting = 1;
	return daemon_batch_over(d);
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
int
daemon_ahead(struct store *s, const char *const *paths, size_t n)
{
	struct store_daemon *d = (struct store_daemon *)s;
	root_id id;
	size_t i;

	if (!d->barrier || !d->ready || !d->batch || !d->feeding ||
	    !d->feed_barrier || d->feed_kind != EXPECT_QUERY_VALID)
		return STORE_BUSY;
	for (i = 0; i < n; i++) {
		if ((id = rootset_add(&d->roots, paths[i])) == ROOT_NONE)
			return store_oom(&d->store);
		if (rootset_flags(&d->roots, id) &
		    (ROOT_HELD | ROOT_ASKED | ROOT_AHEAD))
			continue;
		if (ahead_push(d, id) == -1)
			return store_oom(&d->store);
	}
	return daemon_feed(d) == -1 ? store_oom(&d->store) : STORE_BUSY;
}
