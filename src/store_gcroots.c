/*
 * store_gcroots: a symlink per path in our session directory, then the
 * inner back end's temporary root, barrier and validity check.  The link
 * is made first: when the inner back end acks, both roots are in place.
 * A drop goes the other way: the link goes once the inner back end has
 * dropped the temporary root, so a refused drop keeps both.  A link this
 * batch made for a root the inner back end then refused goes too, and a
 * root that cannot be linked never reaches the inner back end: "error"
 * roots nothing.  Its root set is the inner store's.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <limits.h>
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
	int		 holding;	/* a batch with inner */
	root_id		*made;		/* the roots whose link it made */
	size_t		 nmade, madecap;
	struct root_refusal *unlinked;	/* roots it could not link: taken
					   out of the batch, refused once
					   inner is done */
	size_t		 nunlinked, unlinkedcap;
	int		 dropping;	/* a drop with inner */
	char		**names;	/* its roots' link names */
	char		**why;		/* the drop's reasons (store.h) */
	size_t		 ndrop;
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

static struct rootset *
gcroots_rootset(struct store *s)
{
	struct store_gcroots *g = (struct store_gcroots *)s;

	return store_rootset(g->inner);
}

/*
 * Removes the link name.  Returns 0; or one that cannot go (other than
 * gone already) stays until the session ends: -1, and reason says so,
 * after what (its temporary root's fate).
 */
