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

#endif
