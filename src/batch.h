/*
 * batch: requests in arrival order.  A batch holds or drops, never both.
 * It knows requests; a request knows nothing of batches.
 */
#ifndef KP_BATCH_H
#define KP_BATCH_H

#include <stddef.h>

#include "buf.h"
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

/*
 * Appends the request for input (request_parse), a path given as an
 * argument.  Returns 0, or -1 with errno ENOMEM.
 */
int	batch_add(struct batch *, const char *storedir, const char *input,
	    size_t len);

/* Appends a hold for path, seen by capture mode (how: enum
 * request_capture).  Returns it, or NULL (ENOMEM). */
struct request *batch_add_captured(struct batch *, const char *path,
	    int how);

/*
 * Moves the complete request lines of in into the batch, consuming them,
 * until the batch holds max requests; the rest stay in in.  *skipping
 * carries over a line that was too long and is being discarded.  Returns
 * 0 or -1 (ENOMEM).
 */
int	batch_take_lines(struct batch *, const char *storedir, struct buf *in,
	    int *skipping, size_t max);

/* Frees every request; the batch is left empty and reusable. */
void	batch_clear(struct batch *);

void	batch_free(struct batch *);

#endif
