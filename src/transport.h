/*
 * transport: the byte stream a worker-protocol connection runs over.
 * Either a unix socket to a nix-daemon, or the stdin and stdout of a child
 * (ssh HOST nix-daemon --stdio), joined into one socket with socketpair(2)
 * so that both transports are a single non-blocking, close-on-exec fd
 * that can be half-closed.
 */
#ifndef KP_TRANSPORT_H
#define KP_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

struct transport {
	int	 fd;		/* -1 once closed */
	pid_t	 child;		/* the command at the other end, or -1 */
	int	 wstatus;	/* its wait status, once reaped */
	int	 reaped;
	char	 program[64];	/* the child's, for messages */
	/* transport_close_start: */
	int	 closing;	/* 1: waiting for the hang-up; 2: for the
				   child after SIGTERM; 3: after SIGKILL */
	long	 close_deadline; /* of this phase, xio_now_ms() clock */
};

/*
 * Says how the far end went away, for "connection lost" messages: a
 * child's exit status once it is reaped (waiting at most wait_ms), with
 * what it likely means if it ended while connecting; or "end of file".
 * Writes into buf; returns buf.
 */
const char *transport_end(struct transport *, int wait_ms, int connecting,
	    char *buf, size_t len);

/* Where a transport goes, kept to open it again (--reconnect). */
struct transport_target {
	char	 *socket;	/* a daemon socket, or NULL */
	char	**argv;		/* else a command, NULL-terminated */
};

/* Copies socket or argv into t.  Returns 0, or -1 (ENOMEM). */
int	transport_target_set(struct transport_target *t, const char *socket,
	    char *const argv[]);

/*
 * Opens a transport to target: connects to the socket without waiting,
 * or starts argv (looked up in PATH) with its stdin and stdout on our
 * socket and its stderr ours, so that its prompts and errors reach the
 * user.  The command ignores SIGINT and SIGQUIT: ^C on the terminal ends
 * keep-paths, which releases the roots, and not the connection under it.
 * Returns 0, or -1 with a message (naming the socket) in err.
 */
int	transport_open(struct transport *, const struct transport_target *,
	    char *err, size_t errlen);

void	transport_target_free(struct transport_target *);

/*
 * Half-closes, waits up to wait_ms for the far end to hang up (a worker
 * drops its roots as it exits), closes, and reaps the child, killing it
 * if it is still there.
 */
void	transport_close(struct transport *, int wait_ms);

/*
 * transport_close without ever blocking, for a session that goes on: the
 * same steps, each a state.  Start half-closes and arms a wait_ms
 * deadline for the hang-up; then, whenever the fd (still t->fd, polled
 * for POLLIN) is readable or transport_close_wakeup() has come, step
 * drains it, reaps with WNOHANG, and escalates to SIGTERM, then SIGKILL,
 * at each deadline.  Step returns 1 once the fd is closed and any child
 * reaped, else 0.
 */
void	transport_close_start(struct transport *, int wait_ms);
int	transport_close_step(struct transport *);
long	transport_close_wakeup(const struct transport *);

/* Reaps the child if it has exited (never waits).  Returns 1 once it is
 * reaped, or if there is none. */
int	transport_reaped(struct transport *);

#endif
