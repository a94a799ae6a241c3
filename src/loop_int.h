/*
 * loop_int: what the files of the session loop share, and no other module
 * sees:
 *	loop.c		the poll loop: what to poll, for how long, who is due;
 *			signals, the command, capture's end
 *	loop_store.c	requests queued, batched, rooted by the store, and
 *			replied to; the store's failure ("lost")
 *	loop_io.c	the parent's fd (request bytes, its end) and stdout
 *			(reply bytes)
 * Every function that returns an int returns LOOP_GO to go on, or the
 * session's exit status.
 */
#ifndef KP_LOOP_INT_H
#define KP_LOOP_INT_H

#include <poll.h>
#include <sys/types.h>

#include "batch.h"
#include "buf.h"
#include "loop.h"

/*
 * Requests per batch: bounds the memory one batch takes in flight.  Each
 * batch costs a barrier: 4,096 took twice as long for 100,000 paths on
 * Nix 2.8's daemon as 16,384.
 */
#define BATCH_MAX	16384
/*
 * Stop reading requests while a batch's worth waits for the store: a
 * caller that writes a closure at once is read as fast as the store takes
 * it, not into memory (65,536 queued took 12 MB at 100,000 paths).
 */
#define QUEUE_MAX	BATCH_MAX
/*
 * Stop reading requests while this many reply bytes wait for stdout, so a
 * reader that stalls cannot make keep-paths grow without bound.  Generous:
 * a script that writes every request before it reads a reply blocks on
 * its own write once this is reached (about 100,000 replies).
 */
#define OUT_MAX		(8 << 20)
/*
 * After a batch this large, once no more requests wait, free memory goes
 * back to the kernel: glibc keeps a burst's freed requests in its heap,
 * and a session holds its roots for hours after the burst.
 */
#define TRIM_AFTER	1024
#define READ_CHUNK	65536
/* The shortest request worth reserving queue room for: a store path. */
#define LINE_TYPICAL	64
/* How long replies already made may take to drain at a failure. */
#define FINAL_FLUSH_MS	1000
#define LOOP_GO		(-1)

struct loop {
	const struct loop_config *cfg;
	struct core	*core;		/* the stores; NULL once closed */
	int		 parent_fd;	/* -1 once gone, or with a command */
	struct buf	 in;		/* request bytes from the parent */
	int		 skipping;	/* inside an over-long line */
	struct buf	 out;		/* reply bytes for stdout */
	struct batch	 queued;	/* requests waiting for the store */
	struct batch	 inflight;	/* the batch the store works on */
	size_t		 ahead_from;	/* queued: those offered ahead */
	int		 busy;		/* inflight is with the store */
	int		 trim_due;	/* a batch of TRIM_AFTER was done */
	long		 heard_at;	/* the store's last sign of life */
	int		 was_ready;	/* once: a reconnecting store keeps
					   its own time after that */
	pid_t		 child;		/* the command, 0 before it runs */
	int		 failed;	/* a failure to report after the child */
	int		 signo;		/* the signal that ended the session */
	int		 ending;	/* capture's end phase (relay_end) */
	int		 end_status;	/* the status, once ending */
};

/* loop.c */

/* Runs the command, once the requests given with it are held. */
int	loop_spawn_command(struct loop *);
/*
 * The session ends with status rc, normally; with --print-roots, capture
 * first checks every path again and lists them (LOOP_GO until then).
 */
int	loop_ending(struct loop *, int rc);

/* loop_store.c */

/* Queues the request lines read, up to QUEUE_MAX.  Returns 0/-1. */
int	loop_store_take(struct loop *);
/* Hands the queued requests to the store, or starts the command. */
int	loop_store_dispatch(struct loop *);
/* Offers the store the holds queued behind the batch in flight. */
int	loop_store_offer_ahead(struct loop *);
/* The store's fds or wakeup are due. */
int	loop_store_handle(struct loop *, const struct pollfd *);
/* The store failed with status: "lost", and the exit status. */
int	loop_store_failed(struct loop *, int status);
/* Closes the store: the roots are released. */
void	loop_store_close(struct loop *);

/* loop_io.c */

/* Requests from the parent, or its end. */
int	loop_io_parent(struct loop *, short revents);
/* Replies to stdout. */
int	loop_io_stdout(struct loop *, short revents);
/* The replies of the parent's requests in the batch done.  Returns 0/-1. */
int	loop_io_format(struct loop *);
/* Writes what replies stdout takes within timeout_ms. */
void	loop_io_flush(struct loop *, int timeout_ms);
/* At the end: replies made still go out, briefly; the rest are counted. */
void	loop_io_drain(struct loop *);

#endif
