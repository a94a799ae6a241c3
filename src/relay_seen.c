/*
 * relay_seen: the store paths seen in the relayed traffic, each queued
 * once as a captured request, with its last reply; a held derivation's
 * outputs; --print-roots' list.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay_int.h"
#include "storepath.h"
#include "xio.h"

/* Queues a captured request for s, the newest number.  Returns 0/-1. */
static int
seen_submit(struct relay *r, struct seen *s, struct batch *queued)
{
	if (batch_add_captured(queued, s->path, CAPTURED_RELAY) == NULL)
		return -1;
	s->seq = ++r->submitted;
	s->reply = REPLY_PENDING;
	return 0;
}

/* Adds path to the seen set, queued.  Returns it, or NULL (ENOMEM). */
static struct seen *
seen_add(struct relay *r, const char *path)
{
	struct seen *s;

	if ((s = seenset_add(&r->seen, path)) == NULL)
		return NULL;
	return seen_submit(r, s, r->queued) == 0 ? s : NULL;
}

/*
 * A path seen on client's connection (0: a derivation's output): *out is
 * its entry, queued if new, or NULL if it is not held (the store is lost,
 * or --capture-max is reached).  Returns 0, or -1 (ENOMEM).
 */
static int
seen_note(struct relay *r, const char *path, size_t len, unsigned client,
    struct seen **out)
{
	char copy[PATH_MAX];
	struct seen *s;

	*out = NULL;
	if (len >= sizeof(copy))
		return 0;	/* cannot be one: no store path is this long */
	memcpy(copy, path, len);
	copy[len] = '\0';
	if ((s = seenset_find(&r->seen, copy)) == NULL) {
		if (r->lost)
			return 0;	/* nothing holds paths any more */
		if (r->seen.n >= r->max_seen) {
			if (r->over++ == 0)
				warnx("capture: more than %zu distinct store "
				    "paths seen (--capture-max): %s and every "
				    "further new one are NOT held", r->max_seen,
				    copy);
			return 0;
		}
		if ((s = seen_add(r, copy)) == NULL)
			return -1;
		if (r->verbose && client > 0)
			warnx("client %u: %s", client, copy);
		else if (r->verbose)
			warnx("derivation output: %s", copy);
	}
	*out = s;
	return 0;
}

/* pathscan_found: a path in c's traffic, queued if new; c needs it. */
int
relay_seen_path(void *arg, const char *path, size_t len)
{
	struct conn *c = arg;
	struct seen *s;

	if (seen_note(c->relay, path, len, c->id, &s) == -1)
		return -1;
	if (s != NULL && s->seq > c->need)
		c->need = s->seq;
	return 0;
}

/* The outputs list of a .drv: at its start, in the first bytes. */
#define DRV_HEAD_MAX	65536

/*
 * The next "STRING" at *p (no escapes: output names and paths have
 * none) into out; *p moves past it.  Returns its length, or -1.
 */
static ssize_t
drv_string(const char **p, const char *end, const char **out)
{
	const char *q;

	if (*p >= end || **p != '"')
		return -1;
	*out = *p + 1;
	for (q = *out; q < end && *q != '"'; q++)
		if (*q == '\\')
			return -1;
	if (q == end)
		return -1;
	*p = q + 1;
	return q - *out;
}

/* A store path under r's store directory that Nix would take. */
static int
store_path_ok(const struct relay *r, const char *p, size_t len)
{
	size_t dirlen = strlen(r->storedir);
	char why[STOREPATH_WHY_MAX];

	return len > dirlen + 1 && memcmp(p, r->storedir, dirlen) == 0 &&
	    p[dirlen] == '/' && storepath_check_base(p + dirlen + 1,
	    len - dirlen - 1, why, sizeof(why)) == 0;
}

/*
 * Every output path of the derivation at path, as if it had crossed the
 * socket: Derive([("out","/nix/store/...","",""),...],...).  Floating
 * content-addressed outputs have no path until built, and are left out;
 * so is anything that does not parse.  Open connections wait for them.
 */
static int
drv_outputs(struct relay *r, const char *path)
{
	char head[DRV_HEAD_MAX];
	const char *p, *end, *name, *out;
	unsigned long before = r->submitted;
	struct seen *s;
	ssize_t n, len;
	size_t i;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return 0;	/* not ours to read: what crosses still counts */
	n = xio_read(fd, head, sizeof(head));
	close(fd);
	if (n <= 0 || (p = memmem(head, (size_t)n, "([", 2)) == NULL)
		return 0;
	end = head + n;
	/* Each output: ("NAME","PATH",...), then ',' or the list's ']'. */
	p += 2;
	while (rc == 0 && p < end && *p++ == '(') {
		if (drv_string(&p, end, &name) == -1 || p >= end ||
		    *p++ != ',' || (len = drv_string(&p, end, &out)) == -1)
			break;
		if (store_path_ok(r, out, (size_t)len))
			rc = seen_note(r, out, (size_t)len, 0, &s);
		while (p < end && *p != ')')
			p++;
		if (p + 2 >= end || p[1] != ',')
			break;
		p += 2;
	}
	/* A worker may have built the new ones: its connection waits. */
	for (i = 0; i < RELAY_CLIENTS_MAX && r->submitted > before; i++)
		if (r->conns[i].used && r->conns[i].up.fd != -1 &&
		    r->conns[i].need < r->submitted)
			r->conns[i].need = r->submitted;
	return rc;
}

int
relay_answered(struct relay *r, const struct request *req,
    const struct reply *rep, struct batch *queued)
{
	struct seen *s = seenset_find(&r->seen, req->path);
	size_t i, len = strlen(req->path);
	int rc = 0;

	r->answered++;
	if (s != NULL)
		s->reply = rep->kind;
	if (rep->kind == REPLY_OK && len > 4 &&
	    strcmp(req->path + len - 4, ".drv") == 0) {
		r->queued = queued;
		rc = drv_outputs(r, req->path);
		r->queued = NULL;
	}
	if (rep->kind == REPLY_ERROR && !r->unheld) {
		warnx("%s: %s: not held, so every daemon connection of the "
		    "command stays open (its worker's roots) until the end, "
		    "or until a new client needs its place",
		    req->path, rep->why != NULL ? rep->why : "refused");
		r->unheld = 1;
	}
	for (i = 0; i < RELAY_CLIENTS_MAX; i++)
		relay_conn_settle(r, &r->conns[i]);
	return rc;
}

void
relay_store_lost(struct relay *r)
{
	size_t i;

	r->lost = 1;
	for (i = 0; i < RELAY_CLIENTS_MAX; i++)
		relay_conn_settle(r, &r->conns[i]);
}

unsigned long
relay_over(const struct relay *r)
{
	return r->over;
}

size_t
relay_unanswered(const struct relay *r)
{
	return (size_t)(r->submitted - r->answered);
}

int
relay_end(struct relay *r, struct batch *queued)
{
	size_t i;

	relay_stop_listening(r);
	for (i = 0; i < r->seen.n; i++)
		if (seen_submit(r, r->seen.all[i], queued) == -1)
			return -1;
	return 0;
}

int
relay_end_listed(struct relay *r, struct buf *out, int json,
    const char *store)
{
	if (r->listed)
		return 1;
	if (relay_unanswered(r) > 0)
		return 0;
	r->listed = 1;
	return seenset_list(&r->seen, out, store, json) == 0 ? 1 : -1;
}

void
relay_seen_free(struct relay *r)
{
	seenset_free(&r->seen);
}
