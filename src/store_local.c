/*
 * store_local: temporary roots in our own temp-roots file.
 *
 * A batch is, in this order:
 *	append a record for each path not yet held (temproots.c);
 *	if a collector is running (gc.lock cannot be shared), tell it the new
 *	paths over its socket, as Nix does, and wait for that collection to
 *	end: the collector hangs up on every client when it is done;
 *	look validity up in the database (nixdb.c).
 * Once gc.lock could be shared after the append, every collection that
 * starts later reads our file, and none that was running is still running
 * (Nix <= 2.34 and Lix can delete a path rooted mid-collection): so "ok"
 * is never said of a path that can still be collected.
 *
 * Nothing waits: locks are tried without blocking, the collector's socket
 * is polled, and retries come from the wakeup timer.
 */
#include "config.h"

#include <sys/file.h>
#ifdef HAVE_SYS_INOTIFY_H
#include <sys/inotify.h>
#endif

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "nixdb.h"
#include "rootset.h"
#include "store_local.h"
#include "temproots.h"
#include "xio.h"

/*
 * A collector that holds the lock but takes no clients is starting or
 * ending, a matter of milliseconds; and where collections follow one
 * another, the lock is free only in the moment between two.  Nix's own
 * pause (100 ms) missed that moment every time against Nix 2.34 in a
 * collection loop: each request waited out collection after collection.
 * So the first try comes soon, backing off to Nix's pause for a collector
 * that never listens.
 */
#define RETRY_MIN_MS	5
#define RETRY_MAX_MS	100
/* A collector's staleness probe holds our new file's lock for an instant. */
#define CREATE_RETRY_MS	10
#define DB_BUSY_RETRY_MS 20
/* An error reply's reason for a root recorded but not checked. */
#define HELD_UNCHECKED	"held until the session ends, but its validity " \
	"could not be looked up: "
/* Lookups per turn of the poll loop. */
#define CHECK_CHUNK	4096

enum phase {
	PHASE_DB_CHECK,		/* is the database our store's? */
	PHASE_CREATE,		/* making our temp-roots file */
	PHASE_IDLE,
	PHASE_TELL,		/* a collector runs: tell it, await its end */
	PHASE_CHECK,		/* validity lookups */
};

struct store_local {
	struct store	 store;
	char		*statedir;
	char		*storedir;
	char		*gc_socket;
	struct temproots file;
	int		 gclock_fd;
	int		 sock_fd;	/* to the running collector, or -1 */
	int		 watch_fd;	/* inotify on our file, or -1 */
	int		 polled_fd;
	int		 warned;	/* about the collector's socket */
	long		 retry_ms;	/* until the next try to tell it */
	struct nixdb	*db;
	struct rootset	 roots;
	size_t		 nheld;
	enum phase	 phase;
	long		 wake_at;	/* -1: no timer */
	root_id		*fresh;		/* of the batch's roots (roots.asked),
					   those it registers */
	size_t		 nfresh;
	size_t		 next;		/* PHASE_CHECK: next in roots.asked */
	struct buf	 lines;		/* PHASE_TELL: for the collector */
};

static void
wake_in(struct store_local *l, long ms)
{
	l->wake_at = xio_now_ms() + ms;
}

static void
sock_close(struct store_local *l)
{
	if (l->sock_fd != -1)
		close(l->sock_fd);
	l->sock_fd = -1;
	buf_free(&l->lines);
}

