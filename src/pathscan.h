/*
 * pathscan: finds the store paths in a byte stream that arrives in pieces
 * (capture mode's relayed worker-protocol traffic), without parsing it.
 *
 * A store path is "STOREDIR/" followed by a base name that passes
 * storepath_check_base.  Where the 8 bytes before it are a worker-protocol
 * string length that ends inside the run of name characters, that length
 * is the path (the next field may start with a byte that is a name
 * character); otherwise the whole run is.  A path split across pieces is
 * found once, when its end arrives.
 */
#ifndef KP_PATHSCAN_H
#define KP_PATHSCAN_H

#include <stddef.h>

#include "buf.h"

/* Called with each path found (len bytes, not NUL-terminated). Returns 0,
 * or -1 to stop the scan with that status. */
typedef int	(*pathscan_found)(void *arg, const char *path, size_t len);

struct pathscan {
	const char	*storedir;
	size_t		 dirlen;
	unsigned char	*win;		/* carried tail, then the new piece */
	size_t		 len;
	size_t		 cap;
	size_t		 from;		/* first start in win not looked at */
};

/* Starts a scan for paths under storedir (kept, not copied). */
void	pathscan_init(struct pathscan *, const char *storedir);

/*
 * Scans the next len bytes of the stream, calling found for each path
 * that ends in them.  Returns 0; -1 with errno ENOMEM; or what found
 * returned.
 */
int	pathscan_feed(struct pathscan *, const void *data, size_t len,
	    pathscan_found found, void *arg);

/*
 * The stream has ended: decides what waited for more bytes (a path at
 * the very end), calls found for it, and frees the scan.  Returns as
 * pathscan_feed does.
 */
int	pathscan_end(struct pathscan *, pathscan_found found, void *arg);

/*
 * Reads what the non-blocking fd has (at most 64 KiB), scans it, and
 * appends it to to: capture's relays, on their way through.  Returns 1 if
 * it read, 0 if there was nothing, -1 at end of file (errno 0) or an
 * error, -2 if the scan or to ran out of memory.
 */
int	pathscan_read(struct pathscan *, int fd, struct buf *to,
	    pathscan_found found, void *arg);

/* Frees the scan, deciding nothing more. */
void	pathscan_free(struct pathscan *);

#endif
