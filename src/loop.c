/*
 * loop: the lifetime of a keep-paths session.
 *
 * A request line travels: read() from the parent into l->in, split into
 * requests (request_take_lines) onto l->queued while it has room, moved
 * as one batch to l->inflight and submitted to the store; when the store
 * says STORE_DONE every request has its reply, formatted in order into
 * l->out, and written to stdout when poll() says it can take them.
 *
 * Inherited fds (the parent's, stdout) are never made non-blocking: the
 * flag would leak into the parent's file description.  Instead a read
 * happens only after POLLIN, and a write of at most PIPE_BUF bytes only
 * after POLLOUT, which never blocks.
 */
#include "config.h"

#include <sys/wait.h>

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "loop.h"
#include "spawn.h"
#include "xio.h"

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
	struct store	*store;		/* NULL once closed */
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
	int		 ending;	/* 1: rechecking captured paths; 2:
					   their list is printed, draining */
	int		 end_status;	/* the status, once ending */
};

static int sigpipe_fds[2] = { -1, -1 };

/* Marks a signal sent by a process, not by the terminal or the kernel. */
#define SIG_FROM_PROCESS	0x80

static void
on_signal(int signo, siginfo_t *info, void *ctx)
{
	int saved = errno;
	unsigned char c = (unsigned char)signo;

	if (info != NULL && (info->si_code == SI_USER ||
	    info->si_code == SI_QUEUE))
		c |= SIG_FROM_PROCESS;
	(void)write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

static int
signals_setup(void)
{
	static const int caught[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	size_t i;

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		if (sigaction(caught[i], &sa, NULL) == -1)
			return -1;
	return 0;
}

/* Writes what replies stdout takes within timeout_ms; used at the end. */
static void
flush_replies(struct loop *l, int timeout_ms)
{
	struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };
	long deadline = xio_now_ms() + timeout_ms;

	while (buf_used(&l->out) > 0 && deadline > xio_now_ms()) {
		if (poll(&pfd, 1, (int)(deadline - xio_now_ms())) <= 0 ||
		    (pfd.revents & (POLLERR | POLLNVAL)) ||
		    buf_write_fd(&l->out, STDOUT_FILENO, PIPE_BUF) == -1)
			return;
	}
}

/*
 * The session ends: replies already made still go out (a request file on
 * stdin reaches EOF before stdout is polled), for at most FINAL_FLUSH_MS
 * while the roots are still held; what stdout does not take is counted.
 */
static void
replies_drain(struct loop *l)
{
	const unsigned char *p;
	size_t i, lines = 0;

	flush_replies(l, FINAL_FLUSH_MS);
	for (p = buf_head(&l->out), i = 0; i < buf_used(&l->out); i++)
		lines += p[i] == '\n';
	if (lines > 0)
		warnx("stdout took no more: %zu repl%s unwritten", lines,
		    lines == 1 ? "y" : "ies");
}

static void
close_store(struct loop *l)
{
	if (l->store != NULL)
		store_close(l->store);
	l->store = NULL;
}

/*
 * "lost PATH" for each path the store knows was collected, else "lost":
 * all of them are gone.  Of several stores, the line names the one lost.
 * Returns 0, or -1 if a line could not be queued (ENOMEM).
 */
static int
lost_lines(struct loop *l)
{
	const char *p = l->store->lost, *nl, *name = l->store->failed;
	const char *sep = name != NULL ? " " : "";

	if (name == NULL)
		name = "";
	for (; p != NULL && (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (buf_printf(&l->out, "lost %.*s%s%s\n", (int)(nl - p), p,
		    sep, name) == -1)
			return -1;
	if (l->store->lost == NULL &&
	    buf_printf(&l->out, "lost%s%s\n", sep, name) == -1)
		return -1;
	return 0;
}

/*
 * Out of memory for the lost lines: the line a script waits for must
 * still come.  Once the replies before it are out, "lost" from static
 * storage, in one write after POLLOUT (it is below PIPE_BUF).
 */
static void
lost_line_static(struct loop *l, int timeout_ms)
{
	static const char line[] = "lost\n";
	struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };

	if (buf_used(&l->out) == 0 && poll(&pfd, 1, timeout_ms) == 1 &&
	    (pfd.revents & POLLOUT))
		(void)xio_write(STDOUT_FILENO, line, sizeof(line) - 1);
}

/*
 * The store failed.  Roots it held are gone: say so on stdout ("lost") and
 * on stderr.  With a command running, it runs on and the status waits.
 */
static int
on_store_failure(struct loop *l, int status)
{
	size_t roots = store_roots(l->store);
	int exitcode, queued;

	switch (status) {
	case STORE_UNREACHABLE:	exitcode = KP_EXIT_UNREACHABLE; break;
	case STORE_PROTOCOL:	exitcode = KP_EXIT_PROTOCOL; break;
	case STORE_SYSTEM:	exitcode = KP_EXIT_OSERR; break;
	default:		exitcode = roots > 0 ? KP_EXIT_LOST :
				    KP_EXIT_UNREACHABLE; break;
	}
	warnx("%s", l->store->error);
	if (l->cfg->relay != NULL)
		relay_store_lost(l->cfg->relay);
	if (roots > 0) {
		warnx("LOST %zu root%s: the store no longer protects %s",
		    roots, roots == 1 ? "" : "s",
		    roots == 1 ? "it" : "them");
		if (l->cfg->command == NULL) {
			queued = lost_lines(l) == 0;
			flush_replies(l, FINAL_FLUSH_MS);
			if (!queued)
				lost_line_static(l, FINAL_FLUSH_MS);
		}
	}
	close_store(l);
	if (l->child > 0) {
		l->failed = exitcode;
		return LOOP_GO;
	}
	return exitcode;
}

static int
spawn_command(struct loop *l)
{
	pid_t pid;

	if ((pid = spawn_fork()) == -1) {
		warn("fork");
		return KP_EXIT_OSERR;
	}
	/* The environment here only: the store's children must not see it. */
	if (pid == 0)
		spawn_exec(l->cfg->command, NULL, 0, -1, l->cfg->command_env);
	l->child = pid;
	return LOOP_GO;
}

/* With a command, PATH arguments must all be rooted and valid to run it. */
static int
check_command_paths(struct loop *l)
{
	struct request *r;
	size_t i;
	int refused = 0;

	for (i = 0; i < l->inflight.n; i++) {
		r = &l->inflight.req[i];
		if (r->captured)
			continue;
		if (r->reply == REPLY_MISSING)
			warnx("%s: not valid%s%s", r->path,
			    r->store != NULL ? " on " : "",
			    r->store != NULL ? r->store : "");
		else if (r->reply == REPLY_ERROR)
			warnx("%s: %s%s%s", request_input(r),
			    r->store != NULL ? r->store : "",
			    r->store != NULL ? ": " : "", r->why);
		refused |= r->reply != REPLY_OK;
	}
	return refused ? KP_EXIT_REFUSED : LOOP_GO;
}

/* The replies of the parent's requests, for stdout.  Returns 0/-1. */
static int
format_replies(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->inflight.n; i++)
		if (!l->inflight.req[i].captured &&
		    request_format_reply(&l->out, &l->inflight.req[i],
		    l->cfg->quiet) == -1)
			return -1;
	return 0;
}

static void
heap_trim(void)
{
#ifdef HAVE_MALLOC_TRIM
	(void)malloc_trim(0);
#endif
}

static int
batch_done(struct loop *l)
{
	size_t i;
	int rc = LOOP_GO;

	l->busy = 0;
	if (l->cfg->command != NULL)
		rc = check_command_paths(l);
	else if (format_replies(l) == -1) {
		warn("replies");
		rc = KP_EXIT_OSERR;
	}
	for (i = 0; i < l->inflight.n; i++)
		if (l->inflight.req[i].captured)
			if (relay_answered(l->cfg->relay,
			    &l->inflight.req[i], &l->queued) == -1) {
				warn("capture");
				rc = KP_EXIT_OSERR;
			}
	/* Freed, not kept: a session holding roots for hours should not
	 * keep the high-water mark of its largest batch. */
	l->trim_due |= l->inflight.n >= TRIM_AFTER;
	batch_free(&l->inflight);
	if (l->trim_due && l->queued.n == 0) {
		batch_free(&l->queued);
		heap_trim();
		l->trim_due = 0;
	}
	return rc;
}

/*
 * Queues the request lines read, up to QUEUE_MAX: the rest wait in l->in,
 * unparsed, until a batch makes room.  Returns 0/-1 (ENOMEM).
 */
static int
take_requests(struct loop *l)
{
	return request_take_lines(&l->queued, l->cfg->storedir, &l->in,
	    &l->skipping, QUEUE_MAX);
}

/* Hands the queued requests to the store, or starts the command. */
static int
dispatch(struct loop *l)
{
	int status;

	if (l->store == NULL || l->busy || !store_ready(l->store))
		return LOOP_GO;
	if (l->queued.n == 0) {
		if (l->cfg->command != NULL && l->child == 0)
			return spawn_command(l);
		return LOOP_GO;
	}
	if (batch_move(&l->inflight, &l->queued, BATCH_MAX) == -1) {
		warn("requests");
		return KP_EXIT_OSERR;
	}
	l->ahead_from = l->ahead_from > l->inflight.n ?
	    l->ahead_from - l->inflight.n : 0;
	l->busy = 1;
	l->heard_at = xio_now_ms();
	status = store_start(l->store, &l->inflight);
	if (status == STORE_DONE)
		return batch_done(l);
	return status == STORE_BUSY ? LOOP_GO : on_store_failure(l, status);
}

/*
 * Offers the store the holds queued behind the batch in flight (store.h:
 * ahead), up to the first that is no hold: a drop must find the session's
 * roots as they are when its turn comes.
 */
static int
offer_ahead(struct loop *l)
{
	size_t end = l->ahead_from;
	int status;

	if (l->store == NULL || !l->busy)
		return LOOP_GO;
	while (end < l->queued.n && l->queued.req[end].kind == REQUEST_HOLD)
		end++;
	if (end == l->ahead_from)
		return LOOP_GO;
	status = store_ahead(l->store, &l->queued, l->ahead_from,
	    end);
	l->ahead_from = end;
	return status == STORE_BUSY ? LOOP_GO : on_store_failure(l, status);
}

static int
on_store(struct loop *l, const struct pollfd *pfd)
{
	int status = store_handle(l->store, pfd);

	if (status == STORE_DONE)
		return batch_done(l);
	return status == STORE_BUSY ? LOOP_GO : on_store_failure(l, status);
}

/*
 * The session ends with status rc, normally (the parent or the command is
 * done).  With --print-roots, every captured path is checked once more
 * first, and listed: the loop goes on until that is written.
 */
static int
session_ending(struct loop *l, int rc)
{
	if (l->cfg->relay == NULL || !l->cfg->print_roots ||
	    l->store == NULL || l->ending)
		return rc;
	l->ending = 1;
	l->end_status = rc;
	l->parent_fd = -1;
	relay_stop_listening(l->cfg->relay);
	if (relay_recheck(l->cfg->relay, &l->queued) == -1) {
		warn("requests");
		return KP_EXIT_OSERR;
	}
	return LOOP_GO;
}

/* The end comes once the captured paths' list is written. */
static int
session_ended(struct loop *l)
{
	if (l->ending == 1 && relay_unanswered(l->cfg->relay) == 0) {
		if (relay_print_roots(l->cfg->relay, &l->out,
		    l->cfg->json) == -1) {
			warn("replies");
			return KP_EXIT_OSERR;
		}
		l->ending = 2;
	}
	if (l->ending == 2 && buf_used(&l->out) == 0)
		return l->end_status;
	return LOOP_GO;
}

/* The requests of b from the parent, not captured. */
static size_t
parent_requests(const struct batch *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->n; i++)
		n += !b->req[i].captured;
	return n;
}

