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

/* A path seen in the relayed traffic. */
struct seen {
	char		*path;
	unsigned long	 seq;		/* of its last captured request */
	enum reply_kind	 reply;		/* its last reply */
};

struct conn {
	struct relay	*relay;
	int		 used;
	unsigned	 id;		/* for messages: 1, 2, ... */
	int		 client;	/* -1 once gone */
	struct transport up;		/* up.fd -1 once closed */
	struct buf	 to_up;
	struct buf	 to_client;
	struct pathscan	 from_client;
	struct pathscan	 from_up;
	unsigned long	 need;		/* the last seq seen on it */
};

struct relay {
	const char	*storedir;
	struct transport_target upstream;
	int		 verbose;
	const char	*base;		/* where the directory is made */
	int		 base_fd;	/* -1: none */
	char		 name[32];	/* the directory's, in base */
	int		 dir_fd;	/* -1: none */
	dev_t		 dir_dev;
	ino_t		 dir_ino;
	char		 sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 listen_fd;	/* -1 once no more clients are taken */
	long		 paused_until;	/* -1, or accept() ran out of fds */
	struct conn	 conns[RELAY_CLIENTS_MAX];
	unsigned	 served;	/* clients ever */
	void		*tree;		/* tsearch(3) tree of struct seen */
	struct seen	**seen;		/* all of them, for listing and freeing */
	size_t		 nseen;
	size_t		 capseen;
	unsigned long	 submitted;	/* captured requests queued */
	unsigned long	 answered;	/* ... that have their reply */
	int		 unheld;	/* a path could not be held */
	int		 lost;		/* the session's store is gone */
	size_t		 max_seen;	/* distinct paths held at most */
	unsigned long	 over;		/* paths seen past max_seen */
	pid_t		*children;	/* closed "nix-daemon --stdio"s */
	size_t		 nchildren;
	struct batch	*queued;	/* during relay_handle */
};

static int
seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->path,
	    ((const struct seen *)b)->path);
}

static struct seen *
seen_find(struct relay *r, const char *path)
{
	struct seen key, **found;

	key.path = (char *)path;
	found = tfind(&key, &r->tree, seen_cmp);
	return found != NULL ? *found : NULL;
}

/* Queues a captured request for s, the newest number.  Returns 0/-1. */
static int
seen_submit(struct relay *r, struct seen *s, struct batch *queued)
{
	if (request_add_captured(queued, s->path) == -1)
		return -1;
	s->seq = ++r->submitted;
	s->reply = REPLY_PENDING;
	return 0;
}

/* Adds path to the seen set, queued.  Returns it, or NULL (ENOMEM). */
static struct seen *
seen_add(struct relay *r, const char *path)
{
	struct seen *s, **grown;
	size_t cap;

	if (r->nseen == r->capseen) {
		cap = r->capseen == 0 ? 64 : r->capseen * 2;
		if ((grown = reallocarray(r->seen, cap, sizeof(*grown))) ==
		    NULL)
			return NULL;
		r->seen = grown;
		r->capseen = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->path = strdup(path)) == NULL ||
	    tsearch(s, &r->tree, seen_cmp) == NULL) {
		free(s->path);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	r->seen[r->nseen++] = s;
	return seen_submit(r, s, r->queued) == 0 ? s : NULL;
}


/*
 * A path seen on client's connection (0: a derivation's output): *out is
 * its entry, queued if new, or NULL if it is not held (the store is lost,
 * or --capture-max is reached).  Returns 0, or -1 (ENOMEM).
 */
static int
seen_note(struct relay *r, const char *path, size_t len, unsigned client,
    struct seen **out)
{
	char copy[PATH_MAX];
	struct seen *s;

	*out = NULL;
	if (len >= sizeof(copy))
		return 0;	/* cannot be one: no store path is this long */
	memcpy(copy, path, len);
	copy[len] = '\0';
	if ((s = seen_find(r, copy)) == NULL) {
		if (r->lost)
			return 0;	/* nothing holds paths any more */
		if (r->nseen >= r->max_seen) {
			if (r->over++ == 0)
				warnx("capture: more than %zu distinct store "
				    "paths seen (--capture-max): %s and every "
				    "further new one are NOT held", r->max_seen,
				    copy);
			return 0;
		}
		if ((s = seen_add(r, copy)) == NULL)
			return -1;
		if (r->verbose && client > 0)
			warnx("client %u: %s", client, copy);
		else if (r->verbose)
			warnx("derivation output: %s", copy);
	}
	*out = s;
	return 0;
}

