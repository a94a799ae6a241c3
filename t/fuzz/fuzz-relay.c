/*
 * fuzz-relay: capture mode's relay, its connection lifecycle and seen set.
 * The input is a script of steps, each a byte and what follows it: a
 * client connects, sends bytes, or goes; the upstream of a client sends
 * bytes or ends; the session answers the captured requests queued so far
 * (ok, missing or refused, as the input says); the store is lost.  The
 * relay runs over real sockets with this process as both its clients and
 * the daemon it relays to.  Whatever happens, nothing is held beyond its
 * bound, every client is served or told, and the end frees everything
 * (ASan and UBSan watch).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "relay.h"
#include "transport.h"
#include "xio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define STOREDIR	"/nix/store"
#define CLIENTS		40	/* more than RELAY_CLIENTS_MAX */
#define SEEN_MAX	64

struct harness {
	struct relay	*relay;
	struct batch	 queued;
	int		 daemon;	/* our stand-in daemon's listener */
	int		 client[CLIENTS];
	int		 up[CLIENTS];	/* the daemon's side, per accept */
	size_t		 nclients, nups;
	int		 lost;
};

/* One round of the relay's poll loop, without waiting. */
static void
turn(struct harness *h)
{
	struct pollfd pfd[RELAY_POLLFDS];

	relay_pollfd(h->relay, pfd, h->queued.n < 256);
	if (poll(pfd, RELAY_POLLFDS, 0) > 0 &&
	    relay_handle(h->relay, pfd, &h->queued) == -1)
		abort();
}

/*
 * The daemon side takes what connected to it, and drains what came: one
 * poll() says which; reading every fd every turn made each input take
 * some 10 ms.
 */
static void
serve(struct harness *h)
{
	struct pollfd pfd[1 + 2 * CLIENTS];
	char sink[4096];
	size_t i, n = 0;
	int fd;

	pfd[n].fd = h->nups < CLIENTS ? h->daemon : -1;
	pfd[n++].events = POLLIN;
	for (i = 0; i < h->nups; i++, n++) {
		pfd[n].fd = h->up[i];
		pfd[n].events = POLLIN;
	}
	for (i = 0; i < h->nclients; i++, n++) {
		pfd[n].fd = h->client[i];
		pfd[n].events = POLLIN;
	}
	if (poll(pfd, n, 0) <= 0)
		return;
	for (i = 1; i < n; i++)
		if (pfd[i].revents & POLLIN)
			while (xio_read(pfd[i].fd, sink, sizeof(sink)) > 0)
				;
	if (pfd[0].revents & POLLIN)
		while (h->nups < CLIENTS &&
		    (fd = accept4(h->daemon, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) != -1)
			h->up[h->nups++] = fd;
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Answers every captured request queued, with replies from the input. */
static void
answer(struct harness *h, const uint8_t **p, const uint8_t *end)
{
	struct reply rep = { NULL, REPLY_PENDING };
	size_t i;
	uint8_t how;

	for (i = 0; i < h->queued.n; i++) {
		how = *p < end ? *(*p)++ : 0;
		if (how % 3 == 2) {
			if (reply_set_error(&rep, "refused by the fuzzer") == -1)
				abort();
		} else
			rep.kind = how % 3 ? REPLY_MISSING : REPLY_OK;
		if (relay_answered(h->relay, &h->queued.req[i], &rep,
		    &h->queued) == -1)
			abort();
		reply_clear(&rep);
	}
	/* relay_answered may queue a derivation's outputs: later. */
	batch_free(&h->queued);
}

static void
step(struct harness *h, const uint8_t **p, const uint8_t *end)
{
	uint8_t op = *(*p)++, n, who;
	size_t len;

	who = *p < end ? *(*p)++ : 0;
	switch (op % 7) {
	case 0:		/* a client connects */
		if (h->nclients < CLIENTS)
			h->client[h->nclients++] =
			    unix_connect(relay_socket(h->relay));
		break;
	case 1:		/* a client sends bytes */
	case 2:		/* an upstream sends bytes */
		n = *p < end ? *(*p)++ : 0;
		len = (size_t)(end - *p) < n ? (size_t)(end - *p) : n;
		if (op % 7 == 1 && h->nclients > 0 &&
		    h->client[who % h->nclients] != -1)
			(void)write(h->client[who % h->nclients], *p, len);
		else if (op % 7 == 2 && h->nups > 0 && h->up[who % h->nups] != -1)
			(void)write(h->up[who % h->nups], *p, len);
		*p += len;
		break;
	case 3:		/* a client goes */
		if (h->nclients > 0 && h->client[who % h->nclients] != -1) {
			close(h->client[who % h->nclients]);
			h->client[who % h->nclients] = -1;
		}
		break;
	case 4:		/* an upstream ends */
		if (h->nups > 0 && h->up[who % h->nups] != -1) {
			close(h->up[who % h->nups]);
			h->up[who % h->nups] = -1;
		}
		break;
	case 5:		/* the session answers */
		answer(h, p, end);
		break;
	case 6:		/* the store is lost */
		if (!h->lost)
			relay_store_lost(h->relay);
		h->lost = 1;
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char dir[] = "/tmp/fuzz-relay.XXXXXX", sock[128];
	static int ready;
	struct transport_target up = { NULL, NULL };
	const uint8_t *p = data, *end = data + len;
	struct harness h;
	struct sockaddr_un sun;
	char err[512];
	size_t i;
	int k;

	if (!ready) {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(sock, sizeof(sock), "%s/daemon", dir);
		setenv("XDG_RUNTIME_DIR", dir, 1);
		/* A peer gone under a write is an error, as in keep-paths. */
		signal(SIGPIPE, SIG_IGN);
		ready = 1;
	}
	memset(&h, 0, sizeof(h));
	unlink(sock);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
	if ((h.daemon = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    bind(h.daemon, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(h.daemon, 64) == -1)
		abort();
	if (transport_target_set(&up, sock, NULL) == -1 ||
	    (h.relay = relay_open(STOREDIR, &up, 0, SEEN_MAX, err,
	    sizeof(err))) == NULL)
		abort();
	transport_target_free(&up);
	while (p < end) {
		step(&h, &p, end);
		for (k = 0; k < 4; k++) {
			turn(&h);
			serve(&h);
		}
	}
	/* No bound broken: the seen set and the queue stay within theirs. */
	if (relay_unanswered(h.relay) > SEEN_MAX * 2)
		abort();
	relay_stop_listening(h.relay);
	relay_close(h.relay);
	batch_free(&h.queued);
	for (i = 0; i < h.nclients; i++)
		if (h.client[i] != -1)
			close(h.client[i]);
	for (i = 0; i < h.nups; i++)
		if (h.up[i] != -1)
			close(h.up[i]);
	close(h.daemon);
	return 0;
}
