/*
 * store_gcroots: a symlink per path in our session directory, then the
 * inner back end's temporary root, barrier and validity check.  The link
 * is made first: when the inner back end acks, both roots are in place.
 * A drop goes the other way: the link goes once the inner back end has
 * dropped the temporary root, so a refused drop keeps both.  A link this
 * batch made for a path the inner back end then refused goes too:
 * "error" roots nothing.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "store_gcroots.h"
#include "sweep.h"

struct store_gcroots {
	struct store	 store;
	struct store	*inner;
	struct session	 session;
	char		*path;		/* of the session directory */
	size_t		 nlinks;
	int		 inner_failed;	/* keep the session for the sweeper */
	struct batch	*dropping;	/* a drop batch with inner, or NULL */
	struct batch	*holding;	/* a hold batch with inner, or NULL */
	size_t		*made;		/* holding's requests whose link it
					   made, by index */
	size_t		 nmade, madecap;
};

static int
inner_status(struct store_gcroots *g, int status)
{
	if (status != STORE_BUSY && status != STORE_DONE) {
		g->inner_failed = 1;
		store_fail(&g->store, status, "%s; the roots stay in %s until "
		    "a sweep removes it", g->inner->error, g->path);
	}
	return status;
}

static size_t
gcroots_pollfd(struct store *s, struct pollfd *pfd)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	return store_pollfd(g->inner, pfd);
}

static long
gcroots_wakeup(struct store *s)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	return store_wakeup(g->inner);
}

/*
 * Removes r's link.  One that cannot go (other than gone already) stays
 * until the session ends: r's reply becomes an error that says so, after
 * what (its temporary root's fate; it may be r->why, which is read
 * before it is replaced).  Returns 0/-1 (ENOMEM).
 */
static int
unlink_root(struct store_gcroots *g, struct request *r, const char *what)
{
	char why[STORE_ERROR_MAX * 2];

	if (unlinkat(g->session.fd, strrchr(r->path, '/') + 1, 0) == 0) {
		g->nlinks--;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	snprintf(why, sizeof(why), "%s, but its link in %s stays until the "
	    "session ends: %s", what, g->path, strerror(errno));
	return request_set_error(r, why);
}

/* The inner store dropped its roots: the links go too. */
static int
unlink_dropped(struct store_gcroots *g)
{
	struct batch *b = g->dropping;
	size_t i;

	g->dropping = NULL;
	for (i = 0; i < b->n; i++)
		if (b->req[i].reply == REPLY_DROPPED && unlink_root(g,
		    &b->req[i], "its temporary root is dropped") == -1)
			return store_oom(&g->store);
	return STORE_DONE;
}

/*
 * The inner store refused some paths of the hold batch: the links the
 * batch made for them go (one made before is a root the session holds).
 */
static int
unlink_refused(struct store_gcroots *g)
{
	struct batch *b = g->holding;
	struct request *r;
	size_t i;

	g->holding = NULL;
	for (i = 0; i < g->nmade; i++) {
		r = &b->req[g->made[i]];
		if (r->reply == REPLY_ERROR && unlink_root(g, r, r->why) == -1)
			return store_oom(&g->store);
	}
	g->nmade = 0;
	return STORE_DONE;
}

/* What the inner store said; a batch it finished may unlink. */
static int
inner_done(struct store_gcroots *g, int status)
{
	status = inner_status(g, status);
	if (status == STORE_DONE && g->dropping != NULL)
		return unlink_dropped(g);
	if (status == STORE_DONE && g->holding != NULL)
		return unlink_refused(g);
	return status;
}

static int
gcroots_handle(struct store *s, const struct pollfd *pfd)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	return inner_done(g, store_handle(g->inner, pfd));
}

static int
gcroots_ready(struct store *s)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	return store_ready(g->inner);
}

/* Notes that the batch's request i made its link.  Returns 0/-1. */
static int
made_push(struct store_gcroots *g, size_t i)
{
	size_t *grown, cap;

	if (g->nmade == g->madecap) {
		cap = g->madecap ? g->madecap * 2 : 64;
		if ((grown = reallocarray(g->made, cap, sizeof(*grown))) ==
		    NULL)
			return -1;
		g->made = grown;
		g->madecap = cap;
	}
	g->made[g->nmade++] = i;
	return 0;
}