/* pathscan_found: a path in c's traffic, queued if new; c needs it. */
static int
on_path(void *arg, const char *path, size_t len)
{
	struct conn *c = arg;
	struct seen *s;

	if (seen_note(c->relay, path, len, c->id, &s) == -1)
		return -1;
	if (s != NULL && s->seq > c->need)
		c->need = s->seq;
	return 0;
}

/*
 * Can the base directory open at fd hold our private directory?  Only if
 * nobody else can rename or replace what we make in it: owned by us or
 * by root, and writable by others only with the sticky bit (/tmp).  Root
 * with a user's XDG_RUNTIME_DIR (su without -, sudo -E) must not make its
 * socket where that user can swap it for a link.  Returns NULL if it
 * can, else why not.
 */
static const char *
base_unsafe(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return "owned by another user";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st.st_mode & S_ISVTX) == 0)
		return "writable by others, and not sticky";
	return NULL;
}

/*
 * Opens the base: the first of $XDG_RUNTIME_DIR, $TMPDIR and /tmp that is
 * set, or the next one if that is not safe (base_unsafe).  A base that is
 * set and cannot be opened is an error, as it is for the user's Nix.
 */
static int
open_base(struct relay *r, char *err, size_t errlen)
{
	const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"),
	    "/tmp" };
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (bases[i] == NULL || *bases[i] != '/')
			continue;
		if ((r->base_fd = open(bases[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s: cannot make the socket's "
			    "directory: %s", bases[i], strerror(errno));
			return -1;
		}
		if ((why = base_unsafe(r->base_fd)) == NULL) {
			r->base = bases[i];
			return 0;
		}
		close(r->base_fd);
		r->base_fd = -1;
		if (r->verbose)
			warnx("%s: not used for the capture socket: %s",
			    bases[i], why);
		snprintf(err, errlen, "%s: not used for the capture socket: "
		    "%s", bases[i], why);
	}
	return -1;
}

/*
 * The socket's directory: mode 0700, made under the base's fd and kept
 * open, so that the end removes what we made, by identity, and nothing
 * that a link put in its place leads to.
 */
