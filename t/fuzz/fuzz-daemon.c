/*
 * fuzz-daemon: the worker-protocol reply parser against a malicious or
 * buggy daemon.  The input is what "the daemon" sends, fed to the real
 * daemon back end over a socketpair in small pieces, while keep-paths
 * completes its handshake and submits two batches; whatever it reads, it
 * must end in a status and free everything (ASan and UBSan watch).  The
 * second batch is offered ahead of the first's barrier, as the loop offers
 * what waits behind a batch in flight; keep-paths lists AddTempRoots, so a
 * daemon's side that lists it too gets op 49.
 */
#include "config.h"

#include <sys/socket.h>

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "store.h"
#include "store_daemon.h"
#include "transport.h"
#include "xio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define STOREDIR	"/nix/store"
#define P1	STOREDIR "/00000000000000000000000000000000-one"
#define P2	STOREDIR "/11111111111111111111111111111111-two"
#define P3	STOREDIR "/22222222222222222222222222222222-three"

static struct batch batches[2];

static int
make_batches(void)
{
	memset(batches, 0, sizeof(batches));
	return batch_add(&batches[0], STOREDIR, P1, strlen(P1)) == -1 ||
	    batch_add(&batches[0], STOREDIR, P2, strlen(P2)) == -1 ||
	    batch_add(&batches[1], STOREDIR, P2, strlen(P2)) == -1 ||
	    batch_add(&batches[1], STOREDIR, P3, strlen(P3)) == -1 ? -1 : 0;
}

/* Reads and drops what keep-paths sent, so that it never blocks. */
static void
drain(int fd)
{
	char sink[4096];

	while (xio_read(fd, sink, sizeof(sink)) > 0)
		;
}

/* Submits the next batch once the store is ready and idle. */
static int
next_batch(struct store *s, size_t *sent, int *busy)
{
	int status;

	if (*busy || *sent == 2 || !store_ready(s))
		return STORE_BUSY;
	status = store_submit(s, &batches[(*sent)++]);
	*busy = status == STORE_BUSY;
	/* The next batch's holds offered ahead of this one's barrier, as
	 * the loop offers what waits behind a batch in flight. */
	if (*busy && *sent == 1)
		status = store_ahead(s, &batches[1], 0, batches[1].n);
	return status == STORE_DONE ? STORE_BUSY : status;
}

static void
run(struct store *s, int peer, const uint8_t *data, size_t size)
{
	struct pollfd pfd;
	size_t off = 1, piece = data[0] % 32 + 1, sent = 0;
	int status = STORE_BUSY, busy = 0;

	while (status == STORE_BUSY) {
		if (off < size) {
			piece = size - off < piece ? size - off : piece;
			if (xio_write_all(peer, data + off, piece) == -1)
				break;
			off += piece;
		} else if (peer != -1) {
			shutdown(peer, SHUT_WR);	/* then EOF */
		}
		drain(peer);
		if ((status = next_batch(s, &sent, &busy)) != STORE_BUSY)
			break;
		store_pollfd(s, &pfd);
		pfd.revents = POLLIN | POLLOUT;
		status = store_handle(s, &pfd);
		if (status == STORE_DONE) {
			busy = 0;
			status = STORE_BUSY;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport t;
	struct store *s;
	char err[512];
	int sv[2];

	if (size == 0 || size > 65536 || make_batches() == -1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	xio_set_nonblock(sv[0]);
	xio_set_nonblock(sv[1]);
	t.fd = sv[0];
	t.child = -1;
	t.reaped = 0;
	t.program[0] = '\0';
	if ((s = store_daemon_open(&t, "fuzz", STOREDIR, err,
	    sizeof(err))) != NULL) {
		run(s, sv[1], data, size);
		close(sv[1]);		/* so that close() need not wait */
		store_roots(s);
		store_close(s);
	} else
		close(sv[1]);
	batch_free(&batches[0]);
	batch_free(&batches[1]);
	return 0;
}
