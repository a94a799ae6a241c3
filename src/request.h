/*
 * request: one request line in, one reply line out.
 *
 * A request is a path: a store path, a path inside one, or a symlink into
 * the store; or "drop PATH", to release one root the session holds.  Its
 * reply is exactly one line per store:
 *	ok STOREPATH		rooted, and valid
 *	missing STOREPATH	rooted, but not valid (yet, or any more)
 *	dropped STOREPATH	released: the session no longer holds it
 *	error INPUT: REASON	nothing rooted (or released) for this line, on
 *				every back end; one exception: a REASON
 *				that begins "held until the session ends"
 *				(the local back end could not look up its
 *				validity after recording the root, which
 *				its file cannot take back)
 * and with several stores, each line names its store:
 *	ok STOREPATH STORE, missing STOREPATH STORE, dropped STOREPATH STORE,
 *	error INPUT: STORE: REASON
 */
#ifndef KP_REQUEST_H
#define KP_REQUEST_H

#include <stddef.h>

#include "buf.h"

/* Longest request line, newline excluded. */
#define REQUEST_LINE_MAX	4096

/* What a request line asks for. */
#define REQUEST_DROP_PREFIX	"drop "

enum request_kind {
	REQUEST_HOLD,		/* PATH */
	REQUEST_DROP,		/* drop PATH */
};

enum reply_kind {
	REPLY_PENDING,
	REPLY_OK,
	REPLY_MISSING,
	REPLY_DROPPED,
	REPLY_ERROR,
};

/*
 * A request as parsed.  Its reply is REPLY_PENDING, or REPLY_ERROR if it
 * was refused before any store saw it; the stores' replies are the
 * session core's (core.h), one struct reply per store.
 */
struct request {
	char		*input;	/* as received, visibly encoded; NULL if
				   it is the same as path */
	char		*path;	/* canonical store path; NULL if refused */
	char		*why;	/* refused: the reason */
	/* Bytes, not enums: a batch holds 16,384 of these. */
	unsigned char	 kind;	/* enum request_kind */
	unsigned char	 captured; /* enum request_capture: seen in capture
				   mode's relayed traffic, its reply goes
				   there, not to stdout */
	unsigned char	 reply;	/* enum reply_kind */
	unsigned char	 stores; /* 0: for the session's stores; else for
				   the holding stores of these bits
				   (1 << the core's index of each) */
};

/* Where a captured request's reply goes. */
enum request_capture {
	CAPTURED_NOT,		/* the parent's: to stdout */
	CAPTURED_RELAY,		/* the daemon relay's (relay.h) */
	CAPTURED_SSH,		/* capture over ssh's (sshcap.h) */
};

/*
 * Whether r is for the core's store k: one of the session's own stores,
 * or with holding, one opened while the session runs (core.h).
 */
static inline int
request_for(const struct request *r, unsigned k, int holding)
{
	return r->stores == 0 ? !holding : (r->stores >> k) & 1;
}

/* One store's reply to a request. */
struct reply {
	char		*why;	/* REPLY_ERROR: the reason */
	unsigned char	 kind;	/* enum reply_kind */
};

/*
 * Makes r, zeroed, the request for input (len bytes, may hold NULs), a
 * hold, resolved against storedir; a refused input makes a request that
 * already has its error reply.  Returns 0, or -1 with errno ENOMEM.
 */
int	request_parse(struct request *r, const char *storedir,
	    const char *input, size_t len);

/*
 * The same for a request line: a hold, or with REQUEST_DROP_PREFIX a
 * drop.
 */
int	request_parse_line(struct request *r, const char *storedir,
	    const char *line, size_t len);

/* Makes r a hold for path, a store path already checked, that capture
 * mode saw (how: enum request_capture).  Returns 0/-1. */
int	request_captured(struct request *r, const char *path, int how);

/* Frees r's strings. */
void	request_free(struct request *);

/* The request lines in in, complete and not yet taken. */
size_t	request_count_lines(const struct buf *in, int skipping);

/* Sets a request's reply to an error, taking a copy of why.  Returns 0/-1. */
int	request_set_error(struct request *, const char *why);

/* Sets a reply to an error, taking a copy of why.  Returns 0/-1. */
int	reply_set_error(struct reply *, const char *why);

/* Frees a reply's reason; it is pending again. */
void	reply_clear(struct reply *);

/*
 * Appends the line of rep, the reply to r of store (NULL: the session's
 * only store, which the line does not name); with quiet, the lines that
 * say it went well ("ok", "dropped") are left out.
 */
int	request_format_reply(struct buf *out, const struct request *r,
	    const struct reply *rep, const char *store, int quiet);

/*
 * Appends capture's line for a path held (--print-roots): "WORD PATH",
 * with " STORE" if store is not NULL; with json, one JSON object.
 * Returns 0/-1.
 */
int	request_format_root(struct buf *out, const char *path,
	    enum reply_kind, const char *store, int json);

/* The request as received, for messages. */
const char *request_input(const struct request *);

#endif