static int
unlink_root(struct store_gcroots *g, const char *name, const char *what,
    char *reason, size_t len)
{
	if (unlinkat(g->session.fd, name, 0) == 0) {
		g->nlinks--;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	snprintf(reason, len, "%s, but its link in %s stays until the "
	    "session ends: %s", what, g->path, strerror(errno));
	return -1;
}

static void
drop_free(struct store_gcroots *g)
{
	size_t i;

	for (i = 0; i < g->ndrop && g->names != NULL; i++)
		free(g->names[i]);
	free(g->names);
	g->names = NULL;
	g->why = NULL;
	g->ndrop = 0;
	g->dropping = 0;
}

/* The inner store dropped its roots: the links go too. */
static int
unlink_dropped(struct store_gcroots *g)
{
	char reason[STORE_ERROR_MAX * 2];
	size_t i;

	for (i = 0; i < g->ndrop; i++)
		if (g->why[i] == NULL && unlink_root(g, g->names[i],
		    "its temporary root is dropped", reason,
		    sizeof(reason)) == -1 &&
		    (g->why[i] = strdup(reason)) == NULL) {
			drop_free(g);
			return store_oom(&g->store);
		}
	drop_free(g);
	return STORE_DONE;
}

/*
 * The inner store is done with the hold batch: the roots it could not
 * link are refused, and the links the batch made for roots the inner
 * store refused go (one made before is a root the session holds).
 */
static int
unlink_refused(struct store_gcroots *g)
{
	struct rootset *set = store_rootset(g->inner);
	char reason[STORE_ERROR_MAX * 2], path[PATH_MAX];
	const char *why;
	root_id id;
	size_t i;
	int rc = 0;

	g->holding = 0;
	for (i = 0; i < g->nunlinked && rc == 0; i++)
		rc = rootset_refuse(set, g->unlinked[i].id,
		    g->unlinked[i].why);
	for (i = 0; i < g->nmade && rc == 0; i++) {
		id = g->made[i];
		if ((why = rootset_refusal(set, id)) != NULL &&
		    unlink_root(g, strrchr(rootset_path(set, id, path), '/') +
		    1, why, reason, sizeof(reason)) == -1)
			rc = rootset_refuse_anew(set, id, reason);
	}
	for (i = 0; i < g->nunlinked; i++)
		free(g->unlinked[i].why);
	g->nmade = g->nunlinked = 0;
	return rc == 0 ? STORE_DONE : store_oom(&g->store);
}

/* What the inner store said; a batch it finished may unlink. */
static int
inner_done(struct store_gcroots *g, int status)
{
	status = inner_status(g, status);
	if (status == STORE_DONE && g->dropping)
		return unlink_dropped(g);
	if (status == STORE_DONE && g->holding)
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

/* Notes that the batch made the root's link.  Returns 0/-1. */
static int
made_push(struct store_gcroots *g, root_id id)
{
	root_id *grown;
	size_t cap;

	if (g->nmade == g->madecap) {
		cap = g->madecap ? g->madecap * 2 : 64;
		if ((grown = reallocarray(g->made, cap, sizeof(*grown))) ==
		    NULL)
			return -1;
		g->made = grown;
		g->madecap = cap;
	}
	g->made[g->nmade++] = id;
	return 0;
}

/* Notes a root that could not be linked, and why.  Returns 0/-1. */
static int
unlinked_push(struct store_gcroots *g, root_id id, const char *why)
{
	struct root_refusal *grown;
	size_t cap;
	char *copy;

	if ((copy = strdup(why)) == NULL)
		return -1;
	if (g->nunlinked == g->unlinkedcap) {
		cap = g->unlinkedcap ? g->unlinkedcap * 2 : 8;
		if ((grown = reallocarray(g->unlinked, cap,
		    sizeof(*grown))) == NULL) {
			free(copy);
			return -1;
		}
		g->unlinked = grown;
		g->unlinkedcap = cap;
	}
	g->unlinked[g->nunlinked].id = id;
	g->unlinked[g->nunlinked++].why = copy;
	return 0;
}

/*
 * Links the root's path as its base name; one already there is the same
 * root.  Returns 1 if linked, 0 if not (noted), -1 (ENOMEM).
 */
static int
link_root(struct store_gcroots *g, const struct rootset *set, root_id id)
{
	char path[PATH_MAX], why[STORE_ERROR_MAX];
	const char *base = strrchr(rootset_path(set, id, path), '/') + 1;

	if (symlinkat(path, g->session.fd, base) == 0) {
		g->nlinks++;
		return made_push(g, id) == -1 ? -1 : 1;
	}
	if (errno == EEXIST)
		return 1;
	snprintf(why, sizeof(why), "cannot link it in %s: %s", g->path,
	    strerror(errno));
	return unlinked_push(g, id, why);
}

/*
 * The link first, then the temporary root: when the inner store acks,
 * both are in place.  A root that cannot be linked leaves the batch
 * before the inner store sees it.
 */
static int
gcroots_submit(struct store *s)
{
	struct store_gcroots *g = (struct store_gcroots *)s;
	struct rootset *set = store_rootset(g->inner);
	size_t i = 0;
	int rc;

	g->nmade = g->nunlinked = 0;
	g->holding = 1;
	while (i < set->nasked) {
		if ((rc = link_root(g, set, set->asked[i])) == -1)
			return store_oom(s);
		if (rc == 0)
			rootset_unask(set, set->asked[i]);
		else
			i++;
	}
	return inner_done(g, store_submit(g->inner));
}

/* The link goes once the inner store has let go of the temporary root. */
static int
gcroots_drop(struct store *s, const root_id *ids, char **why, size_t n)
{
	struct store_gcroots *g = (struct store_gcroots *)s;
	const struct rootset *set = store_rootset(g->inner);
	char path[PATH_MAX];
	size_t i;

	if ((g->names = calloc(n + 1, sizeof(*g->names))) == NULL)
		return store_oom(s);
	g->ndrop = n;
	for (i = 0; i < n; i++)
		if ((g->names[i] = strdup(strrchr(rootset_path(set, ids[i],
		    path), '/') + 1)) == NULL) {
			drop_free(g);
			return store_oom(s);
		}
	g->why = why;
	g->dropping = 1;
	return inner_done(g, store_drop(g->inner, ids, why, n));
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
	size_t i;

	if (g->inner != NULL)
		store_close(g->inner);
	if (g->inner_failed)
		warnx("%s: left for keep-paths-sweep: its %zu root%s stay "
		    "until then", g->path, g->nlinks,
		    g->nlinks == 1 ? "" : "s");
	else if (g->session.fd != -1 && session_remove(&g->session) == -1)
		warn("%s: cannot remove", g->path);
	session_close(&g->session);
	drop_free(g);
	for (i = 0; i < g->nunlinked; i++)
		free(g->unlinked[i].why);
	free(g->unlinked);
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
	.rootset = gcroots_rootset,
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
