/*
 * store_gcroots: durable session roots.  Each path is rooted twice: by a
 * symlink in this process's session directory under a gcroots directory
 * the collector scans (it survives keep-paths, daemon restarts and
 * reboots, until a sweep finds the session unlocked), and by the inner
 * back end, which also provides the barrier and validity.
 */
#ifndef KP_STORE_GCROOTS_H
#define KP_STORE_GCROOTS_H

#include <stddef.h>

#include "store.h"

/*
 * Creates a locked session directory under sessions_root, sweeps stale
 * sibling sessions older than min_age (never its own), and wraps inner,
 * which it then owns.  Returns the store, or NULL with a message in err
 * (inner is closed then).
 */
struct store *store_gcroots_open(struct store *inner, const char *sessions_root,
	    long min_age, int verbose, char *err, size_t errlen);

/* The session directory's path, for KEEP_PATHS_SESSION. */
const char *store_gcroots_session(struct store *);

#endif
