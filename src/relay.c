/*
 * relay: capture mode's private daemon socket.
 *
 * A client's bytes travel: read() from its socket, scanned for store
 * paths (each new one becomes a captured request on the session's queue
 * before the bytes go on), then written to its upstream connection; the
 * upstream's bytes come back the same way.  A path is thus queued for the
 * session's roots before the worker acts on it, or before the client
 * learns of it.
 *
 * Every path seen gets a sequence number when it is queued; replies come
 * back in queue order, so "answered" counts how far the session's roots
 * reach.  A connection whose client is gone keeps its upstream (and the
 * daemon worker's own temporary roots) until answered reaches the last
 * number seen on it.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pathscan.h"
#include "relay.h"
#include "relay_int.h"
#include "storepath.h"
#include "xio.h"

/* A side is not read while this much of it waits to be written on. */
#define PENDING_MAX	(256 * 1024)
#define IO_CHUNK	65536
/* accept() found no free fd: try again after this long. */
#define ACCEPT_PAUSE_MS	100
/* The daemon's backlog is full: connect to it again after this long. */
#define UPSTREAM_BUSY_MS	20
/* How long relay_close waits for a "nix-daemon --stdio" to exit. */
#define CHILD_WAIT_MS	2000

struct relay *
relay_open(const char *storedir, const struct transport_target *upstream,
    int verbose, size_t max_seen, char *err, size_t errlen)
{
	struct relay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	r->storedir = storedir;
	r->verbose = verbose;
	r->max_seen = max_seen;
	r->listen_fd = -1;
	r->base_fd = r->dir_fd = -1;
	r->paused_until = -1;
	if (transport_target_set(&r->upstream, upstream->socket,
	    upstream->argv) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		relay_close(r);
		return NULL;
	}
	if (relay_dir_make(r, err, errlen) == -1 || relay_dir_listen(r, err, errlen) == -1) {
		relay_close(r);
		return NULL;
	}
	return r;
}

const char *
relay_socket(const struct relay *r)
{
	return r->sock;
}

const char *
relay_directory(const struct relay *r, int *fd)
{
	*fd = r->dir_fd;
	return r->dir;
}

/* A "nix-daemon --stdio" of a closed connection, reaped when it exits. */
static void
child_closing(struct relay *r, pid_t pid)
{
	pid_t *grown;

	if (pid == -1)
		return;
	grown = reallocarray(r->children, r->nchildren + 1, sizeof(*grown));
	if (grown == NULL) {
		/* Reaped at once rather than lost track of. */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		return;
	}
	r->children = grown;
	r->children[r->nchildren++] = pid;
	/* It may have exited, its SIGCHLD come and gone, before we knew. */
	relay_reap(r);
}

/*
 * Closes c's upstream: its worker exits, dropping its own temporary
 * roots, which the session's now cover.  Frees c once both sides are gone.
 */
static void
conn_close_up(struct relay *r, struct conn *c)
{
	if (c->up.fd != -1) {
		close(c->up.fd);
		c->up.fd = -1;
		child_closing(r, c->up.child);
		if (r->verbose)
			warnx("client %u: upstream closed", c->id);
	}
	if (c->client != -1)
		return;
	buf_free(&c->to_up);
	buf_free(&c->to_client);
	pathscan_free(&c->from_client);
	pathscan_free(&c->from_up);
	c->used = 0;
}

/* The upstream may close once every path seen on c is held. */
void
relay_conn_settle(struct relay *r, struct conn *c)
{
	if (c->used && c->client == -1 && (c->up.fd == -1 || r->lost ||
	    (!r->unheld && c->need <= r->answered)))
		conn_close_up(r, c);
}

/*
 * c's client is gone (or must go): what its scans still hold is decided,
 * and its upstream stays until that is held.  Returns 0/-1 (ENOMEM).
 */
static int
conn_close_client(struct relay *r, struct conn *c, const char *why)
{
	int rc;

	if (r->verbose)
		warnx("client %u: %s", c->id, why);
	close(c->client);
	c->client = -1;
	rc = pathscan_end(&c->from_client, relay_seen_path, c);
	if (pathscan_end(&c->from_up, relay_seen_path, c) == -1)
		rc = -1;
	relay_conn_settle(r, c);
	return rc;
}

/*
 * A gone client's upstream kept only because some path could not be held
 * (every path seen on it is answered): its slot may go to a new client,
 * who would otherwise wait for the end of the session.  The oldest, or
 * NULL.
 */
static struct conn *
evictable(struct relay *r)
{
	struct conn *c, *oldest = NULL;
	size_t i;

	for (i = 0; i < RELAY_CLIENTS_MAX; i++) {
		c = &r->conns[i];
		if (c->used && c->client == -1 && c->up.fd != -1 &&
		    c->need <= r->answered &&
		    (oldest == NULL || c->id < oldest->id))
			oldest = c;
	}
	return oldest;
}

