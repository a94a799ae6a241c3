/*
 * rootset: the store paths a store holds for the session, or is
 * registering, each once with its marks; and the replies of a batch, read
 * from them.  Each store has one (store_ops.rootset): a path is
 * registered with a store once per session, however often it is asked
 * for.  The session core starts each batch on it and reads the replies.
 *
 * Built for size: a session may hold a closure of 100,000 paths for days.
 * A root is one record in an arena (a flag byte, the name's length, the
 * 20 bytes the 32 base-32 characters of its hash encode, and its name;
 * the store directory is not repeated), found through an open-addressing
 * table of 32-bit arena offsets: some 30 bytes a root, no malloc per root.
 * A root is named by its offset, a root_id, which stays valid for the
 * set's life: roots are never removed (a drop replaces the whole
 * connection, and its set with it).
 */
#ifndef KP_ROOTSET_H
#define KP_ROOTSET_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"

typedef uint32_t root_id;
#define ROOT_NONE	((root_id)-1)

/* A root's flags. */
#define ROOT_HELD	0x01	/* registered with the store */
#define ROOT_ROOTED	0x02	/* answered ok or missing: the session's */
#define ROOT_ACKED	0x04	/* answered ok once: must stay */
#define ROOT_ASKED	0x08	/* in the latest batch */
#define ROOT_VALID	0x10	/* the latest batch found it valid */
#define ROOT_REFUSED	0x20	/* the latest batch could not register or
				   check it (rootset_refuse said why) */
#define ROOT_AHEAD	0x40	/* being registered ahead of its batch
				   (store_ops.ahead), not yet answered */
#define ROOT_WANTED	0x80	/* within rootset_begin_all only */

struct root_refusal {
	root_id		 id;
	char		*why;
};

struct rootset {
	const char	*storedir;	/* not owned */
	size_t		 dirlen;
	struct buf	 arena;		/* the records, never consumed */
	uint32_t	*slot;		/* arena offsets; ROOT_NONE: empty */
	size_t		 nslots;
	size_t		 n;
	/* The latest batch: its distinct roots, and those it refused. */
	root_id		*asked;
	size_t		 nasked, askedcap;
	struct root_refusal *refused;
	size_t		 nrefused, refusedcap;
};

/*
 * An empty set of paths under storedir, which must outlive it.  Returns 0,
 * or -1 with errno ENAMETOOLONG if its paths might not fit in PATH_MAX.
 */
int	 rootset_init(struct rootset *, const char *storedir);

/* The root of path, or ROOT_NONE (also for a path that is no store path). */
root_id	 rootset_find(const struct rootset *, const char *path);

/*
 * The root for path, a checked store path under the set's directory,
 * added if new.  Returns ROOT_NONE with errno ENOMEM (or EINVAL).
 */
root_id	 rootset_add(struct rootset *, const char *path);

/* Orders root ids, for qsort and bsearch. */
int	 rootset_id_cmp(const void *, const void *);

/* Writes the root's path into buf (PATH_MAX bytes) and returns buf. */
char	*rootset_path(const struct rootset *, root_id, char *buf);

unsigned rootset_flags(const struct rootset *, root_id);
void	 rootset_mark(struct rootset *, root_id, unsigned flags);
void	 rootset_unmark(struct rootset *, root_id, unsigned flags);

/* The first root (id ROOT_NONE) or the one after id; ROOT_NONE at the end. */
root_id	 rootset_next(const struct rootset *, root_id id);

/*
 * Starts a batch: the last one's ASKED, VALID and REFUSED marks go, and
 * the distinct paths of the batch's pending holds for the core's store k
 * (request_for), added as roots and marked ASKED, become
 * asked[0..nasked).  Returns 0, or -1 with errno
 * ENOMEM.
 */
int	 rootset_begin(struct rootset *, const struct batch *, unsigned k,
	    int holding);

/* The same for the roots ids[0..n): a batch started again. */
int	 rootset_begin_ids(struct rootset *, const root_id *ids, size_t n);

/*
 * The same for every root the session wants (held, rooted, asked or
 * ahead; not one refused and never rooted), their HELD and AHEAD marks
 * cleared: after a reconnect.
 */
int	 rootset_begin_all(struct rootset *);

/* Takes the root out of the batch's asked roots (a wrapper refused it). */
void	 rootset_unask(struct rootset *, root_id);

/* Marks the root REFUSED in this batch, with a copy of why.  Returns 0/-1. */
int	 rootset_refuse(struct rootset *, root_id, const char *why);

/* Why this batch refused the root, or NULL. */
const char *rootset_refusal(const struct rootset *, root_id);

/* rootset_refuse, replacing the reason of an earlier refusal.  0/-1. */
int	 rootset_refuse_anew(struct rootset *, root_id, const char *why);

/*
 * The replies of the batch's pending holds for store k, from this set, into
 * rep[0..b->n) (the other entries are left as they are): error if the
 * root was refused, ok if the batch found it valid, missing otherwise;
 * and marks the roots that are the session's (ROOTED; ok: ACKED).
 * Returns 0, or -1 with errno ENOMEM.
 */
int	 rootset_reply(struct rootset *, const struct batch *, unsigned k,
	    int holding, struct reply *rep);

void	 rootset_free(struct rootset *);

#endif