/*
 * The parent is gone: release.  Requests it sent that have no reply yet
 * get none; say so, since "keep-paths PATH &" with stdin on /dev/null
 * would otherwise seem to hold PATH.
 */
static int
parent_gone(struct loop *l)
{
	size_t unanswered = request_count_lines(&l->in, l->skipping) +
	    parent_requests(&l->queued) +
	    (l->busy ? parent_requests(&l->inflight) : 0);

	if (unanswered > 0)
		warnx("end of file on fd %d with %zu request%s unanswered: "
		    "nothing is held", l->parent_fd, unanswered,
		    unanswered == 1 ? "" : "s");
	return session_ending(l, KP_EXIT_OK);
}

/*
 * How much to read: no more than the queue has room for, in store paths,
 * so that few lines wait unparsed in l->in once it is full.
 */
static size_t
read_budget(const struct loop *l)
{
	size_t room = QUEUE_MAX - l->queued.n;	/* polled only below it */

	return room < READ_CHUNK / LINE_TYPICAL ? room * LINE_TYPICAL :
	    READ_CHUNK;
}

/* Requests from the parent, or its end: EOF or HUP releases the roots. */
static int
on_parent(struct loop *l, short revents)
{
	ssize_t n;

	if (revents & POLLNVAL) {
		warnx("fd %d: closed under us", l->parent_fd);
		return KP_EXIT_IO;
	}
	if ((revents & POLLIN) == 0)
		return parent_gone(l);		/* HUP with nothing to read */
	if ((n = buf_read_fd(&l->in, l->parent_fd, read_budget(l))) == 0)
		return parent_gone(l);
	if (n == -1) {
		if (errno == EAGAIN)
			return LOOP_GO;
		warn("fd %d", l->parent_fd);
		return KP_EXIT_IO;
	}
	return LOOP_GO;		/* queued at the top of the loop */
}

