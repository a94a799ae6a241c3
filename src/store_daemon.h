/*
 * store_daemon: the Nix daemon back end.  Roots are temporary roots of
 * the daemon worker serving our connection; closing it releases them.
 */
#ifndef KP_STORE_DAEMON_H
#define KP_STORE_DAEMON_H

#include <stddef.h>

#include "store.h"

/*
 * Connects to the daemon socket and starts the handshake (it completes in
 * handle()).  Returns the store, or NULL with a message in err.
 */
struct store *store_daemon_open(const char *socket_path, const char *storedir,
	    char *err, size_t errlen);

#endif