/* Returns 1 if a collector holds gc.lock, 0 if not, -1 on error. */
static int
collector_running(struct store_local *l)
{
	if (flock(l->gclock_fd, LOCK_SH | LOCK_NB) == 0) {
		flock(l->gclock_fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK || errno == EINTR ? 1 : -1;
}

static int
check_start(struct store_local *l)
{
	l->phase = PHASE_CHECK;
	l->next = 0;
	wake_in(l, 0);
	return STORE_BUSY;
}

/*
 * A collector runs: connect to it and queue a line for every new root.
 * If it takes no clients yet (or no longer), try again shortly, as Nix
 * does; the lock is tried again first.
 */
static int
tell_start(struct store_local *l)
{
	char path[PATH_MAX];
	size_t i;

	sock_close(l);
	l->phase = PHASE_TELL;
	l->wake_at = -1;
	if ((l->sock_fd = xio_connect_unix(l->gc_socket)) == -1) {
		if (errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EAGAIN && !l->warned++)
			warnx("%s: %s; waiting for the collector to end",
			    l->gc_socket, strerror(errno));
		wake_in(l, l->retry_ms);
		if ((l->retry_ms *= 2) > RETRY_MAX_MS)
			l->retry_ms = RETRY_MAX_MS;
		return STORE_BUSY;
	}
	l->retry_ms = RETRY_MIN_MS;
	for (i = 0; i < l->nfresh; i++)
		if (buf_printf(&l->lines, "%s\n",
		    rootset_path(&l->roots, l->fresh[i], path)) == -1)
			return store_oom(&l->store);
	return STORE_BUSY;
}

/* After the roots are in the file: is a collection still to wait out? */
static int
tell_or_check(struct store_local *l)
{
	switch (collector_running(l)) {
	case 0:
		sock_close(l);
		l->retry_ms = RETRY_MIN_MS;	/* the next wait starts anew */
		return check_start(l);
	case 1:
		return tell_start(l);
	default:
		return store_fail(&l->store, STORE_SYSTEM, "%s/gc.lock: %s",
		    l->statedir, strerror(errno));
	}
}

/*
 * Talking to the collector.  It answers "1" per line, whether or not it
 * could parse it, so the answers prove nothing and are only drained.
 * When the collection is over it hangs up on every client; any end of
 * the connection sends us back to the lock, and a free lock means the
 * collection we told is over.
 */
static int
on_socket(struct store_local *l, short revents)
{
	char acks[256];
	ssize_t n;

	if ((revents & POLLOUT) && buf_used(&l->lines) > 0 &&
	    buf_write_fd(&l->lines, l->sock_fd, SIZE_MAX) == -1 &&
	    errno != EAGAIN)
		return tell_or_check(l);
	if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		return STORE_BUSY;
	n = xio_read(l->sock_fd, acks, sizeof(acks));
	if (n > 0 || (n == -1 && errno == EAGAIN))
		return STORE_BUSY;
	return tell_or_check(l);
}

/* The batch is done: its replies are in roots, for the core to read. */
static int
finish_batch(struct store_local *l)
{
	free(l->fresh);
	l->fresh = NULL;
	l->nfresh = 0;
	l->phase = PHASE_IDLE;
	l->wake_at = -1;
	return STORE_DONE;
}

/*
 * Looks up validity, CHECK_CHUNK paths per turn of the loop, in one read
 * transaction.
 */
static int
check_some(struct store_local *l)
{
	char msg[STORE_ERROR_MAX], path[PATH_MAX];
	char why[STORE_ERROR_MAX + sizeof(HELD_UNCHECKED)];
	size_t end = l->next + CHECK_CHUNK;
	root_id id;

	nixdb_read_begin(l->db);
	for (; l->next < l->roots.nasked && l->next < end; l->next++) {
		id = l->roots.asked[l->next];
		if (rootset_flags(&l->roots, id) & ROOT_REFUSED)
			continue;
		switch (nixdb_is_valid(l->db, rootset_path(&l->roots, id, path),
		    msg, sizeof(msg))) {
		case NIXDB_VALID:
			rootset_mark(&l->roots, id, ROOT_VALID);
			break;
		case NIXDB_INVALID:
			break;
		case NIXDB_BUSY:
			nixdb_read_end(l->db);
			wake_in(l, DB_BUSY_RETRY_MS);
			return STORE_BUSY;
		default:
			/*
			 * Rooted (a record cannot leave the file), but we
			 * cannot tell: not "ok", and the reason says held.
			 */
			snprintf(why, sizeof(why), "%s%s", HELD_UNCHECKED,
			    msg);
			if (rootset_refuse(&l->roots, id, why) == -1) {
				nixdb_read_end(l->db);
				return store_oom(&l->store);
			}
		}
	}
	nixdb_read_end(l->db);
	if (l->next < l->roots.nasked) {
		wake_in(l, 0);
		return STORE_BUSY;
	}
	return finish_batch(l);
}

static int
lost_file(struct store_local *l)
{
	return store_fail(&l->store, STORE_CLOSED, "%s: removed or renamed by "
	    "another process: collections no longer see its roots",
	    l->file.path);
}

/* Our file changed names or links; only its removal matters. */
static int
on_watch(struct store_local *l)
{
#ifdef HAVE_SYS_INOTIFY_H
	char events[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	while (xio_read(l->watch_fd, events, sizeof(events)) > 0)
		continue;
#endif
	return temproots_intact(&l->file) ? STORE_BUSY : lost_file(l);
}

static void
watch_start(struct store_local *l)
{
	l->watch_fd = -1;
#ifdef HAVE_SYS_INOTIFY_H
	if ((l->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		return;
	if (inotify_add_watch(l->watch_fd, l->file.path,
	    IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF) == -1) {
		close(l->watch_fd);
		l->watch_fd = -1;
	}
#endif
}

/* Makes our temp-roots file; a collector probing the name delays us. */
static int
create_file(struct store_local *l)
{
	switch (temproots_create(&l->file, l->statedir)) {
	case 0:
		watch_start(l);
		l->phase = PHASE_IDLE;
		l->wake_at = -1;
		return STORE_BUSY;
	case 1:
		l->phase = PHASE_CREATE;
		wake_in(l, CREATE_RETRY_MS);
		return STORE_BUSY;
	default:
		return store_fail(&l->store, STORE_UNREACHABLE,
		    "%s/temproots: %s", l->statedir, strerror(errno));
	}
}

/*
 * Before any record is written: does the database register paths under
 * our store directory?  A writer may hold it for a moment (a daemon
 * worker checkpointing as it exits): then ask again shortly.
 */
static int
check_db(struct store_local *l)
{
	char msg[STORE_ERROR_MAX];

	switch (nixdb_check_store_dir(l->db, l->storedir, msg, sizeof(msg))) {
	case NIXDB_VALID:
		return create_file(l);
	case NIXDB_BUSY:
		l->phase = PHASE_DB_CHECK;
		wake_in(l, DB_BUSY_RETRY_MS);
		return STORE_BUSY;
	default:
		return store_fail(&l->store, STORE_UNREACHABLE, "%s", msg);
	}
}

static size_t
local_pollfd(struct store *s, struct pollfd *pfd)
{
	struct store_local *l = (struct store_local *)s;

	if (l->phase == PHASE_TELL && l->sock_fd != -1) {
		pfd->fd = l->sock_fd;
		pfd->events = POLLIN;
		if (buf_used(&l->lines) > 0)
			pfd->events |= POLLOUT;
	} else {
		pfd->fd = l->watch_fd;
		pfd->events = POLLIN;
	}
	l->polled_fd = pfd->fd;
	return 1;
}

static long
local_wakeup(struct store *s)
{
	return ((struct store_local *)s)->wake_at;
}

static int
on_timer(struct store_local *l)
{
	l->wake_at = -1;
	switch (l->phase) {
	case PHASE_DB_CHECK:
		return check_db(l);
	case PHASE_CREATE:
		return create_file(l);
	case PHASE_TELL:
		return tell_or_check(l);
	case PHASE_CHECK:
		return check_some(l);
	case PHASE_IDLE:
		break;
	}
	return STORE_BUSY;
}

static int
local_handle(struct store *s, const struct pollfd *pfd)
{
	struct store_local *l = (struct store_local *)s;
	short revents = pfd->revents;
	int status = STORE_BUSY;

	if (revents != 0 && l->polled_fd == l->watch_fd)
		status = on_watch(l);
	else if (revents != 0 && l->polled_fd == l->sock_fd)
		status = on_socket(l, revents);
	if (status == STORE_BUSY && l->wake_at != -1 &&
	    xio_now_ms() >= l->wake_at)
		status = on_timer(l);
	return status;
}

static int
local_ready(struct store *s)
{
	enum phase phase = ((struct store_local *)s)->phase;

	return phase != PHASE_DB_CHECK && phase != PHASE_CREATE;
}

/*
 * Records the batch's new roots in our file.  A failure to write (a full
 * disk) refuses just those paths; the session goes on.
 */
static int
register_fresh(struct store_local *l)
{
	struct buf records = { NULL, 0, 0, 0 };
	char path[PATH_MAX], why[STORE_ERROR_MAX];
	size_t i;
	int rc;

	for (i = 0; i < l->nfresh; i++) {
		rootset_path(&l->roots, l->fresh[i], path);
		if (buf_append(&records, path, strlen(path) + 1) == -1) {
			buf_free(&records);
			return store_oom(&l->store);
		}
	}
	rc = temproots_append(&l->file, buf_head(&records), buf_used(&records));
	snprintf(why, sizeof(why), "cannot record it in %s: %s",
	    l->file.path, strerror(errno));
	buf_free(&records);
	if (rc == -2)
		return lost_file(l);
	for (i = 0; i < l->nfresh; i++) {
		if (rc == 0)
			rootset_mark(&l->roots, l->fresh[i], ROOT_HELD);
		else if (rootset_refuse(&l->roots, l->fresh[i], why) == -1)
			return store_oom(&l->store);
	}
	if (rc == 0)
		l->nheld += l->nfresh;
	else
		l->nfresh = 0;
	/* Appended to a file nobody reads any more is not rooted. */
	return temproots_intact(&l->file) ? STORE_BUSY : lost_file(l);
}

static int
local_submit(struct store *s)
{
	struct store_local *l = (struct store_local *)s;
	size_t i;
	int status;

	if ((l->fresh = reallocarray(NULL, l->roots.nasked + 1,
	    sizeof(*l->fresh))) == NULL)
		return store_oom(&l->store);
	for (i = 0; i < l->roots.nasked; i++)
		if (!(rootset_flags(&l->roots, l->roots.asked[i]) & ROOT_HELD))
			l->fresh[l->nfresh++] = l->roots.asked[i];
	if (l->roots.nasked == 0)
		return finish_batch(l);
	if (l->nfresh == 0)
		return check_start(l);	/* all held since earlier batches */
	if ((status = register_fresh(l)) != STORE_BUSY)
		return status;
	return l->nfresh > 0 ? tell_or_check(l) : check_start(l);
}

static size_t
local_roots(struct store *s)
{
	return ((struct store_local *)s)->nheld;
}

static void
local_close(struct store *s)
{
	struct store_local *l = (struct store_local *)s;

	sock_close(l);
	if (l->watch_fd != -1)
		close(l->watch_fd);
	temproots_remove(&l->file);	/* this is the release */
	if (l->gclock_fd != -1)
		close(l->gclock_fd);
	nixdb_close(l->db);
	rootset_free(&l->roots);
	free(l->fresh);
	free(l->statedir);
	free(l->storedir);
	free(l->gc_socket);
	free(l);
}

/*
 * A collector that opened our file just before a replacement was renamed
 * over it would find the old one unlocked once we let go of it, and unlink
 * the new one by name: no replacement is safe, so no single root can go.
 */
static int
local_drop(struct store *s, const root_id *ids, char **why, size_t n)
{
	(void)ids;
	return store_refuse_drop(s, why, n, "the local store cannot release "
	    "one root: its temp-roots file lasts as long as the session (use "
	    "a daemon store, or one session per set of paths)");
}

static struct rootset *
local_rootset(struct store *s)
{
	return &((struct store_local *)s)->roots;
}

static const struct store_ops local_ops = {
	.pollfd = local_pollfd,
	.wakeup = local_wakeup,
	.handle = local_handle,
	.ready = local_ready,
	.submit = local_submit,
	.drop = local_drop,
	.rootset = local_rootset,
	.roots = local_roots,
	.close = local_close,
};

static struct store *
open_failed(struct store_local *l, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", l->store.error);
	local_close(&l->store);
	return NULL;
}

struct store *
store_local_open(const char *statedir, const char *storedir, char *err,
    size_t errlen)
{
	struct store_local *l;
	char gclock[PATH_MAX];

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	l->store.ops = &local_ops;
	l->gclock_fd = l->sock_fd = l->watch_fd = -1;
	l->file.fd = -1;
	l->wake_at = -1;
	l->retry_ms = RETRY_MIN_MS;
	if ((l->statedir = strdup(statedir)) == NULL ||
	    (l->storedir = strdup(storedir)) == NULL ||
	    rootset_init(&l->roots, l->storedir) == -1 ||
	    asprintf(&l->gc_socket, "%s/gc-socket/socket", statedir) == -1) {
		l->gc_socket = NULL;
		store_fail(&l->store, 0, "%s", strerror(errno));
		return open_failed(l, err, errlen);
	}
	snprintf(gclock, sizeof(gclock), "%s/gc.lock", statedir);
	if ((l->gclock_fd = open(gclock, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		store_fail(&l->store, 0, "%s: %s%s", gclock, strerror(errno),
		    errno == EACCES ? " (only the store's owner can use the "
		    "local store; try --store daemon)" : "");
		return open_failed(l, err, errlen);
	}
	if ((l->db = nixdb_open(statedir, l->store.error,
	    sizeof(l->store.error))) == NULL || check_db(l) != STORE_BUSY)
		return open_failed(l, err, errlen);
	return &l->store;
}