static int
on_stdout(struct loop *l, short revents)
{
	if (revents & (POLLERR | POLLNVAL)) {
		warnx("stdout: the reader is gone");
		return KP_EXIT_IO;
	}
	if (buf_write_fd(&l->out, STDOUT_FILENO, PIPE_BUF) == -1 &&
	    errno != EAGAIN) {
		warn("stdout");
		return KP_EXIT_IO;
	}
	return LOOP_GO;
}

static int
child_exited(struct loop *l, int wstatus)
{
	l->child = -1;
	if (l->failed)
		return l->failed;
	if (WIFSIGNALED(wstatus))
		return session_ending(l, 128 + WTERMSIG(wstatus));
	return session_ending(l, WEXITSTATUS(wstatus));
}

static int
on_signals(struct loop *l)
{
	unsigned char sigs[64];
	ssize_t n, i;
	int signo, wstatus;

	if ((n = xio_read(sigpipe_fds[0], sigs, sizeof(sigs))) <= 0)
		return LOOP_GO;
	for (i = 0; i < n; i++) {
		signo = sigs[i] & ~SIG_FROM_PROCESS;
		if (signo == SIGCHLD) {
			if (l->cfg->relay != NULL)
				relay_reap(l->cfg->relay);
			if (l->child > 0 &&
			    waitpid(l->child, &wstatus, WNOHANG) == l->child)
				return child_exited(l, wstatus);
			continue;
		}
		if (l->child > 0) {
			/*
			 * The command decides; the roots stay until it ends.
			 * A signal from the terminal reached it already.
			 */
			if (sigs[i] & SIG_FROM_PROCESS)
				kill(l->child, signo);
			continue;
		}
		l->signo = signo;
		return KP_EXIT_OK;
	}
	return LOOP_GO;
}

