/*
 * relay: capture mode's private daemon socket.
 *
 * Each client that connects gets its own connection to the real store (a
 * daemon socket, or a "nix-daemon --stdio" child), and bytes are copied
 * both ways unchanged.  Every store path seen in either direction becomes
 * a captured request on the session's queue, once; so do the outputs of
 * a derivation seen, read from its file once it is held valid.  When a client goes,
 * its upstream connection stays open, its daemon worker's own temporary
 * roots covering what it built or added, until every path seen on it has
 * its reply from the session's store; only then does it close.
 */
#ifndef KP_RELAY_H
#define KP_RELAY_H

#include <poll.h>
#include <stddef.h>

#include "buf.h"
#include "batch.h"
#include "transport.h"

/* Clients served at once; more wait in the listener's backlog. */
#define RELAY_CLIENTS_MAX	32
/* The pollfds relay_pollfd fills in: the listener, two per client. */
#define RELAY_POLLFDS	(1 + 2 * RELAY_CLIENTS_MAX)

struct relay;

/* Default for max_seen (--capture-max, capture-max =). */
#define RELAY_SEEN_MAX	100000

/*
 * Listens on a socket in a new private directory (mode 0700) under
 * $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp (the first that is owned by
 * us or root and that others cannot write, or only with the sticky bit),
 * for clients whose paths are under storedir (kept, not copied); each
 * client's connection goes to upstream.  At most max_seen distinct paths
 * are held: any traffic (a build log, a garbage client) can name paths,
 * and each costs memory here and a root in the store.  Returns the
 * relay, or NULL with a message in err.
 */
struct relay *relay_open(const char *storedir,
	    const struct transport_target *upstream, int verbose,
	    size_t max_seen, char *err, size_t errlen);

/* The socket's path. */
const char *relay_socket(const struct relay *);

/* The private directory the socket is in (0700, ours), and its fd. */
const char *relay_directory(const struct relay *, int *fd);

/*
 * Fills in pfd[0 .. RELAY_POLLFDS) (fd -1: none).  Without room (the
 * session's queue is full), no client's bytes are read: they could name
 * new paths.
 */
void	relay_pollfd(struct relay *, struct pollfd *pfd, int room);

/* When relay_handle must run even if no fd is ready, or -1. */
long	relay_wakeup(struct relay *);

/*
 * Accepts clients and copies their bytes, after poll() filled in the
 * revents of relay_pollfd's fds; appends a captured request to queued
 * for each path seen for the first time.  Returns 0, or -1 with errno
 * ENOMEM.
 */
int	relay_handle(struct relay *, const struct pollfd *pfd,
	    struct batch *queued);

/*
 * A captured request has its reply, rep (of every store, the worst), in
 * queue order: closes the upstream connections of gone clients whose
 * paths are all answered.  A path that could not be held keeps every
 * upstream connection open until the session ends, and says so.  A
 * derivation held valid has its outputs' paths, read from its file,
 * treated as seen: a client may learn them from the file and never send
 * them (Nix 2.35's nix-store -r), and a build's output must be held
 * before the worker that built it goes.
 * Returns 0, or -1 with errno ENOMEM.
 */
int	relay_answered(struct relay *, const struct request *,
	    const struct reply *, struct batch *queued);

/*
 * The session's store is gone: nothing holds paths any more, so none is
 * queued, and no gone client's upstream waits for a reply.
 */
void	relay_store_lost(struct relay *);

/* Distinct paths seen past max_seen, not held. */
unsigned long relay_over(const struct relay *);

/* Captured requests queued that have no reply yet. */
size_t	relay_unanswered(const struct relay *);

/* Reaps the "nix-daemon --stdio" children that have exited (SIGCHLD). */
void	relay_reap(struct relay *);

/* Takes no new clients, and removes the socket (the session is
 * ending). */
void	relay_stop_listening(struct relay *);

/*
 * Capture's end phase, once the command is done, for --print-roots: no
 * new clients, and every path seen is checked once more (a captured
 * request for each, appended to queued).  Returns 0/-1 (ENOMEM).
 */
int	relay_end(struct relay *, struct batch *queued);

/*
 * Once every path of the end phase has its reply, appends their list to
 * out, once: "ok PATH" or "missing PATH" for each, sorted, as their last
 * replies say, each naming store unless it is NULL; with json, one JSON
 * object a line instead.  Returns 1 once
 * the list is in out, 0 while replies are awaited, or -1 (ENOMEM).
 */
int	relay_end_listed(struct relay *, struct buf *out, int json,
	    const char *store);

/*
 * Closes every connection, reaps the children, and removes the socket
 * and its directory.
 */
void	relay_close(struct relay *);

#endif
