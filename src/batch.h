/*
 * batch: requests in arrival order.  A batch holds or drops, never both.
 */
#ifndef KP_BATCH_H
#define KP_BATCH_H

#include <stddef.h>

#include "request.h"

struct batch {
	struct request	*req;
	size_t		 n;
	size_t		 cap;
};

/* Appends a zeroed request.  Returns it, or NULL (ENOMEM). */
struct request *batch_push(struct batch *);

/*
 * Moves the first requests of from, at most max and all of the first one's
 * kind, to the end of to: a batch holds or drops, never both, so requests
 * take effect in the order they came.  Returns 0/-1.
 */
int	batch_move(struct batch *to, struct batch *from, size_t max);

/* Frees every request; the batch is left empty and reusable. */
void	batch_clear(struct batch *);

void	batch_free(struct batch *);

#endif
