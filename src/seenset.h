/*
 * seenset: the store paths capture saw on their way to one store (the
 * daemon socket's relay, or one host's ssh), each once, with the number
 * of its latest captured request and its latest reply; found by path,
 * listed sorted (--print-roots).
 */
#ifndef KP_SEENSET_H
#define KP_SEENSET_H

#include <stddef.h>

#include "buf.h"
#include "request.h"

struct seen {
	char		*path;
	unsigned long	 seq;		/* of its latest captured request */
	enum reply_kind	 reply;		/* its latest reply */
};

struct seenset {
	void		*tree;		/* tsearch(3) tree of struct seen */
	struct seen	**all;		/* in the order seen, until listed */
	size_t		 n, cap;
};

/* The entry of path, or NULL. */
struct seen *seenset_find(const struct seenset *, const char *path);

/*
 * A new entry for path, not in the set yet: seq 0, reply pending.
 * Returns it, or NULL (ENOMEM).
 */
struct seen *seenset_add(struct seenset *, const char *path);

/*
 * Appends a line for each path, sorted (request_format_root: store NULL
 * or its label, json).  Returns 0/-1 (ENOMEM).
 */
int	seenset_list(struct seenset *, struct buf *out, const char *store,
	    int json);

void	seenset_free(struct seenset *);

#endif
