/*
 * transport: a unix socket, or a child's stdin and stdout on a
 * socketpair.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "transport.h"
#include "xio.h"

/* How long a child that did not exit with its stdin closed gets after
 * SIGTERM. */
#define TERM_WAIT_MS	1000
/* How often an exiting child is looked for: SIGCHLD is the loop's. */
#define CHILD_TICK_MS	10

static int
transport_unix_open(struct transport *t, const char *path, char *err,
    size_t errlen)
{
	const char *hint = "";

	t->child = -1;
	t->reaped = 0;
	t->closing = 0;
	t->program[0] = '\0';
	if ((t->fd = xio_connect_unix(path)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			hint = " (is nix-daemon running?)";
		else if (errno == EAGAIN)
			hint = " (the daemon takes no new connections)";
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno), hint);
		return -1;
	}
	return 0;
}

/* In the child: stdin and stdout on sock, signals as a fresh process
 * would have them but for ^C; never returns. */
static void
exec_child(int sock, char *const argv[])
{
	static const int ignored[] = { SIGINT, SIGQUIT };

	spawn_exec(argv, ignored, sizeof(ignored) / sizeof(ignored[0]), sock,
	    NULL);
}

static int
transport_spawn(struct transport *t, char *const argv[], char *err,
    size_t errlen)
{
	int sv[2];

	t->fd = -1;
	t->child = -1;
	t->reaped = 0;
	t->closing = 0;
	strlcpy(t->program, argv[0], sizeof(t->program));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((t->child = spawn_fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (t->child == 0)
		exec_child(sv[1], argv);
	close(sv[1]);
	t->fd = sv[0];
	/* Our end only: the child's stdin and stdout stay blocking. */
	if (xio_set_nonblock(t->fd) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		transport_close(t, 0);
		return -1;
	}
	return 0;
}

int
transport_target_set(struct transport_target *t, const char *socket,
    char *const argv[])
{
	size_t n = 0, i;

	memset(t, 0, sizeof(*t));
	if (socket != NULL)
		return (t->socket = strdup(socket)) == NULL ? -1 : 0;
	while (argv[n] != NULL)
		n++;
	if ((t->argv = calloc(n + 1, sizeof(*t->argv))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((t->argv[i] = strdup(argv[i])) == NULL) {
			transport_target_free(t);
			return -1;
		}
	return 0;
}

int
transport_open(struct transport *t, const struct transport_target *target,
    char *err, size_t errlen)
{
	if (target->socket != NULL)
		return transport_unix_open(t, target->socket, err, errlen);
	return transport_spawn(t, target->argv, err, errlen);
}

void
transport_target_free(struct transport_target *t)
{
	size_t i;

	free(t->socket);
	for (i = 0; t->argv != NULL && t->argv[i] != NULL; i++)
		free(t->argv[i]);
	free(t->argv);
	memset(t, 0, sizeof(*t));
}

int
transport_reaped(struct transport *t)
{
	pid_t pid;

	if (t->child == -1 || t->reaped)
		return 1;
	while ((pid = waitpid(t->child, &t->wstatus, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (pid == t->child || pid == -1) {
		/* ECHILD: someone reaped it for us; it is gone. */
		t->reaped = 1;
		if (pid == -1)
			t->wstatus = 0;
	}
	return t->reaped;
}

/* Reaps the child if it exits within wait_ms.  Returns 1 once reaped. */
static int
reap(struct transport *t, int wait_ms)
{
	struct timespec tick = { 0, CHILD_TICK_MS * 1000000L };
	long deadline = xio_now_ms() + wait_ms;

	while (!transport_reaped(t)) {
		if (xio_now_ms() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
	return 1;
}

/* What ssh's exit statuses usually mean while it connects. */
static const char *
exit_hint(const struct transport *t)
{
	if (strcmp(t->program, "ssh") != 0)
		return "";
	switch (WEXITSTATUS(t->wstatus)) {
	case 255:
		return " (ssh could not connect or log in; see its message)";
	case 127:
		return " (the remote program was not found on the host)";
	default:
		return "";
	}
}

const char *
transport_end(struct transport *t, int wait_ms, int connecting, char *buf,
    size_t len)
{
	if (t->child == -1 || !reap(t, wait_ms))
		snprintf(buf, len, "end of file");
	else if (WIFSIGNALED(t->wstatus))
		snprintf(buf, len, "%s was killed by signal %d", t->program,
		    WTERMSIG(t->wstatus));
	else
		snprintf(buf, len, "%s exited with status %d%s", t->program,
		    WEXITSTATUS(t->wstatus), connecting ? exit_hint(t) : "");
	return buf;
}

/* Drains what the far end still sends until it hangs up. */
static void
await_hangup(int fd, int wait_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	long deadline = xio_now_ms() + wait_ms, left;
	char sink[4096];
	ssize_t n;

	while ((left = deadline - xio_now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) <= 0)
			return;
		if ((n = xio_read(fd, sink, sizeof(sink))) == 0 ||
		    (n == -1 && errno != EAGAIN))
			return;
	}
}

void
transport_close(struct transport *t, int wait_ms)
{
	if (t->fd != -1) {
		if (shutdown(t->fd, SHUT_WR) == 0)
			await_hangup(t->fd, wait_ms);
		close(t->fd);
		t->fd = -1;
	}
	if (t->child == -1 || reap(t, wait_ms))
		return;
	kill(t->child, SIGTERM);
	if (!reap(t, TERM_WAIT_MS)) {
		kill(t->child, SIGKILL);
		while (waitpid(t->child, &t->wstatus, 0) == -1 &&
		    errno == EINTR)
			;
		t->reaped = 1;
	}
}

void
transport_close_start(struct transport *t, int wait_ms)
{
	t->closing = 1;
	t->close_deadline = xio_now_ms() + wait_ms;
	if (t->fd != -1 && shutdown(t->fd, SHUT_WR) == -1) {
		close(t->fd);
		t->fd = -1;
	}
}

/* Reads what the far end still sends; closes the fd at its hang-up. */
static void
drain(struct transport *t)
{
	char sink[4096];
	ssize_t n;

	while ((n = xio_read(t->fd, sink, sizeof(sink))) > 0)
		;
	if (n == 0 || errno != EAGAIN) {
		close(t->fd);
		t->fd = -1;
	}
}

int
transport_close_step(struct transport *t)
{
	long now = xio_now_ms();

	if (t->fd != -1)
		drain(t);
	if (t->fd != -1 && now >= t->close_deadline) {
		close(t->fd);
		t->fd = -1;
	}
	if (t->fd != -1)
		return 0;
	if (transport_reaped(t))
		return 1;
	if (t->closing == 1 && now >= t->close_deadline) {
		kill(t->child, SIGTERM);
		t->closing = 2;
		t->close_deadline = now + TERM_WAIT_MS;
	} else if (t->closing == 2 && now >= t->close_deadline) {
		kill(t->child, SIGKILL);
		t->closing = 3;
	}
	return 0;
}

long
transport_close_wakeup(const struct transport *t)
{
	long tick = xio_now_ms() + CHILD_TICK_MS;

	if (t->fd != -1)
		return t->close_deadline;
	/* The child: looked for each tick, and escalated at the deadline. */
	return t->closing == 3 ? tick : xio_earliest(tick, t->close_deadline);
}
