/*
 * sshcap: the shims' connections and the real ssh processes.
 *
 * A shim sends its message (ssh_shim.h) with its stdin, stdout and stderr.
 * We run the real ssh with the same arguments, environment and working
 * directory, its stderr the shim's, its stdin and stdout our pipes; the
 * client's bytes and ssh's are scanned (sshcap_seen) on their way through.
 * A command line that names store paths is scanned before ssh runs, and
 * ssh waits until they are held on its host.
 *
 * Ends: the client's stdin ends, or its shim is killed (Nix kills its ssh
 * when it is done with a connection): the real ssh's stdin stays open (the
 * remote worker keeps its own temporary roots) until every path seen on
 * the connection is held, then closes; a killed shim's ssh is then
 * terminated too.  When the real ssh exits, its status goes to the shim,
 * which exits with it.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "ssh_shim.h"
#include "sshcap_int.h"
#include "xio.h"

/* A side is not read while this much of it waits to be written on. */
#define PENDING_MAX	(256 * 1024)
/* How long sshcap_close waits for an ssh to exit after SIGTERM. */
#define SSH_WAIT_MS	2000

struct sshcap *
sshcap_open(const struct sshcap_config *cfg, char *err, size_t errlen)
{
	struct sshcap *cap;
	size_t i;

	if ((cap = calloc(1, sizeof(*cap))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	cap->cfg = *cfg;
	cap->listen_fd = -1;
	/* Ours, not the caller's. */
	if ((cap->real_ssh = strdup(cfg->real_ssh)) == NULL ||
	    (cap->self = strdup(cfg->self)) == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		sshcap_close(cap);
		return NULL;
	}
	cap->cfg.real_ssh = cap->real_ssh;
	cap->cfg.self = cap->self;
	for (i = 0; i < SSHCAP_CONNS_MAX; i++)
		cap->conns[i].cap = cap;
	if (asprintf(&cap->sock, "%s/ssh.socket", cfg->dir) == -1 ||
	    asprintf(&cap->shim, "%s/ssh", cfg->dir) == -1) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		sshcap_close(cap);
		return NULL;
	}
	if (sshcap_listen(cap, err, errlen) == -1 ||
	    sshcap_write_shim(cap, err, errlen) == -1) {
		sshcap_close(cap);
		return NULL;
	}
	return cap;
}

void
sshcap_close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/* c is done: both sides closed, its ssh reaped. */
static void
conn_free(struct sshc *c)
{
	size_t i;

	sshcap_close_fd(&c->sock);
	for (i = 0; i < 3; i++)
		sshcap_close_fd(&c->fds[i]);
	sshcap_close_fd(&c->to_ssh);
	sshcap_close_fd(&c->from_ssh);
	buf_free(&c->msg);
	buf_free(&c->path);
	buf_free(&c->to_up);
	buf_free(&c->to_client);
	pathscan_free(&c->from_client);
	pathscan_free(&c->from_up);
	ssh_args_free(&c->args);
	free(c->argv);
	free(c->env);
	c->argv = c->env = NULL;
	c->used = 0;
}

static void
accept_shim(struct sshcap *cap)
{
	struct sshc *c = NULL;
	size_t i;
	int fd;

	for (i = 0; i < SSHCAP_CONNS_MAX && c == NULL; i++)
		if (!cap->conns[i].used)
			c = &cap->conns[i];
	if (c == NULL)
		return;		/* it waits in the backlog */
	if ((fd = accept4(cap->listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return;
	memset(c, 0, sizeof(*c));
	c->cap = cap;
	c->used = 1;
	c->id = ++cap->served;
	c->sock = fd;
	c->fds[0] = c->fds[1] = c->fds[2] = -1;
	c->to_ssh = c->from_ssh = -1;
	pathscan_init(&c->from_client, cap->cfg.storedir);
	pathscan_init(&c->from_up, cap->cfg.storedir);
}

/* In the child: the real ssh, as the client would have run it. */
static void
exec_ssh(struct sshc *c, int in, int out) __attribute__((noreturn));
static void
exec_ssh(struct sshc *c, int in, int out)
{
	spawn_defaults();
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(c->fds[2], STDERR_FILENO) == -1)
		_exit(255);
	closefrom(STDERR_FILENO + 1);
	if (chdir(c->cwd) == -1 && chdir("/") == -1)
		_exit(255);
	execve(c->cap->cfg.real_ssh, c->argv, c->env);
	dprintf(STDERR_FILENO, "ssh: %s: %s\n", c->cap->cfg.real_ssh,
	    strerror(errno));
	_exit(255);
}

/*
 * Whether ssh would ask the host for a terminal on the client's stdin: -t,
 * or a login shell (no command), from a terminal.  Through pipes of ours
 * it would get none (a sudo prompt there fails).
 */
static int
wants_tty(const struct sshc *c)
{
	const struct ssh_args *a = &c->args;

	if (a->master || a->tty == -1 || c->fds[0] == -1 || !isatty(c->fds[0]))
		return 0;
	return a->tty == 1 || a->command == NULL;
}

/*
 * The real ssh on the client's own terminal: not relayed, so only its
 * command line is scanned (its paths are held before it runs).
 */
static int
start_ssh_on_tty(struct sshc *c)
{
	pid_t pid;

	if ((pid = spawn_fork()) == 0)
		exec_ssh(c, c->fds[0], c->fds[1]);
	if (pid == -1)
		return -1;
	c->pid = pid;
	sshcap_close_fd(&c->fds[0]);
	sshcap_close_fd(&c->fds[1]);
	sshcap_close_fd(&c->fds[2]);
	c->client_eof = 1;
	return 0;
}

/* Runs the real ssh on pipes of ours.  Returns 0, or -1: the shim hears
 * 255, as from an ssh that could not run. */
static int
start_ssh(struct sshc *c)
{
	int in[2], out[2];
	pid_t pid;

	if (wants_tty(c))
		return start_ssh_on_tty(c);
	if (pipe2(in, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((pid = spawn_fork()) == 0)
		exec_ssh(c, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid == -1) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	c->pid = pid;
	c->to_ssh = in[1];
	c->from_ssh = out[0];
	xio_set_nonblock(c->to_ssh);
	xio_set_nonblock(c->from_ssh);
	xio_set_nonblock(c->fds[0]);
	xio_set_nonblock(c->fds[1]);
	sshcap_close_fd(&c->fds[2]);	/* ssh has it */
	return 0;
}

/* The message is whole: the host, the command's paths, then ssh. */
static int
conn_start(struct sshcap *cap, struct sshc *c)
{
	struct pathscan scan;

	if (sshcap_parse_message(c) == -1) {
		warnx("capture over ssh: ssh %u: a malformed request from "
		    "its shim", c->id);
		c->wstatus = 255 << 8;
		sshcap_tell_status(c);
		conn_free(c);
		return 0;
	}
	if (sshcap_host_for(cap, c) == -1)
		return -1;
	if (c->args.command != NULL) {
		pathscan_init(&scan, cap->cfg.storedir);
		if (pathscan_feed(&scan, c->args.command,
		    strlen(c->args.command), sshcap_seen, c) == -1) {
			pathscan_free(&scan);
			return -1;
		}
		if (pathscan_end(&scan, sshcap_seen, c) == -1)
			return -1;
	}
	if (cap->cfg.verbose)
		warnx("ssh %u: %s: %s", c->id, c->host != NULL ? c->host->uri :
		    "no host held on", c->args.command != NULL ?
		    c->args.command : "(no command)");
	return sshcap_settle(c);
}

int
sshcap_settle(struct sshc *c)
{
	const struct sshhost *h = c->host;
	int held, n;

	if (!c->used)
		return 0;
	held = sshcap_held(c);
	/* A command's own paths are held before it runs; where the host
	 * cannot hold them, it runs at once (never a client left hanging). */
	if (c->pid == 0 && c->argv != NULL && (h == NULL || h->failed ||
	    h->unheld || c->need <= h->answered)) {
		if (start_ssh(c) == -1) {
			warn("capture over ssh: ssh %u", c->id);
			c->wstatus = 255 << 8;
			sshcap_tell_status(c);
			conn_free(c);
		}
		return 0;
	}
	if (c->pid <= 0 || !held || (!c->client_eof && c->sock != -1))
		return 0;	/* the client is not done with it */
	if (!c->rechecked) {
		c->rechecked = 1;
		if ((n = sshcap_recheck(c)) != 0)
			return n == -1 ? -1 : 0;	/* held once answered */
	}
	if (buf_used(&c->to_up) == 0)
		sshcap_close_fd(&c->to_ssh);
	/* Nix killed its ssh: ours goes too, now that its paths are held. */
	if (c->sock == -1 && !c->ended && c->pid > 0) {
		kill(c->pid, SIGTERM);
		c->ended = 1;
	}
	return 0;
}

void
sshcap_pollfd(struct sshcap *cap, struct pollfd *pfd, int room)
{
	struct sshc *c;
	size_t i, nfree = 0;

	for (i = 0; i < SSHCAP_POLLFDS; i++) {
		pfd[i].fd = -1;
		pfd[i].events = pfd[i].revents = 0;
	}
	for (i = 0; i < SSHCAP_CONNS_MAX; i++) {
		c = &cap->conns[i];
		nfree += !c->used;
		if (!c->used)
			continue;
		pfd[1 + 5 * i].fd = c->sock;
		pfd[1 + 5 * i].events = POLLIN;
		if (c->pid == 0)
			continue;	/* ssh not running yet */
		if (!c->client_eof && buf_used(&c->to_up) < PENDING_MAX &&
		    room && c->to_ssh != -1) {
			pfd[2 + 5 * i].fd = c->fds[0];
			pfd[2 + 5 * i].events = POLLIN;
		}
		if (buf_used(&c->to_client) > 0 && c->fds[1] != -1) {
			pfd[3 + 5 * i].fd = c->fds[1];
			pfd[3 + 5 * i].events = POLLOUT;
		}
		if (buf_used(&c->to_up) > 0 && c->to_ssh != -1) {
			pfd[4 + 5 * i].fd = c->to_ssh;
			pfd[4 + 5 * i].events = POLLOUT;
		}
		if (c->from_ssh != -1 && buf_used(&c->to_client) <
		    PENDING_MAX && room) {
			pfd[5 + 5 * i].fd = c->from_ssh;
			pfd[5 + 5 * i].events = POLLIN;
		}
	}
	if (cap->listen_fd != -1 && nfree > 0) {
		pfd[0].fd = cap->listen_fd;
		pfd[0].events = POLLIN;
	}
}

/* Writes what waits in from to fd.  Returns 0, or -1: fd is gone. */
static int
flush(struct buf *from, int fd)
{
	if (buf_write_fd(from, fd, SIZE_MAX) == -1 && errno != EAGAIN)
		return -1;
	return 0;
}

/* The shim's socket: nothing more should come but its end. */
static void
shim_event(struct sshc *c)
{
	char byte;

	if (xio_read(c->sock, &byte, 1) == -1 && errno == EAGAIN)
		return;
	/* Its end: Nix killed its ssh.  What it wrote stays ours. */
	sshcap_close_fd(&c->sock);
}

/*
 * c is done once its ssh is reaped and all it said is out (or has nowhere
 * to go): the shim hears how it ended, as ssh's own exit would tell.
 */
static void
conn_done(struct sshc *c)
{
	if (!c->used || c->pid != -1 || c->from_ssh != -1 ||
	    c->fds[1] != -1)
		return;
	sshcap_tell_status(c);
	conn_free(c);
}

/* c's bytes, both ways.  Returns 0, or -1 (ENOMEM). */
static int
conn_io(struct sshc *c, const struct pollfd *pfd)
{
	int rc;

	if (pfd[1].revents && c->fds[0] != -1 &&
	    (rc = pathscan_read(&c->from_client, c->fds[0], &c->to_up,
	    sshcap_seen, c)) <= -1) {
		if (rc == -2)
			return -1;
		c->client_eof = 1;
		sshcap_close_fd(&c->fds[0]);
		if (pathscan_end(&c->from_client, sshcap_seen, c) == -1)
			return -1;
		pathscan_init(&c->from_client, c->cap->cfg.storedir);
	}
	if (pfd[3].revents && flush(&c->to_up, c->to_ssh) == -1) {
		buf_free(&c->to_up);
		sshcap_close_fd(&c->to_ssh);
	}
	if (pfd[4].revents && c->from_ssh != -1 &&
	    (rc = pathscan_read(&c->from_up, c->from_ssh, &c->to_client,
	    sshcap_seen, c)) <= -1) {
		if (rc == -2)
			return -1;
		sshcap_close_fd(&c->from_ssh);
		if (pathscan_end(&c->from_up, sshcap_seen, c) == -1)
			return -1;
		pathscan_init(&c->from_up, c->cap->cfg.storedir);
	}
	if (c->fds[1] == -1)
		buf_free(&c->to_client);	/* scanned; nobody to read it */
	if (pfd[2].revents && flush(&c->to_client, c->fds[1]) == -1) {
		/* The client is gone: what ssh says goes nowhere. */
		buf_free(&c->to_client);
		sshcap_close_fd(&c->fds[1]);
	}
	/* ssh's output is all out: the client sees its end. */
	if (c->from_ssh == -1 && buf_used(&c->to_client) == 0)
		sshcap_close_fd(&c->fds[1]);
	return 0;
}

int
sshcap_handle(struct sshcap *cap, const struct pollfd *pfd,
    struct batch *queued)
{
	struct sshc *c;
	size_t i;
	int rc = 0, got;

	cap->queued = queued;
	for (i = 0; i < SSHCAP_CONNS_MAX && rc == 0; i++) {
		c = &cap->conns[i];
		if (!c->used)
			continue;
		if (pfd[1 + 5 * i].revents && c->argv == NULL) {
			if ((got = sshcap_read_message(c)) == -1)
				conn_free(c);
			else if (got == 1)
				rc = conn_start(cap, c);
			continue;
		}
		if (pfd[1 + 5 * i].revents)
			shim_event(c);
		if (c->pid == 0 && c->sock == -1) {
			conn_free(c);	/* killed before its ssh ran */
			continue;
		}
		if (c->pid != 0 && conn_io(c, &pfd[1 + 5 * i]) == -1)
			rc = -1;
		if (rc == 0)
			rc = sshcap_settle(c);
		conn_done(c);
	}
	if (rc == 0 && pfd[0].revents)
		accept_shim(cap);
	cap->queued = NULL;
	return rc;
}

void
sshcap_reap(struct sshcap *cap)
{
	struct sshc *c;
	size_t i;

	for (i = 0; i < SSHCAP_CONNS_MAX; i++) {
		c = &cap->conns[i];
		if (!c->used || c->pid <= 0 ||
		    waitpid(c->pid, &c->wstatus, WNOHANG) != c->pid)
			continue;
		c->pid = -1;
		conn_done(c);
	}
}

/* Ends the ssh processes still running: SIGTERM, a while, SIGKILL. */
static void
end_all(struct sshcap *cap)
{
	long deadline = xio_now_ms() + SSH_WAIT_MS;
	struct sshc *c;
	size_t i, left;

	for (i = 0; i < SSHCAP_CONNS_MAX; i++) {
		c = &cap->conns[i];
		sshcap_close_fd(&c->to_ssh);
		if (c->used && c->pid > 0)
			kill(c->pid, SIGTERM);
	}
	do {
		left = 0;
		for (i = 0; i < SSHCAP_CONNS_MAX; i++) {
			c = &cap->conns[i];
			if (!c->used || c->pid <= 0)
				continue;
			if (waitpid(c->pid, &c->wstatus, WNOHANG) == c->pid) {
				c->pid = -1;
				sshcap_tell_status(c);
			} else if (xio_now_ms() >= deadline) {
				kill(c->pid, SIGKILL);
				(void)waitpid(c->pid, &c->wstatus, 0);
				c->pid = -1;
				sshcap_tell_status(c);
			} else
				left++;
		}
		if (left > 0)
			poll(NULL, 0, 10);
	} while (left > 0);
}

void
sshcap_close(struct sshcap *cap)
{
	size_t i;

	if (cap == NULL)
		return;
	end_all(cap);
	for (i = 0; i < SSHCAP_CONNS_MAX; i++)
		if (cap->conns[i].used)
			conn_free(&cap->conns[i]);
	sshcap_close_fd(&cap->listen_fd);
	if (cap->sock != NULL)
		(void)unlinkat(cap->cfg.dir_fd, "ssh.socket", 0);
	if (cap->shim != NULL)
		(void)unlinkat(cap->cfg.dir_fd, "ssh", 0);
	sshcap_hosts_free(cap);
	free(cap->real_ssh);
	free(cap->self);
	free(cap->sock);
	free(cap->shim);
	free(cap);
}
