/*
 * store_multi: several stores in one session (--store given more than
 * once).  Every path is rooted on every store, and a batch is done when
 * every store is done with it; then each request has one reply per store,
 * in the order the stores were given, each naming its store.  A store
 * that fails ends the session: its label is the store's "failed".
 */
#ifndef KP_STORE_MULTI_H
#define KP_STORE_MULTI_H

#include <stddef.h>

#include "store.h"

/*
 * Takes over stores[0..n) (2 <= n <= STORE_MAX), labelled by labels[i]
 * (the --store value); each fills in its own pollfds, STORE_POLLFDS_MAX
 * in all.  Returns the store, or NULL with a message in err (the stores
 * are closed then too).
 */
struct store *store_multi_open(struct store **stores, char **labels,
	    size_t n, char *err, size_t errlen);

#endif
