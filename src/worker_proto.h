/*
 * worker_proto: the Nix daemon worker protocol, as bytes.  Encoders append
 * to a struct buf; decoders read from a wp_reader and never consume a
 * partial message: WP_SHORT means "call again with more bytes".  No I/O.
 *
 * Facts from Nix's worker-protocol.hh and daemon.cc (2.8 to master) and
 * Lix; see shared/NIX-ROOTS.md section 2.
 */
#ifndef KP_WORKER_PROTO_H
#define KP_WORKER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WP_MAGIC_1		0x6e697863
#define WP_MAGIC_2		0x6478696f
#define WP_VERSION(maj, min)	((unsigned)(maj) << 8 | (unsigned)(min))
#define WP_MAJOR(v)		((v) >> 8)
#define WP_MINOR(v)		((v) & 0xff)
/* What we offer; Lix refuses clients below 1.35. */
#define WP_CLIENT_VERSION	WP_VERSION(1, 38)
/* Oldest daemon we speak to: Nix 2.8 (Debian's nix-bin). */
#define WP_MIN_VERSION		WP_VERSION(1, 34)
/* Guix's daemon counts minors from 0x60 and frames differently. */
#define WP_GUIX_MINOR		0x60

enum wp_op {
	WP_OP_IS_VALID_PATH	= 1,
	WP_OP_ADD_TEMP_ROOT	= 11,
	WP_OP_SET_OPTIONS	= 19,
	WP_OP_COLLECT_GARBAGE	= 20,
	WP_OP_QUERY_VALID_PATHS	= 31,
	WP_OP_ADD_TEMP_ROOTS	= 49,	/* with the feature below */
};

#define WP_STDERR_NEXT		0x6f6c6d67
#define WP_STDERR_READ		0x64617461
#define WP_STDERR_WRITE		0x64617416
#define WP_STDERR_LAST		0x616c7473
#define WP_STDERR_ERROR		0x63787470
#define WP_STDERR_START_ACTIVITY 0x53545254
#define WP_STDERR_STOP_ACTIVITY	0x53544f50
#define WP_STDERR_RESULT	0x52534c54

/*
 * The one feature keep-paths asks for (protocol 1.38's exchange): a set of
 * temporary roots in one AddTempRoots (Determinate Nix 3.21.5 and later;
 * upstream reserved op 49 for it).  Used only where both sides list it.
 */
#define WP_FEATURE_ADD_TEMP_ROOTS	"addTempRoots"
/* Features a daemon may list, at most. */
#define WP_FEATURES_MAX		256

/* Limits on what a daemon may send us, so a broken one cannot exhaust us. */
#define WP_STRING_MAX		(1u << 20)
#define WP_LIST_MAX		(1u << 24)
/*
 * No one message we wait for is longer: a log line is at most
 * WP_STRING_MAX, a QueryValidPaths reply at most 512 paths.  An
 * incomplete one past it is a broken or hostile peer, not a slow one:
 * it would otherwise grow our buffer, and be parsed again from its start
 * on every read, without end.
 */
#define WP_MESSAGE_MAX		(4u << 20)

/* Encoders.  Each returns 0, or -1 with errno ENOMEM. */
int	wp_put_u64(struct buf *, uint64_t);
int	wp_put_string(struct buf *, const char *, size_t);
int	wp_put_hello(struct buf *);
int	wp_put_hello_rest(struct buf *, unsigned version);
int	wp_put_set_options(struct buf *);
int	wp_put_is_valid_path(struct buf *, const char *path);
int	wp_put_add_temp_root(struct buf *, const char *path);
/* AddTempRoots: begin (n paths), n wp_put_path calls. */
int	wp_put_add_temp_roots_begin(struct buf *, size_t n);
int	wp_put_gc_barrier(struct buf *);
/* QueryValidPaths: begin (n paths), n wp_put_path calls, end. */
int	wp_put_query_valid_begin(struct buf *, size_t n);
int	wp_put_path(struct buf *, const char *path);
int	wp_put_query_valid_end(struct buf *, unsigned version);

/* Decoders. */
enum wp_result {
	WP_OK = 0,
	WP_SHORT = 1,		/* incomplete: wait for more bytes */
	WP_BAD = -1,		/* malformed: the peer is not speaking the protocol */
};

struct wp_reader {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
};

int	wp_get_u64(struct wp_reader *, uint64_t *);
int	wp_get_string(struct wp_reader *, const char **, size_t *);
int	wp_skip_strings(struct wp_reader *);

enum wp_stderr_kind {
	WP_MSG_LAST,		/* the op's result follows */
	WP_MSG_ERROR,		/* the op failed; no result follows */
	WP_MSG_LOG,		/* a log line for the user */
	WP_MSG_OTHER,		/* activity bookkeeping: ignore */
};

struct wp_stderr {
	enum wp_stderr_kind	 kind;
	const char		*text;	/* LOG, ERROR: points into the reader */
	size_t			 textlen;
};

/*
 * Reads one message of the stderr loop that precedes every reply.  Returns
 * WP_OK, WP_SHORT, or WP_BAD (also for STDERR_READ/WRITE, which no op we
 * send may produce).
 */
int	wp_get_stderr(struct wp_reader *, unsigned version, struct wp_stderr *);

/*
 * Copies a daemon message for printing on one line: drops ANSI escape
 * sequences and trailing newlines, makes other control bytes (newlines
 * included) visible.  Returns a new string or NULL.
 */
char	*wp_message_text(const char *text, size_t len);

#endif