/*
 * Takes the next client, its upstream connection first: while the daemon's
 * own backlog is full, clients wait in ours, as they would in its.
 */
static void
accept_client(struct relay *r)
{
	char err[512];
	struct conn *c = NULL;
	size_t i;
	int fd, failed;

	for (i = 0; i < RELAY_CLIENTS_MAX && c == NULL; i++)
		if (!r->conns[i].used)
			c = &r->conns[i];
	if (c == NULL && (c = evictable(r)) != NULL) {
		warnx("client %u: its daemon connection closed for a new "
		    "client: what it held that we could not is held no more",
		    c->id);
		conn_close_up(r, c);
	}
	if (c == NULL)
		return;		/* it waits in the backlog */
	if ((failed = transport_open(&c->up, &r->upstream, err,
	    sizeof(err))) == -1 && errno == EAGAIN) {
		r->paused_until = xio_now_ms() + UPSTREAM_BUSY_MS;
		return;
	}
	if ((fd = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			warn("%s: accept", r->sock);
			r->paused_until = xio_now_ms() + ACCEPT_PAUSE_MS;
		}
		/* EAGAIN, ECONNABORTED: nobody to take after all. */
		if (failed == 0) {
			close(c->up.fd);
			child_closing(r, c->up.child);
		}
		return;
	}
	if (failed == -1) {
		/* The client sees its connection end, and Nix says so. */
		warnx("client %u: %s", ++r->served, err);
		close(fd);
		return;
	}
	memset(&c->to_up, 0, sizeof(c->to_up));
	memset(&c->to_client, 0, sizeof(c->to_client));
	pathscan_init(&c->from_client, r->storedir);
	pathscan_init(&c->from_up, r->storedir);
	c->relay = r;
	c->used = 1;
	c->id = ++r->served;
	c->client = fd;
	c->need = 0;
	if (r->verbose)
		warnx("client %u: connected", c->id);
}

void
relay_pollfd(struct relay *r, struct pollfd *pfd, int room)
{
	struct conn *c;
	size_t i, nfree = 0;

	for (i = 0; i < RELAY_POLLFDS; i++) {
		pfd[i].fd = -1;
		pfd[i].events = pfd[i].revents = 0;
	}
	for (i = 0; i < RELAY_CLIENTS_MAX; i++) {
		c = &r->conns[i];
		nfree += !c->used;
		if (!c->used)
			continue;
		/* A gone client's upstream: watched for its end, to free
		 * the slot; what it still says goes nowhere. */
		if (c->client == -1) {
			pfd[2 + 2 * i].fd = c->up.fd;
			pfd[2 + 2 * i].events = POLLIN;
			continue;
		}
		pfd[1 + 2 * i].fd = c->client;
		if (c->up.fd != -1 && buf_used(&c->to_up) < PENDING_MAX &&
		    room)
			pfd[1 + 2 * i].events |= POLLIN;
		if (buf_used(&c->to_client) > 0)
			pfd[1 + 2 * i].events |= POLLOUT;
		if (c->up.fd == -1)
			continue;
		pfd[2 + 2 * i].fd = c->up.fd;
		if (buf_used(&c->to_client) < PENDING_MAX && room)
			pfd[2 + 2 * i].events |= POLLIN;
		if (buf_used(&c->to_up) > 0)
			pfd[2 + 2 * i].events |= POLLOUT;
	}
	/* With no slot to give, clients wait in the backlog, unpolled. */
	if (r->listen_fd != -1 && r->paused_until == -1 &&
	    (nfree > 0 || evictable(r) != NULL)) {
		pfd[0].fd = r->listen_fd;
		pfd[0].events = POLLIN;
	}
}

long
relay_wakeup(struct relay *r)
{
	return r->paused_until;
}

/* "end of file", or the error. */
static const char *
end_reason(void)
{
	return errno == 0 ? "end of file" : strerror(errno);
}

/* The upstream ended: the client gets what it sent, then its end. */
static void
conn_up_gone(struct relay *r, struct conn *c)
{
	if (r->verbose)
		warnx("client %u: upstream: %s", c->id, end_reason());
	close(c->up.fd);
	c->up.fd = -1;
	child_closing(r, c->up.child);
}

/*
 * A gone client's upstream said something, or ended: the bytes are
 * dropped (nobody is there to read them), and its end frees the slot.
 */
static void
conn_drain_up(struct relay *r, struct conn *c)
{
	unsigned char chunk[IO_CHUNK];
	ssize_t n;

	if ((n = xio_read(c->up.fd, chunk, sizeof(chunk))) > 0 ||
	    (n == -1 && errno == EAGAIN))
		return;
	if (r->verbose)
		warnx("client %u: upstream: %s", c->id, n == 0 ?
		    "end of file" : strerror(errno));
	conn_close_up(r, c);
}