/*
 * Links the path of b's request i as its base name; one already there is
 * the same root.  Returns 0/-1 (ENOMEM).
 */
static int
link_root(struct store_gcroots *g, struct batch *b, size_t i)
{
	struct request *r = &b->req[i];
	const char *base = strrchr(r->path, '/') + 1;
	char why[STORE_ERROR_MAX];

	if (symlinkat(r->path, g->session.fd, base) == 0) {
		g->nlinks++;
		return made_push(g, i);
	}
	if (errno == EEXIST)
		return 0;
	snprintf(why, sizeof(why), "cannot link it in %s: %s", g->path,
	    strerror(errno));
	return request_set_error(r, why);
}

static int
gcroots_submit(struct store *s, struct batch *b)
{
	struct store_gcroots *g = (struct store_gcroots *)s;
	size_t i;

	g->nmade = 0;
	g->holding = b;
	for (i = 0; i < b->n; i++)
		if (b->req[i].reply == REPLY_PENDING &&
		    link_root(g, b, i) == -1)
			return store_oom(s);
	return inner_done(g, store_submit(g->inner, b));
}

/* The link goes once the inner store has let go of the temporary root. */
static int
gcroots_drop(struct store *s, struct batch *b)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	g->dropping = b;
	return inner_done(g, store_drop(g->inner, b));
}

/* Links are durable: an inner failure loses only the temporary roots. */
static size_t
gcroots_roots(struct store *s)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	return g->inner_failed ? 0 : store_roots(g->inner);
}

static void
gcroots_close(struct store *s)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	if (g->inner != NULL)
		store_close(g->inner);
	if (g->inner_failed)
		warnx("%s: left for keep-paths-sweep: its %zu root%s stay "
		    "until then", g->path, g->nlinks,
		    g->nlinks == 1 ? "" : "s");
	else if (g->session.fd != -1 && session_remove(&g->session) == -1)
		warn("%s: cannot remove", g->path);
	session_close(&g->session);
	free(g->made);
	free(g->path);
	free(g);
}

static const struct store_ops gcroots_ops = {
	.pollfd = gcroots_pollfd,
	.wakeup = gcroots_wakeup,
	.handle = gcroots_handle,
	.ready = gcroots_ready,
	.submit = gcroots_submit,
	.drop = gcroots_drop,
	.roots = gcroots_roots,
	.close = gcroots_close,
};

/* Sweep problems are worth a warning; deletions only with -v. */
static void
on_swept(const struct sweep_entry *e, void *arg)
{
	int verbose = *(int *)arg;

	if (e->decision == SWEEP_DELETED && verbose)
		warnx("swept %s/%s: %s", e->root, e->name, e->reason);
	else if (e->decision == SWEEP_ERROR || e->decision ==
	    SWEEP_KEPT_UNKNOWN || e->decision == SWEEP_NOT_A_SESSION)
		warnx("sweeping %s/%s: %s: %s", e->root,
		    e->name != NULL ? e->name : "", sweep_decision_name(
		    e->decision), e->reason);
}

struct store *
store_gcroots_open(struct store *inner, const char *sessions_root,
    long min_age, int verbose, char *err, size_t errlen)
{
	struct store_gcroots *g;
	struct sweep_self self;
	struct sweep_options o;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		store_close(inner);
		return NULL;
	}
	g->store.ops = &gcroots_ops;
	g->inner = inner;
	g->session.fd = g->session.root_fd = -1;
	if (session_create(&g->session, sessions_root, "keep-paths") == -1 ||
	    (g->path = session_path(&g->session)) == NULL) {
		snprintf(err, errlen, "%s: %s", sessions_root,
		    session_strerror(errno));
		gcroots_close(&g->store);
		return NULL;
	}
	/* Our own session first, so the sweep knows it by identity. */
	self.dev = g->session.dev;
	self.ino = g->session.ino;
	memset(&o, 0, sizeof(o));
	o.min_age = min_age;
	o.selves = &self;
	o.nselves = 1;
	o.report = on_swept;
	o.arg = &verbose;
	sweep_root(sessions_root, &o);
	return &g->store;
}

const char *
store_gcroots_session(struct store *s)
{
	return ((struct store_gcroots *)s)->path;
}
