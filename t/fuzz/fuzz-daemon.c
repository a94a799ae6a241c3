/*
 * fuzz-daemon: the worker-protocol reply parser against a malicious or
 * buggy daemon.  The input is what "the daemon" sends, fed to the real
 * daemon back end over a socketpair in small pieces, while keep-paths
 * completes its handshake and submits two batches; whatever it reads, it
 * must end in a status and free everything (ASan and UBSan watch).  The
 * second batch is offered ahead of the first's barrier, as the loop offers
 * what waits behind a batch in flight; keep-paths lists AddTempRoots, so a
 * daemon's side that lists it too gets op 49.
 *
 * The input's first four bytes choose the piece size; whether the store
 * reconnects (--reconnect, bit 0) and whether it can drop (bit 1:
 * store_renew, with a third batch, "drop P1"); and where the rest splits
 * (16 bits, little-endian): the first connection gets the bytes before
 * the split, and every later one (a reconnect, a drop's new connection),
 * made to a listener here, gets the bytes that are left.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "store.h"
#include "core.h"
#include "store_daemon.h"
#include "store_renew.h"
#include "transport.h"
#include "xio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define STOREDIR	"/nix/store"
#define P1	STOREDIR "/00000000000000000000000000000000-one"
#define P2	STOREDIR "/11111111111111111111111111111111-two"
#define P3	STOREDIR "/22222222222222222222222222222222-three"

#define DROP	"drop " P1

static struct batch batches[3];
static size_t nbatches;
static char sock[128];		/* where later connections go */
static int listener = -1;
static struct transport_target target;	/* sock */

/* The third batch: one drop line. */
static int
batch_take_drop(void)
{
	struct buf in = { NULL, 0, 0, 0 };
	int skipping = 0, rc;

	rc = buf_append(&in, DROP "\n", strlen(DROP) + 1) == -1 ||
	    batch_take_lines(&batches[2], STOREDIR, &in, &skipping, 1) == -1;
	buf_free(&in);
	return rc;
}

/* Makes the batches: two holds, and with drop a drop of P1. */
static int
make_batches(int drop)
{
	memset(batches, 0, sizeof(batches));
	nbatches = drop ? 3 : 2;
	return batch_add(&batches[0], STOREDIR, P1, strlen(P1)) == -1 ||
	    batch_add(&batches[0], STOREDIR, P2, strlen(P2)) == -1 ||
	    batch_add(&batches[1], STOREDIR, P2, strlen(P2)) == -1 ||
	    batch_add(&batches[1], STOREDIR, P3, strlen(P3)) == -1 ||
	    (drop && batch_take_drop()) ? -1 : 0;
}

/* Reads and drops what keep-paths sent, so that it never blocks. */
static void
drain(int fd)
{
	char sink[4096];

	while (xio_read(fd, sink, sizeof(sink)) > 0)
		;
}

/* A batch done has a reply for every request, of every store. */
static void
check_replies(const struct core *c, const struct batch *b)
{
	const char *store;
	size_t i, k;

	for (i = 0; i < b->n; i++)
		for (k = 0; k < core_replying(c); k++)
			if (core_reply(c, i, k, &store)->kind ==
			    REPLY_PENDING)
				abort();
}

/* Submits the next batch once the store is ready and idle. */
static int
next_batch(struct core *c, size_t *sent, int *busy)
{
	int status;

	if (*busy || *sent == nbatches || !core_ready(c))
		return STORE_BUSY;
	status = core_start(c, &batches[(*sent)++]);
	if (status == STORE_DONE)
		check_replies(c, &batches[*sent - 1]);
	*busy = status == STORE_BUSY;
	/* The next batch's holds offered ahead of this one's barrier, as
	 * the loop offers what waits behind a batch in flight. */
	if (*busy && *sent == 1)
		status = core_ahead(c, &batches[1], 0, batches[1].n);
	return status == STORE_DONE ? STORE_BUSY : status;
}

/*
 * A later connection to the listener, if one came, takes the place of
 * *peer, which becomes *old: a drop's old connection stays open until
 * keep-paths hangs up on it.  Returns 1 if one came.
 */
static int
take_next_peer(int *peer, int *old)
{
	int fd;

	if ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return 0;
	if (*old != -1)
		close(*old);
	*old = *peer;
	*peer = fd;
	return 1;
}

/* The old connection: drained, and closed once keep-paths hung up. */
static void
drain_old(int *old)
{
	char sink[4096];
	ssize_t n;

	if (*old == -1)
		return;
	while ((n = xio_read(*old, sink, sizeof(sink))) > 0)
		;
	if (n == 0) {
		close(*old);
		*old = -1;
	}
}