/* Then the store's pollfds (it may fill in several), and the relay's. */
enum { PFD_SIGNAL, PFD_PARENT, PFD_STDOUT, PFD_STORE,
    PFD_RELAY = PFD_STORE + STORE_POLLFDS_MAX,
    PFD_COUNT = PFD_RELAY + RELAY_POLLFDS };

static void
fill_pollfds(struct loop *l, struct pollfd *pfd)
{
	size_t i;

	memset(pfd, 0, PFD_COUNT * sizeof(*pfd));
	for (i = PFD_STORE; i < PFD_COUNT; i++)
		pfd[i].fd = -1;
	if (l->cfg->relay != NULL)
		relay_pollfd(l->cfg->relay, &pfd[PFD_RELAY],
		    l->queued.n < QUEUE_MAX);
	pfd[PFD_SIGNAL].fd = sigpipe_fds[0];
	pfd[PFD_SIGNAL].events = POLLIN;
	if (l->store != NULL)
		store_pollfd(l->store, &pfd[PFD_STORE]);
	pfd[PFD_PARENT].fd = l->parent_fd;
	pfd[PFD_PARENT].events = l->queued.n < QUEUE_MAX &&
	    buf_used(&l->out) < OUT_MAX ? POLLIN : 0;
	pfd[PFD_STDOUT].fd = buf_used(&l->out) > 0 ? STDOUT_FILENO : -1;
	pfd[PFD_STDOUT].events = POLLOUT;
}

/* When the store's silence with a batch out ends the session, or -1. */
static long
silence_deadline(struct loop *l)
{
	if (l->store == NULL || !l->busy || l->cfg->store_timeout_ms == 0)
		return -1;
	return l->heard_at + l->cfg->store_timeout_ms;
}

/* The store has not yet been ready, and should be by the deadline. */
static int
connecting(struct loop *l)
{
	if (l->store == NULL || l->was_ready)
		return 0;
	l->was_ready = store_ready(l->store);
	return !l->was_ready;
}

/*
 * Milliseconds poll may wait: until the store's wakeup time, until the
 * connect deadline while the store is first connecting, and until its
 * silence deadline.
 */
