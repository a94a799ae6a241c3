/*
 * unit: what the C unit tests share.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

int unit_failures;

const char *
unit_replies(const struct batch *b, int quiet)
{
	static char text[16384];
	struct buf out = { NULL, 0, 0, 0 };
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->req[i].reply != REPLY_PENDING)
			CHECK(request_format_reply(&out, &b->req[i],
			    quiet) == 0);
	snprintf(text, sizeof(text), "%.*s", (int)buf_used(&out),
	    (const char *)buf_head(&out));
	buf_free(&out);
	return text;
}

int
unit_run(struct store *s, struct batch *b)
{
	struct pollfd pfd[STORE_POLLFDS_MAX];
	int status, turns;

	if ((status = store_start(s, b)) != STORE_BUSY)
		return status;
	for (turns = 0; turns < 10; turns++) {
		memset(pfd, 0, sizeof(pfd));	/* revents: as poll() left them */
		store_pollfd(s, pfd);
		if ((status = store_handle(s, pfd)) != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}
