/*
 * store_local: the local store back end.  Roots are records in this
 * process's own temp-roots file in the store's state directory, as Nix's
 * LocalStore adds them; no daemon is involved.  Removing the file at the
 * end releases them.
 */
#ifndef KP_STORE_LOCAL_H
#define KP_STORE_LOCAL_H

#include <stddef.h>

#include "store.h"

/*
 * Opens the local store whose state directory is statedir, for store
 * paths under storedir.  Returns the store, or NULL with a message in err.
 */
struct store *store_local_open(const char *statedir, const char *storedir,
	    char *err, size_t errlen);

#endif
