/*
 * store: what every back end shares.  Choosing and opening them is
 * store_open.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "xio.h"

int
store_fail(struct store *s, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return status;
}

int
store_oom(struct store *s)
{
	return store_fail(s, STORE_SYSTEM, "%s", strerror(ENOMEM));
}

long
store_wakeup(struct store *s)
{
	return s != NULL && s->ops->wakeup != NULL ? s->ops->wakeup(s) : -1;
}

int
store_due(struct store *s, const struct pollfd *pfd, size_t n)
{
	long at = store_wakeup(s);
	size_t i;

	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			return 1;
	return at != -1 && xio_now_ms() >= at;
}

int
store_start(struct store *s, struct batch *b)
{
	if (b->n > 0 && b->req[0].kind == REQUEST_DROP)
		return s->ops->drop(s, b);
	return s->ops->submit(s, b);
}

int
store_refuse_drop(struct store *s, struct batch *b, const char *why)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->req[i].reply == REPLY_PENDING &&
		    request_set_error(&b->req[i], why) == -1)
			return store_oom(s);
	return STORE_DONE;
}
