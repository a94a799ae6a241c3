/*
 * loop: the lifetime of a keep-paths session.
 *
 * A request line travels: read() from the parent into l->in (loop_io.c),
 * split into requests (batch_take_lines) onto l->queued while it has
 * room, moved as one batch to l->inflight and submitted to the store
 * (loop_store.c); when the store says STORE_DONE every request has its
 * reply, formatted in order into l->out, and written to stdout when poll()
 * says it can take them (loop_io.c).
 *
 * This file is the loop itself: what to poll and for how long, which
 * source is due, signals, the command of "-- COMMAND", and the end.
 */
#include "config.h"

#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "loop_int.h"
#include "spawn.h"
#include "xio.h"

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

int
loop_spawn_command(struct loop *l)
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

/*
 * The session ends with status rc, normally (the parent or the command is
 * done).  With --print-roots, every captured path is checked once more
 * first, and listed: the loop goes on until that is written.
 */
int
loop_ending(struct loop *l, int rc)
{
	if (l->cfg->relay == NULL || !l->cfg->print_roots ||
	    l->core == NULL || l->ending)
		return rc;
	l->ending = 1;
	l->end_status = rc;
	l->parent_fd = -1;
	if (relay_end(l->cfg->relay, &l->queued) == -1 ||
	    (l->cfg->sshcap != NULL && sshcap_end(l->cfg->sshcap,
	    &l->queued) == -1)) {
		warn("requests");
		return KP_EXIT_OSERR;
	}
	return LOOP_GO;
}

/*
 * The end comes once capture's list of paths is written: the daemon
 * relay's, then each host's; with hosts, every line names its store.
 */
static int
session_ended(struct loop *l)
{
	struct sshcap *cap = l->cfg->sshcap;
	int hosts = cap != NULL && sshcap_seen_any(cap), rc;

	if (cap != NULL && !sshcap_end_answered(cap))
		return LOOP_GO;	/* a host's replies are awaited */
	rc = relay_end_listed(l->cfg->relay, &l->out, l->cfg->json,
		    hosts ? "local" : NULL);
	if (rc == 1 && cap != NULL)
		rc = sshcap_end_listed(cap, &l->out, l->cfg->json);
	switch (rc) {
	case -1:
		warn("replies");
		return KP_EXIT_OSERR;
	case 0:
		return LOOP_GO;
	}
	return buf_used(&l->out) == 0 ? l->end_status : LOOP_GO;
}

static int
child_exited(struct loop *l, int wstatus)
{
	l->child = -1;
	if (l->failed)
		return l->failed;
	if (WIFSIGNALED(wstatus))
		return loop_ending(l, 128 + WTERMSIG(wstatus));
	return loop_ending(l, WEXITSTATUS(wstatus));
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
			if (l->cfg->sshcap != NULL)
				sshcap_reap(l->cfg->sshcap);
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

/* Then the stores' pollfds, the relay's, and capture over ssh's. */
enum { PFD_SIGNAL, PFD_PARENT, PFD_STDOUT, PFD_STORE,
    PFD_RELAY = PFD_STORE + CORE_POLLFDS,
    PFD_SSH = PFD_RELAY + RELAY_POLLFDS,
    PFD_COUNT = PFD_SSH + SSHCAP_POLLFDS };

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
	if (l->cfg->sshcap != NULL)
		sshcap_pollfd(l->cfg->sshcap, &pfd[PFD_SSH],
		    l->queued.n < QUEUE_MAX);
	pfd[PFD_SIGNAL].fd = sigpipe_fds[0];
	pfd[PFD_SIGNAL].events = POLLIN;
	if (l->core != NULL)
		core_pollfd(l->core, &pfd[PFD_STORE]);
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
	if (l->core == NULL || !l->busy || l->cfg->store_timeout_ms == 0)
		return -1;
	return l->heard_at + l->cfg->store_timeout_ms;
}

/* The store has not yet been ready, and should be by the deadline. */
static int
connecting(struct loop *l)
{
	if (l->core == NULL || l->was_ready)
		return 0;
	l->was_ready = core_ready(l->core);
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
	long at = xio_earliest(l->core != NULL ? core_wakeup(l->core) : -1,
	    silence_deadline(l));

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
	core_fail(l->core, STORE_CLOSED, "the store did not answer within "
	    "%d s (--store-timeout)", l->cfg->store_timeout_ms / 1000);
	return loop_store_failed(l, STORE_CLOSED);
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
		if (loop_store_take(l) == -1) {
			warn("requests");
			return KP_EXIT_OSERR;
		}
		if ((rc = loop_store_dispatch(l)) != LOOP_GO ||
		    (rc = loop_store_offer_ahead(l)) != LOOP_GO ||
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
		if (l->core != NULL && core_due(l->core, &pfd[PFD_STORE]) &&
		    (rc = loop_store_handle(l, &pfd[PFD_STORE])) != LOOP_GO)
			return rc;
		if (pfd[PFD_PARENT].revents &&
		    (rc = loop_io_parent(l, pfd[PFD_PARENT].revents)) != LOOP_GO)
			return rc;
		if (pfd[PFD_STDOUT].revents &&
		    (rc = loop_io_stdout(l, pfd[PFD_STDOUT].revents)) != LOOP_GO)
			return rc;
		if (l->cfg->relay != NULL && relay_handle(l->cfg->relay,
		    &pfd[PFD_RELAY], &l->queued) == -1) {
			warn("capture");
			return KP_EXIT_OSERR;
		}
		if (l->cfg->sshcap != NULL && sshcap_handle(l->cfg->sshcap,
		    &pfd[PFD_SSH], &l->queued) == -1) {
			warn("capture over ssh");
			return KP_EXIT_OSERR;
		}
	}
}

int
loop_run(struct core *core, struct batch *initial,
    const struct loop_config *cfg, int *signo)
{
	struct loop l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	l.core = core;
	l.parent_fd = cfg->command != NULL ? -1 : cfg->parent_fd;
	if (signals_setup() == -1) {
		warn("signals");
		loop_store_close(&l);
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
	if (cfg->sshcap != NULL && sshcap_partial(cfg->sshcap) &&
	    rc == KP_EXIT_OK)
		rc = KP_EXIT_PARTIAL;
	loop_io_drain(&l);
	/* Closing the connection is what releases the roots. */
	loop_store_close(&l);
	batch_free(&l.queued);
	batch_free(&l.inflight);
	buf_free(&l.in);
	buf_free(&l.out);
	*signo = l.signo;
	return rc;
}
