/*
 * loop_io: the parent's fd and stdout.  Request bytes are read only after
 * POLLIN, at most what the queue has room for; replies are written only
 * after POLLOUT, PIPE_BUF at a time, which never blocks: the parent's
 * file descriptions are never made non-blocking.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "loop_int.h"
#include "xio.h"

/* Writes what replies stdout takes within timeout_ms; used at the end. */
void
loop_io_flush(struct loop *l, int timeout_ms)
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
void
loop_io_drain(struct loop *l)
{
	const unsigned char *p;
	size_t i, lines = 0;

	loop_io_flush(l, FINAL_FLUSH_MS);
	for (p = buf_head(&l->out), i = 0; i < buf_used(&l->out); i++)
		lines += p[i] == '\n';
	if (lines > 0)
		warnx("stdout took no more: %zu repl%s unwritten", lines,
		    lines == 1 ? "y" : "ies");
}

/* The replies of the parent's requests, for stdout.  Returns 0/-1. */
int
loop_io_format(struct loop *l)
{
	const struct request *r;
	const struct reply *rep;
	const char *store;
	size_t i, k;

	for (i = 0; i < l->inflight.n; i++) {
		r = &l->inflight.req[i];
		if (r->captured)
			continue;
		for (k = 0; k < core_replying(l->core); k++) {
			rep = core_reply(l->core, i, k, &store);
			if (rep->kind == REPLY_PENDING)
				continue;	/* not for store k */
			if (request_format_reply(&l->out, r, rep, store,
			    l->cfg->quiet) == -1)
				return -1;
		}
	}
	return 0;
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
	return loop_ending(l, KP_EXIT_OK);
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
int
loop_io_parent(struct loop *l, short revents)
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

int
loop_io_stdout(struct loop *l, short revents)
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
