/*
 * store_daemon: the Nix daemon back end, over a unix socket or ssh.  Roots
 * are temporary roots of the daemon worker serving our connection;
 * closing it releases them.
 */
#ifndef KP_STORE_DAEMON_H
#define KP_STORE_DAEMON_H

#include <stddef.h>

#include "store.h"

struct transport;
struct transport_target;

/*
 * Takes over the open transport t (a daemon socket, or ssh ... --stdio)
 * and starts the handshake; it completes in handle().  name (the socket
 * or the store URI) is for messages.  Returns the store, or NULL with a
 * message in err (t is closed then too).
 */
struct store *store_daemon_open(struct transport *t, const char *name,
	    const char *storedir, char *err, size_t errlen);

/*
 * Turns on --reconnect: when the connection drops, open target again,
 * trying for window_ms, and register every root again (see the file's
 * comment).  Returns 0, or -1 (ENOMEM).
 */
int	store_daemon_reconnect(struct store *, const struct transport_target *,
	    long window_ms);

/* Sets --barrier (default STORE_BARRIER_AUTO). */
void	store_daemon_set_barrier(struct store *, enum store_barrier);

/* With -v: the daemon's features, and AddTempRoots' fallback, said. */
void	store_daemon_set_verbose(struct store *, int verbose);

/*
 * Whether a daemon that offered protocol version offered and reported
 * nix_version (NULL: it sends none) needs the barrier under mode.
 */
int	store_daemon_needs_barrier(enum store_barrier mode, unsigned offered,
	    const char *nix_version);

#endif
