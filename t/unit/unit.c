/*
 * unit: what the C unit tests share.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

int unit_failures;

/* Copies out into static storage, and frees it. */
static const char *
text_of(struct buf *out)
{
	static char text[16384];

	snprintf(text, sizeof(text), "%.*s", (int)buf_used(out),
	    (const char *)buf_head(out));
	buf_free(out);
	return text;
}

const char *
unit_replies(const struct batch *b, const char *store, int quiet)
{
	struct buf out = { NULL, 0, 0, 0 };
	struct reply rep;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (b->req[i].reply == REPLY_PENDING)
			continue;
		rep.kind = b->req[i].reply;
		rep.why = b->req[i].why;
		CHECK(request_format_reply(&out, &b->req[i], &rep, store,
		    quiet) == 0);
	}
	return text_of(&out);
}

const char *
unit_core_replies(const struct core *c, const struct batch *b, int quiet)
{
	struct buf out = { NULL, 0, 0, 0 };
	const struct reply *rep;
	const char *store;
	size_t i, k;

	for (i = 0; i < b->n; i++)
		for (k = 0; k < core_replying(c); k++) {
			rep = core_reply(c, i, k, &store);
			if (rep->kind == REPLY_PENDING)
				continue;
			CHECK(request_format_reply(&out, &b->req[i], rep,
			    store, quiet) == 0);
		}
	return text_of(&out);
}

struct core *
unit_core(struct store *s)
{
	struct core *c = core_new();

	CHECK(c != NULL && core_add(c, s, NULL) == 0);
	return c;
}

struct core *
unit_cores(struct store **s, const char *const *labels, size_t n)
{
	struct core *c = core_new();
	size_t i;

	CHECK(c != NULL);
	for (i = 0; i < n; i++)
		CHECK(core_add(c, s[i], labels[i]) == 0);
	return c;
}

int
unit_run(struct core *c, struct batch *b)
{
	int status;

	if ((status = core_start(c, b)) != STORE_BUSY)
		return status;
	return unit_finish(c);
}

int
unit_finish(struct core *c)
{
	struct pollfd pfd[CORE_POLLFDS];
	int status, turns;

	for (turns = 0; turns < 10; turns++) {
		memset(pfd, 0, sizeof(pfd));	/* revents: as poll() left them */
		core_pollfd(c, pfd);
		if ((status = core_handle(c, pfd)) != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}