static int
poll_timeout(struct loop *l, long deadline)
{
	long at = xio_earliest(store_wakeup(l->store), silence_deadline(l));

	if (l->cfg->relay != NULL)
		at = xio_earliest(at, relay_wakeup(l->cfg->relay));
	long left;

	if (connecting(l))
		at = xio_earliest(at, deadline);
	if (at == -1)
		return -1;
	left = at - xio_now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* The store said nothing for --store-timeout with requests out. */
static int
silence_expired(struct loop *l)
{
	store_fail(l->store, STORE_CLOSED, "the store did not answer within "
	    "%d s (--store-timeout)", l->cfg->store_timeout_ms / 1000);
	return on_store_failure(l, STORE_CLOSED);
}

/* One of the store's fds has any of these revents. */
static int
any_store_revents(const struct pollfd *pfd, short mask)
{
	size_t i;

	for (i = PFD_STORE; i < PFD_RELAY; i++)
		if (pfd[i].revents & mask)
			return 1;
	return 0;
}

/* The store sent something, or hung up. */
#define STORE_HEARD	(POLLIN | POLLHUP | POLLERR)

static int
run(struct loop *l)
{
	struct pollfd pfd[PFD_COUNT];
	long deadline = xio_now_ms() + l->cfg->connect_timeout_ms;
	int rc;

	for (;;) {
		if (take_requests(l) == -1) {
			warn("requests");
			return KP_EXIT_OSERR;
		}
		if ((rc = dispatch(l)) != LOOP_GO ||
		    (rc = offer_ahead(l)) != LOOP_GO ||
		    (l->ending && (rc = session_ended(l)) != LOOP_GO))
			return rc;
		fill_pollfds(l, pfd);
		if (poll(pfd, PFD_COUNT, poll_timeout(l, deadline)) == -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			return KP_EXIT_OSERR;
		}
		if (connecting(l) && xio_now_ms() >= deadline) {
			warnx("the store did not answer within %d s",
			    l->cfg->connect_timeout_ms / 1000);
			return KP_EXIT_UNREACHABLE;
		}
		if (pfd[PFD_SIGNAL].revents && (rc = on_signals(l)) != LOOP_GO)
			return rc;
		/* Only the store's bytes count, not its timers or POLLOUT. */
		if (any_store_revents(pfd, STORE_HEARD))
			l->heard_at = xio_now_ms();
		else if (silence_deadline(l) != -1 &&
		    xio_now_ms() >= silence_deadline(l) &&
		    (rc = silence_expired(l)) != LOOP_GO)
			return rc;
		if (l->store != NULL && store_due(l->store, &pfd[PFD_STORE],
		    PFD_RELAY - PFD_STORE) &&
		    (rc = on_store(l, &pfd[PFD_STORE])) != LOOP_GO)
			return rc;
		if (pfd[PFD_PARENT].revents &&
		    (rc = on_parent(l, pfd[PFD_PARENT].revents)) != LOOP_GO)
			return rc;
		if (pfd[PFD_STDOUT].revents &&
		    (rc = on_stdout(l, pfd[PFD_STDOUT].revents)) != LOOP_GO)
			return rc;
		if (l->cfg->relay != NULL && relay_handle(l->cfg->relay,
		    &pfd[PFD_RELAY], &l->queued) == -1) {
			warn("capture");
			return KP_EXIT_OSERR;
		}
	}
}

int
loop_run(struct store *store, struct batch *initial,
    const struct loop_config *cfg, int *signo)
{
	struct loop l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	l.store = store;
	l.parent_fd = cfg->command != NULL ? -1 : cfg->parent_fd;
	if (signals_setup() == -1) {
		warn("signals");
		close_store(&l);
		return KP_EXIT_OSERR;
	}
	if (batch_move(&l.queued, initial, SIZE_MAX) == -1 ||
	    (cfg->greeting != NULL &&
	    buf_printf(&l.out, "%s\n", cfg->greeting) == -1)) {
		warn("requests");
		rc = KP_EXIT_OSERR;
	} else
		rc = run(&l);
	if (cfg->relay != NULL && relay_over(cfg->relay) > 0) {
		warnx("capture: %lu distinct store path%s seen past "
		    "--capture-max %s NOT held", relay_over(cfg->relay),
		    relay_over(cfg->relay) == 1 ? "" : "s",
		    relay_over(cfg->relay) == 1 ? "was" : "were");
		if (rc == KP_EXIT_OK)
			rc = KP_EXIT_LOST;
	}
	replies_drain(&l);
	/* Closing the connection is what releases the roots. */
	close_store(&l);
	batch_free(&l.queued);
	batch_free(&l.inflight);
	buf_free(&l.in);
	buf_free(&l.out);
	*signo = l.signo;
	return rc;
}
