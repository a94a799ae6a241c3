/*
 * store_daemon_int: what the files of the daemon back end share, and no
 * other module sees.  The back end's jobs, one file each:
 *	store_daemon.c		the store ops, the connection's end
 *	store_daemon_hello.c	the handshake and the version policy
 *	store_daemon_send.c	encoding a batch: roots, barrier, queries
 *	store_daemon_reply.c	parsing replies, giving a batch its replies
 *	store_daemon_reconnect.c a new connection, every root again, the
 *				recheck of what was acked
 * store_daemon.c's head says how a batch goes on the wire.
 */
#ifndef KP_STORE_DAEMON_INT_H
#define KP_STORE_DAEMON_INT_H

#include <stddef.h>

#include "buf.h"
#include "rootset.h"
#include "store.h"
#include "store_daemon.h"
#include "transport.h"
#include "worker_proto.h"

/* What the daemon owes us, in order. */
enum expect_kind {
	EXPECT_HELLO,		/* magic and version */
	EXPECT_HELLO_REST,	/* features, nixVersion, trust */
	EXPECT_STARTUP,		/* the startup stderr loop */
	EXPECT_SET_OPTIONS,
	EXPECT_PROBE,
	EXPECT_ADD_ROOT,
	EXPECT_AHEAD_ROOT,	/* AddTempRoot for a later batch */
	EXPECT_ADD_ROOTS,	/* AddTempRoots (op 49): root = how many */
	EXPECT_AHEAD_ROOTS,	/* ... for a later batch */
	EXPECT_BARRIER,
	EXPECT_QUERY_VALID,
	EXPECT_RECHECK,		/* QueryValidPaths after reconnecting */
};

struct expect {
	enum expect_kind	 kind;
	root_id			 root;	/* EXPECT_ADD_ROOT, _AHEAD_ROOT; for
					   EXPECT_QUERY_VALID, _RECHECK: the
					   paths asked, the most a reply has */
};

struct store_daemon {
	struct store	 store;
	struct transport t;
	unsigned	 version;	/* negotiated: obeyed everywhere */
	unsigned	 offered;	/* the daemon's own version word */
	enum store_barrier barrier_mode;
	int		 barrier;	/* this connection's daemon needs it */
	char		*storedir;
	char		*name;		/* the socket, or the store URI */
	struct buf	 in;
	struct buf	 out;
	struct expect	*expect;
	size_t		 ehead, elen, ecap;
	struct rootset	 roots;
	size_t		 nheld;		/* acknowledged */
	size_t		 nsent;		/* sent, not yet acknowledged */
	size_t		 unbarred;	/* roots sent since the last barrier */
	root_id		*ahead;		/* offered ahead, to send before the
					   batch's barrier */
	size_t		 nahead, ahead_sent, aheadcap;
	char		*root_error;	/* the last AddTempRoot refusal */
	/* AddTempRoots (op 49): this connection's daemon takes it */
	int		 multi;
	int		 multi_off;	/* it failed once: op 11 from then on */
	int		 multi_redo;	/* ... just now: a new connection */
	root_id		*sent;		/* sent by op 49, in order, unanswered */
	size_t		 shead, slen, scap;
	int		 verbose;
	char		*lost;		/* store.lost: collected in a gap */
	int		 batch;		/* a batch is in flight */
	root_id		*batch_ids;	/* its roots, to start it again on a
					   new connection */
	size_t		 nbatch_ids;
	int		 adopting;	/* adopt(): registering, no batch */
	/* What of the batch (roots.asked) is still to be encoded. */
	int		 feeding;
	size_t		 feed_root;	/* next AddTempRoot */
	int		 feed_barrier;	/* the barrier, after the roots */
	size_t		 feed_query;	/* next QueryValidPaths chunk */
	enum expect_kind feed_kind;	/* EXPECT_QUERY_VALID, EXPECT_RECHECK,
					   or EXPECT_ADD_ROOT: no queries */
	int		 ready;
	int		 releasing;	/* release(): closing, the roots go */
	int		 ending;	/* the connection ended: awaiting the
					   child, for its status */
	char		 end_why[256];	/* why it ended; "": end of file */
	/* --reconnect */
	struct transport_target target;	/* socket or argv; none: off */
	long		 window_ms;	/* to reconnect in, from the drop */
	int		 reconnecting;	/* since the drop, until rechecked */
	int		 rechecking;	/* the recheck is queued */
	long		 retry_at;	/* next attempt, while no fd */
	long		 retry_ms;
	long		 give_up_at;
};

/* store_daemon_send.c */

/* Appends what the daemon owes next.  Returns 0/-1 (ENOMEM). */
int	daemon_expect_push(struct store_daemon *, enum expect_kind,
	    root_id);
/*
 * Starts encoding the batch in roots.asked: every root not held yet,
 * then (unless kind is EXPECT_ADD_ROOT) the barrier and the validity
 * queries (EXPECT_QUERY_VALID, or EXPECT_RECHECK).  Returns 0/-1.
 */
int	daemon_feed_start(struct store_daemon *, enum expect_kind);
/* Encodes more of it, while the output is short.  Returns 0/-1. */
int	daemon_feed(struct store_daemon *);
/* The ops submit and ahead (store.h). */
int	daemon_submit(struct store *);
int	daemon_ahead(struct store *, const char *const *paths, size_t n);
/* Starts the batch in flight again, on a new connection.  Returns as
 * submit does. */
int	daemon_resubmit(struct store_daemon *);
int	daemon_adopt(struct store *, const struct rootset *from,
	    const root_id *skip, size_t nskip);

/* store_daemon_hello.c: each returns a wp_result. */

/* The daemon's magic and version; a refusal is WP_OK with *status set. */
int	daemon_parse_hello(struct store_daemon *, struct wp_reader *,
	    int *status);
/* Features, nixVersion and trust. */
int	daemon_parse_hello_rest(struct store_daemon *, struct wp_reader *);

/* store_daemon_reply.c: each returns a store_status but batch_sent. */

/* Parses every complete message in the input buffer. */
int	daemon_parse_input(struct store_daemon *);
/* Ends the recheck or the batch in flight once all of it is answered. */
int	daemon_batch_over(struct store_daemon *);
/* 1 if every request of the batch (or recheck) is encoded and
 * answered. */
int	daemon_batch_sent(const struct store_daemon *);
/* The batch is done, its replies in roots: STORE_DONE. */
int	daemon_finish_batch(struct store_daemon *);

/* store_daemon_reconnect.c */

/* --reconnect was asked for. */
int	daemon_reconnect_on(const struct store_daemon *);
/* The connection dropped (why): retries begin.  STORE_BUSY. */
int	daemon_start_reconnect(struct store_daemon *, const char *why);
/* The next attempt to connect, until the window closes. */
int	daemon_try_reconnect(struct store_daemon *);
/* A new connection's handshake is done: every root again, then the
 * recheck. */
int	daemon_queue_recheck(struct store_daemon *);
/* The recheck is answered: what was lost ends the session. */
int	daemon_finish_reconnect(struct store_daemon *);

#endif
