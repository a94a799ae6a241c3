/*
 * rootset: the store paths a session has rooted, or is rooting, each
 * once; and the replies of a batch, read from them.  Both back ends use
 * it: a path is registered with the store once per session, however often
 * it is asked for.
 */
#ifndef KP_ROOTSET_H
#define KP_ROOTSET_H

#include <stddef.h>

#include "request.h"

struct root {
	struct root	*next;		/* every root, for freeing */
	struct root	*prev;
	char		*path;
	char		*error;		/* refused in the batch that asked */
	unsigned long	 batch;		/* last batch that asked for it */
	unsigned long	 valid;		/* last batch that found it valid */
	int		 held;		/* registered, before this batch */
	int		 acked;		/* answered "ok" once: must stay */
};

struct rootset {
	void		*tree;		/* tsearch(3) tree of struct root */
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
