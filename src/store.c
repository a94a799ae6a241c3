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

size_t
store_pollfd(struct store *s, struct pollfd *pfd)
{
	return s->ops->pollfd(s, pfd);
}

long
store_wakeup(struct store *s)
{
	return s != NULL && s->ops->wakeup != NULL ? s->ops->wakeup(s) : -1;
}

int
store_handle(struct store *s, const struct pollfd *pfd)
{
	return s->ops->handle(s, pfd);
}

int
store_ready(struct store *s)
{
	return s->ops->ready(s);
}

struct rootset *
store_rootset(struct store *s)
{
	return s->ops->rootset(s);
}

int
store_submit(struct store *s)
{
	return s->ops->submit(s);
}

int
store_drop(struct store *s, const root_id *ids, char **why, size_t n)
{
	if (s->ops->drop == NULL)
		return store_refuse_drop(s, why, n, "this store cannot "
		    "release one root");
	return s->ops->drop(s, ids, why, n);
}

int
store_ahead(struct store *s, const char *const *paths, size_t n)
{
	int status;

	if (s->ops->ahead == NULL)
		return STORE_BUSY;
	status = s->ops->ahead(s, paths, n);
	/* Nothing is owed for holds offered ahead: never a batch's end. */
	return status == STORE_DONE ? STORE_BUSY : status;
}

int
store_release(struct store *s)
{
	return s->ops->release != NULL ? s->ops->release(s) : STORE_DONE;
}

size_t
store_roots(struct store *s)
{
	return s->ops->roots(s);
}


int
store_adopt(struct store *s, const struct rootset *from, const root_id *skip,
    size_t nskip)
{
	if (s->ops->adopt == NULL)
		return store_fail(s, STORE_SYSTEM, "this store cannot take "
		    "over another connection's roots");
	return s->ops->adopt(s, from, skip, nskip);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
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
store_refuse_drop(struct store *s, char **why, size_t n, const char *reason)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (why[i] == NULL && (why[i] = strdup(reason)) == NULL)
			return store_oom(s);
	return STORE_DONE;
}