static int
make_dir(struct relay *r, char *err, size_t errlen)
{
	struct stat st;
	int tries;

	if (open_base(r, err, errlen) == -1)
		return -1;
	for (tries = 0; tries < 100; tries++) {
		snprintf(r->name, sizeof(r->name), "keep-paths.%08x",
		    arc4random());
		if (mkdirat(r->base_fd, r->name, 0700) == 0)
			break;
		if (errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot make the socket's "
			    "directory: %s", r->base, strerror(errno));
			r->name[0] = '\0';
			return -1;
		}
	}
	if ((r->dir_fd = openat(r->base_fd, r->name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || fstat(r->dir_fd, &st) == -1) {
		snprintf(err, errlen, "%s/%s: %s", r->base, r->name,
		    strerror(errno));
		return -1;
	}
	r->dir_dev = st.st_dev;
	r->dir_ino = st.st_ino;
	if ((size_t)snprintf(r->sock, sizeof(r->sock), "%s/%s/socket", r->base,
	    r->name) >= sizeof(r->sock)) {
		snprintf(err, errlen, "%s/%s/socket: too long for a unix socket "
		    "(at most %zu bytes): set XDG_RUNTIME_DIR or TMPDIR to a "
		    "shorter directory", r->base, r->name, sizeof(r->sock) - 1);
		r->sock[0] = '\0';
		return -1;
	}
	return 0;
}

/* Removes the socket and its directory: ours, by fd and identity. */
static void
remove_dir(struct relay *r)
{
	struct stat st;

	if (r->dir_fd != -1) {
		if (r->sock[0] != '\0' && unlinkat(r->dir_fd, "socket", 0) ==
		    -1 && errno != ENOENT)
			warn("%s", r->sock);
		r->sock[0] = '\0';
		close(r->dir_fd);
		r->dir_fd = -1;
	}
	if (r->name[0] != '\0') {
		if (fstatat(r->base_fd, r->name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || st.st_dev != r->dir_dev || st.st_ino != r->dir_ino)
			warnx("%s/%s: not removed: no longer the directory made",
			    r->base, r->name);
		else if (unlinkat(r->base_fd, r->name, AT_REMOVEDIR) == -1)
			warn("%s/%s", r->base, r->name);
		r->name[0] = '\0';
	}
	if (r->base_fd != -1)
		close(r->base_fd);
	r->base_fd = -1;
}

static int
listen_on(struct relay *r, char *err, size_t errlen)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, r->sock, sizeof(sun.sun_path));
	if ((r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    bind(r->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(r->listen_fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "%s: %s", r->sock, strerror(errno));
		return -1;
	}
	return 0;
}

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
	if (make_dir(r, err, errlen) == -1 || listen_on(r, err, errlen) == -1) {
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
static void
conn_settle(struct relay *r, struct conn *c)
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
	rc = pathscan_end(&c->from_client, on_path, c);
	if (pathscan_end(&c->from_up, on_path, c) == -1)
		rc = -1;
	conn_settle(r, c);
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

/*
 * Reads what fd has into to, after scanning it.  Returns 1 if it read,
 * 0 if there was nothing, -1 at EOF or error (errno 0: EOF), -2 for
 * ENOMEM.
 */
static int
relay_bytes(struct conn *c, int fd, struct pathscan *scan, struct buf *to)
{
	unsigned char chunk[IO_CHUNK];
	ssize_t n;

	if ((n = xio_read(fd, chunk, sizeof(chunk))) == 0) {
		errno = 0;
		return -1;
	}
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (pathscan_feed(scan, chunk, (size_t)n, on_path, c) == -1 ||
	    buf_append(to, chunk, (size_t)n) == -1)
		return -2;
	return 1;
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
		if ((n = relay_bytes(c, c->client, &c->from_client,
		    &c->to_up)) == -2)
			return -1;
		if (n == -1) {
			snprintf(why, sizeof(why), "closed (%s)", end_reason());
			return conn_close_client(r, c, why);
		}
	}
	if (uev & (POLLIN | POLLHUP | POLLERR)) {
		if ((n = relay_bytes(c, c->up.fd, &c->from_up,
		    &c->to_client)) == -2)
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

/* The outputs list of a .drv: at its start, in the first bytes. */
#define DRV_HEAD_MAX	65536

/*
 * The next "STRING" at *p (no escapes: output names and paths have
 * none) into out; *p moves past it.  Returns its length, or -1.
 */
static ssize_t
drv_string(const char **p, const char *end, const char **out)
{
	const char *q;

	if (*p >= end || **p != '"')
		return -1;
	*out = *p + 1;
	for (q = *out; q < end && *q != '"'; q++)
		if (*q == '\\')
			return -1;
	if (q == end)
		return -1;
	*p = q + 1;
	return q - *out;
}

/* A store path under r's store directory that Nix would take. */
static int
store_path_ok(const struct relay *r, const char *p, size_t len)
{
	size_t dirlen = strlen(r->storedir);
	char why[STOREPATH_WHY_MAX];

	return len > dirlen + 1 && memcmp(p, r->storedir, dirlen) == 0 &&
	    p[dirlen] == '/' && storepath_check_base(p + dirlen + 1,
	    len - dirlen - 1, why, sizeof(why)) == 0;
}

/*
 * Every output path of the derivation at path, as if it had crossed the
 * socket: Derive([("out","/nix/store/...","",""),...],...).  Floating
 * content-addressed outputs have no path until built, and are left out;
 * so is anything that does not parse.  Open connections wait for them.
 */
static int
drv_outputs(struct relay *r, const char *path)
{
	char head[DRV_HEAD_MAX];
	const char *p, *end, *name, *out;
	unsigned long before = r->submitted;
	struct seen *s;
	ssize_t n, len;
	size_t i;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return 0;	/* not ours to read: what crosses still counts */
	n = xio_read(fd, head, sizeof(head));
	close(fd);
	if (n <= 0 || (p = memmem(head, (size_t)n, "([", 2)) == NULL)
		return 0;
	end = head + n;
	/* Each output: ("NAME","PATH",...), then ',' or the list's ']'. */
	p += 2;
	while (rc == 0 && p < end && *p++ == '(') {
		if (drv_string(&p, end, &name) == -1 || p >= end ||
		    *p++ != ',' || (len = drv_string(&p, end, &out)) == -1)
			break;
		if (store_path_ok(r, out, (size_t)len))
			rc = seen_note(r, out, (size_t)len, 0, &s);
		while (p < end && *p != ')')
			p++;
		if (p + 2 >= end || p[1] != ',')
			break;
		p += 2;
	}
	/* A worker may have built the new ones: its connection waits. */
	for (i = 0; i < RELAY_CLIENTS_MAX && r->submitted > before; i++)
		if (r->conns[i].used && r->conns[i].up.fd != -1 &&
		    r->conns[i].need < r->submitted)
			r->conns[i].need = r->submitted;
	return rc;
}

int
relay_answered(struct relay *r, const struct request *req,
    struct batch *queued)
{
	struct seen *s = seen_find(r, req->path);
	size_t i, len = strlen(req->path);
	int rc = 0;

	r->answered++;
	if (s != NULL)
		s->reply = req->reply;
	if (req->reply == REPLY_OK && len > 4 &&
	    strcmp(req->path + len - 4, ".drv") == 0) {
		r->queued = queued;
		rc = drv_outputs(r, req->path);
		r->queued = NULL;
	}
	if (req->reply == REPLY_ERROR && !r->unheld) {
		warnx("%s: %s: not held, so every daemon connection of the "
		    "command stays open (its worker's roots) until the end, "
		    "or until a new client needs its place",
		    req->path, req->why != NULL ? req->why : "refused");
		r->unheld = 1;
	}
	for (i = 0; i < RELAY_CLIENTS_MAX; i++)
		conn_settle(r, &r->conns[i]);
	return rc;
}

void
relay_store_lost(struct relay *r)
{
	size_t i;

	r->lost = 1;
	for (i = 0; i < RELAY_CLIENTS_MAX; i++)
		conn_settle(r, &r->conns[i]);
}

unsigned long
relay_over(const struct relay *r)
{
	return r->over;
}

size_t
relay_unanswered(const struct relay *r)
{
	return (size_t)(r->submitted - r->answered);
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

int
relay_recheck(struct relay *r, struct batch *queued)
{
	size_t i;

	for (i = 0; i < r->nseen; i++)
		if (seen_submit(r, r->seen[i], queued) == -1)
			return -1;
	return 0;
}

static int
seen_sort_cmp(const void *a, const void *b)
{
	return strcmp((*(struct seen *const *)a)->path,
	    (*(struct seen *const *)b)->path);
}

static const char *
reply_word(enum reply_kind k)
{
	switch (k) {
	case REPLY_OK:		return "ok";
	case REPLY_MISSING:	return "missing";
	case REPLY_ERROR:	return "error";
	case REPLY_DROPPED:	return "dropped";
	case REPLY_PENDING:	return "pending";
	}
	abort();
}

int
relay_print_roots(struct relay *r, struct buf *out, int json)
{
	const struct seen *s;
	size_t i;
	int rc = 0;

	qsort(r->seen, r->nseen, sizeof(*r->seen), seen_sort_cmp);
	/* Store paths are name characters and slashes: nothing to escape. */
	for (i = 0; i < r->nseen && rc == 0; i++) {
		s = r->seen[i];
		if (json)
			rc = buf_printf(out, "{\"path\":\"%s\",\"reply\":\"%s\"}\n",
			    s->path, reply_word(s->reply));
		else
			rc = buf_printf(out, "%s %s\n", reply_word(s->reply),
			    s->path);
	}
	return rc;
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
	remove_dir(r);
	for (i = 0; i < r->nseen; i++) {
		tdelete(r->seen[i], &r->tree, seen_cmp);
		free(r->seen[i]->path);
		free(r->seen[i]);
	}
	free(r->seen);
	transport_target_free(&r->upstream);
	free(r);
}