/*
 * Feeds data[off..split) to the peer in pieces, then its end of file
 * (not with drops while later bytes wait: the old connection stays); a
 * later connection gets data[split..size).  The turns are bounded: a drop
 * or reconnect that finds no listener waits for time, not input.
 */
static void
run(struct core *s, int *peer, const uint8_t *data, size_t off,
    size_t split, size_t size, size_t piece, int drop)
{
	struct pollfd pfd[CORE_POLLFDS];
	size_t sent = 0, end = split, turns, i, n;
	int status = STORE_BUSY, busy = 0, shut = 0, old = -1, idle = 0;

	for (turns = 0; status == STORE_BUSY && turns < 100000; turns++) {
		if (off < end) {
			piece = end - off < piece ? end - off : piece;
			if (xio_write_all(*peer, data + off, piece) == -1)
				off = end;
			else
				off += piece;
		} else if (!shut && !(drop && end < size) && idle++ >= 20) {
			/*
			 * EOF, after a few turns for what keep-paths does
			 * next (a drop's release of the old connection); but
			 * a drop's old connection stays open.
			 */
			shutdown(*peer, SHUT_WR);
			shut = 1;
		}
		drain(*peer);
		drain_old(&old);
		if (end < size && take_next_peer(peer, &old)) {
			off = end;
			end = size;
			shut = idle = 0;
		}
		if ((status = next_batch(s, &sent, &busy)) != STORE_BUSY)
			break;
		memset(pfd, 0, sizeof(pfd));
		n = core_pollfd(s, pfd);
		for (i = 0; i < n; i++)
			pfd[i].revents = pfd[i].fd != -1 ? POLLIN | POLLOUT : 0;
		status = core_handle(s, pfd);
		if (status == STORE_DONE) {
			check_replies(s, &batches[sent - 1]);
			busy = 0;
			status = STORE_BUSY;
		}
		if (sent == nbatches && !busy)
			break;
	}
	if (old != -1)
		close(old);
}

/* A new connection to the listener, as a drop opens one. */
static struct store *
reopen(const void *arg, char *err, size_t errlen)
{
	struct transport t;

	if (transport_open(&t, &target, err, errlen) == -1)
		return NULL;
	return store_daemon_open(&t, "fuzz", STOREDIR, err, errlen);
}

/* The listener later connections reach, made once. */
static int
listen_once(void)
{
	static char dir[] = "/tmp/fuzz-daemon.XXXXXX";
	struct sockaddr_un sun;

	if (listener != -1)
		return 0;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/daemon", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
	if ((listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    bind(listener, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(listener, 16) == -1)
		return -1;
	return 0;
}

/* Refuses whatever still waits in the listener's backlog. */
static void
listener_flush(void)
{
	int fd;

	while ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) != -1)
		close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport t;
	struct store *s;
	struct core *c;
	char err[512];
	size_t split, piece;
	int sv[2], peer, reconnect, drop;

	if (size < 4 || size > 65536)
		return 0;
	if (listen_once() == -1)
		abort();
	target.socket = sock;
	piece = data[0] % 32 + 1;
	reconnect = data[1] & 1;
	drop = (data[1] & 2) != 0;
	split = 4 + (size_t)(data[2] | data[3] << 8);
	split = split < size ? split : size;
	if (make_batches(drop) == -1)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	xio_set_nonblock(sv[0]);
	xio_set_nonblock(sv[1]);
	t.fd = sv[0];
	t.child = -1;
	t.reaped = 0;
	t.program[0] = '\0';
	peer = sv[1];
	if ((s = store_daemon_open(&t, "fuzz", STOREDIR, err,
	    sizeof(err))) != NULL && reconnect &&
	    store_daemon_reconnect(s, &target, 1000) == -1)
		abort();
	if (s != NULL && drop && (s = store_renew_open(s, reopen, NULL, err,
	    sizeof(err))) == NULL)
		abort();
	if (s != NULL) {
		if ((c = core_new()) == NULL || core_add(c, s, NULL) == -1)
			abort();
		run(c, &peer, data, 4, split, size, piece, drop);
		close(peer);		/* so that close() need not wait */
		core_roots(c);
		core_close(c);
	} else
		close(peer);
	listener_flush();
	batch_free(&batches[0]);
	batch_free(&batches[1]);
	batch_free(&batches[2]);
	return 0;
}
