/*
 * rootset: the store paths a session has rooted, or is rooting, each
 * once; and the replies of a batch, read from them.  Both back ends use
 * it: a path is registered with the store once per session, however often
 * it is asked for.
 */
#ifndef KP_ROOTSET_H
#define KP_ROOTSET_H

#include <stddef.h>

#include "batch.h"

/* One allocation per root: the struct, then its path. */
struct root {
	struct root	*next;		/* every root, for walks and freeing */
	struct root	*prev;
	char		*error;		/* refused in the batch that asked */
	unsigned long	 batch;		/* last batch that asked for it */
	unsigned long	 valid;		/* last batch that found it valid */
	unsigned	 hash;
	unsigned char	 held;		/* registered, before this batch */
	unsigned char	 acked;		/* answered "ok" once: must stay */
	char		 path[];
};

/*
 * An open-addressing table (linear probing, deletion by backward shift, so
 * no tombstones) of the roots, at most 3/4 full.  A tsearch(3) tree of
 * paths that share the store directory's prefix spent a third of
 * keep-paths' CPU time on a 100,000-path batch in comparing them.
 */
struct rootset {
	struct root	**slot;
	size_t		 nslots;	/* 0, or a power of two */
	size_t		 n;
	struct root	*all;
	unsigned long	 gen;		/* number of the batch in flight */
};

struct root *rootset_find(struct rootset *, const char *path);

/* The root for path, added if new.  Returns NULL with errno ENOMEM. */
struct root *rootset_add(struct rootset *, const char *path);

/* Takes r out of the set and frees it. */
void	 rootset_remove(struct rootset *, struct root *r);

/*
 * Starts batch number ++gen: collects its distinct paths, as roots, into
 * a new array in *out (*n of them).  Returns 0, or -1 with errno ENOMEM.
 */
int	 rootset_begin(struct rootset *, const struct batch *,
	    struct root ***out, size_t *n);

/*
 * Gives every pending request of the batch its reply: error if its root
 * has one, ok if the batch found it valid (or it is a REQUEST_KEEP, acked
 * as it was before), missing otherwise.  Returns 0, or -1 with errno
 * ENOMEM.
 */
int	 rootset_reply(struct rootset *, struct batch *);

void	 rootset_free(struct rootset *);

#endif
