/*
 * rootset: the store paths a session has rooted, or is rooting, each
 * once; and the replies of a batch, read from them.  Both back ends use
 * it: a path is registered with the store once per session, however often
 * it is asked for.
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
 * the batch's distinct pending paths, added as roots and marked ASKED,
 * become asked[0..nasked).  Returns 0, or -1 with errno ENOMEM.
 */
int	 rootset_begin(struct rootset *, const struct batch *);

/*
 * The same for every root, their HELD and AHEAD marks cleared: after a
 * reconnect.
 */
int	 rootset_begin_all(struct rootset *);

/* Marks the root REFUSED in this batch, with a copy of why.  Returns 0/-1. */
int	 rootset_refuse(struct rootset *, root_id, const char *why);

/*
 * Gives every pending request of the batch its reply: error if its root
 * was refused, ok if the batch found it valid, missing otherwise; and
 * marks the roots that are the session's.  Returns 0, or -1 with errno ENOMEM.
 */
int	 rootset_reply(struct rootset *, struct batch *);

void	 rootset_free(struct rootset *);

#endif
