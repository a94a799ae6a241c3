/*
 * store_renew: releasing single roots of a daemon connection, make before
 * break.  A worker's temporary roots last as long as its connection, and
 * the protocol has no request to remove one; so a drop opens a new
 * connection, registers every root that stays there, and only once the
 * daemon has taken them all closes the old one.
 */
#ifndef KP_STORE_RENEW_H
#define KP_STORE_RENEW_H

#include <stddef.h>

#include "store.h"

/* Opens another connection like the first one; NULL with a message. */
typedef struct store *(*store_reopen_fn)(const void *arg, char *err,
	    size_t errlen);

/*
 * Wraps first, which reopen(arg) opens again for each drop (both must
 * have store_ops.adopt; their sets' marks say what they hold); arg is
 * freed with free() when the store closes.  Its root set is the current
 * connection's.  Returns the store, or NULL with a
 * message in err (first and arg are freed then too).
 */
struct store *store_renew_open(struct store *first, store_reopen_fn reopen,
	    void *arg, char *err, size_t errlen);

#endif