/* Moves c's bytes as poll() allows.  Returns 0/-1 (ENOMEM). */
static int
conn_handle(struct relay *r, struct conn *c, short cev, short uev)
{
	char why[128];
	int n;

	if (cev & POLLNVAL || uev & POLLNVAL)
		return conn_close_client(r, c, "fd closed under us");
	if (cev & (POLLIN | POLLHUP | POLLERR) && c->up.fd != -1) {
		if ((n = pathscan_read(&c->from_client, c->client, &c->to_up,
		    relay_seen_path, c)) == -2)
			return -1;
		if (n == -1) {
			snprintf(why, sizeof(why), "closed (%s)", end_reason());
			return conn_close_client(r, c, why);
		}
	}
	if (uev & (POLLIN | POLLHUP | POLLERR)) {
		if ((n = pathscan_read(&c->from_up, c->up.fd, &c->to_client,
		    relay_seen_path, c)) == -2)
			return -1;
		if (n == -1)
			conn_up_gone(r, c);
	}
	if (uev & POLLOUT && c->up.fd != -1 &&
	    buf_write_fd(&c->to_up, c->up.fd, IO_CHUNK) == -1 &&
	    errno != EAGAIN)
		conn_up_gone(r, c);
	if (cev & POLLOUT && buf_write_fd(&c->to_client, c->client,
	    IO_CHUNK) == -1 && errno != EAGAIN) {
		snprintf(why, sizeof(why), "closed (%s)", strerror(errno));
		return conn_close_client(r, c, why);
	}
	if (c->up.fd == -1 && buf_used(&c->to_client) == 0)
		return conn_close_client(r, c, "upstream gone");
	return 0;
}

int
relay_handle(struct relay *r, const struct pollfd *pfd, struct batch *queued)
{
	size_t i;
	int rc = 0;

	r->queued = queued;
	if (r->paused_until != -1 && xio_now_ms() >= r->paused_until)
		r->paused_until = -1;
	for (i = 0; i < RELAY_CLIENTS_MAX && rc == 0; i++) {
		if (!r->conns[i].used)
			continue;
		if (r->conns[i].client == -1) {
			if (pfd[2 + 2 * i].revents)
				conn_drain_up(r, &r->conns[i]);
		} else if (pfd[1 + 2 * i].revents || pfd[2 + 2 * i].revents)
			rc = conn_handle(r, &r->conns[i], pfd[1 + 2 * i].revents,
			    pfd[2 + 2 * i].revents);
	}
	/* After the clients: a slot freed above is taken at once. */
	if (rc == 0 && pfd[0].revents & POLLIN)
		accept_client(r);
	r->queued = NULL;
	return rc;
}

void
relay_reap(struct relay *r)
{
	size_t i = 0;
	pid_t pid;

	while (i < r->nchildren) {
		pid = waitpid(r->children[i], NULL, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == EINTR)) {
			i++;
			continue;
		}
		r->children[i] = r->children[--r->nchildren];
	}
}

void
relay_stop_listening(struct relay *r)
{
	if (r->listen_fd != -1)
		close(r->listen_fd);
	r->listen_fd = -1;
	if (r->sock[0] != '\0' && r->dir_fd != -1 &&
	    unlinkat(r->dir_fd, "socket", 0) == -1 && errno != ENOENT)
		warn("%s", r->sock);
	r->sock[0] = '\0';
}

/* Waits, boundedly, for the closed children; kills what is left. */
static void
children_finish(struct relay *r)
{
	long deadline = xio_now_ms() + CHILD_WAIT_MS;
	size_t i;

	while (r->nchildren > 0 && xio_now_ms() < deadline) {
		relay_reap(r);
		if (r->nchildren > 0)
			usleep(10000);
	}
	for (i = 0; i < r->nchildren; i++) {
		kill(r->children[i], SIGKILL);
		while (waitpid(r->children[i], NULL, 0) == -1 &&
		    errno == EINTR)
			;
	}
	r->nchildren = 0;
}

void
relay_close(struct relay *r)
{
	struct conn *c;
	size_t i;

	if (r == NULL)
		return;
	relay_stop_listening(r);
	for (i = 0; i < RELAY_CLIENTS_MAX; i++) {
		c = &r->conns[i];
		if (!c->used)
			continue;
		if (c->client != -1)
			close(c->client);
		c->client = -1;
		conn_close_up(r, c);
	}
	children_finish(r);
	free(r->children);
	relay_dir_remove(r);
	relay_seen_free(r);
	transport_target_free(&r->upstream);
	free(r);
}
