/*
 * store_multi: one batch, several stores.
 *
 * Each store works on its own copy of the batch's requests (they write
 * their replies into them), laid out store after store so that each copy
 * is a batch of its own.  When every store is done, the copies are put
 * request after request into the caller's batch, which then holds one
 * reply per request and store.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vis.h>

#include "store_multi.h"
#include "xio.h"

struct store_multi {
	struct store	 store;
	struct store	*inner[STORE_MAX];
	char		*label[STORE_MAX];	/* visibly encoded */
	struct batch	 copy[STORE_MAX];	/* views into copies */
	int		 done[STORE_MAX];
	size_t		 off[STORE_MAX];	/* its pollfds: where, */
	size_t		 npfd[STORE_MAX];	/* and how many */
	size_t		 n;
	size_t		 ndone;
	int		 failed;		/* its index, or -1 */
	struct batch	*batch;			/* in flight, or NULL */
	struct request	*copies;		/* n per request */
};

/* Store i failed: so has the session, and its message names store i. */
static int
inner_failed(struct store_multi *m, size_t i, int status)
{
	const char *error = m->inner[i]->error;
	size_t len = strlen(m->label[i]);

	m->failed = (int)i;
	m->store.failed = m->label[i];
	m->store.lost = m->inner[i]->lost;
	if (strncmp(error, m->label[i], len) == 0 && error[len] == ':')
		return store_fail(&m->store, status, "%s", error);
	return store_fail(&m->store, status, "%s: %s", m->label[i], error);
}

static size_t
multi_pollfd(struct store *s, struct pollfd *pfd)
{
	struct store_multi *m = (struct store_multi *)s;
	size_t i, n = 0;

	for (i = 0; i < m->n; i++) {
		m->off[i] = n;
		m->npfd[i] = store_pollfd(m->inner[i], &pfd[n]);
		n += m->npfd[i];
	}
	return n;
}

static long
multi_wakeup(struct store *s)
{
	struct store_multi *m = (struct store_multi *)s;
	long first = -1;
	size_t i;

	for (i = 0; i < m->n; i++)
		first = xio_earliest(first, store_wakeup(m->inner[i]));
	return first;
}

static void
free_copies(struct store_multi *m, size_t nreq)
{
	struct batch all = { m->copies, nreq * m->n, nreq * m->n };

	batch_free(&all);
	m->copies = NULL;
}

/* Every store is done: the replies go request after request. */
static int
finish_batch(struct store_multi *m)
{
	struct batch *b = m->batch;
	size_t nreq = m->copy[0].n, i, k;
	struct request *req;

	if ((req = reallocarray(NULL, nreq * m->n, sizeof(*req))) == NULL)
		return store_oom(&m->store);
	for (i = 0; i < nreq; i++)
		for (k = 0; k < m->n; k++)
			req[i * m->n + k] = m->copies[k * nreq + i];
	free(m->copies);
	m->copies = NULL;
	batch_free(b);
	b->req = req;
	b->n = b->cap = nreq * m->n;
	m->batch = NULL;
	return STORE_DONE;
}

/* Acts on what store i said.  Returns a store_status for the session. */
static int
on_inner(struct store_multi *m, size_t i, int status)
{
	if (status == STORE_DONE && !m->done[i]) {
		m->done[i] = 1;
		if (++m->ndone == m->n && m->batch != NULL)
			return finish_batch(m);
		return STORE_BUSY;
	}
	if (status != STORE_BUSY && status != STORE_DONE)
		return inner_failed(m, i, status);
	return STORE_BUSY;
}

static int
multi_handle(struct store *s, const struct pollfd *pfd)
{
	struct store_multi *m = (struct store_multi *)s;
	struct store *in;
	size_t i;
	int status;

	for (i = 0; i < m->n; i++) {
		in = m->inner[i];
		if (!store_due(in, &pfd[m->off[i]], m->npfd[i]))
			continue;
		status = on_inner(m, i, store_handle(in, &pfd[m->off[i]]));
		if (status != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}

static int
multi_ready(struct store *s)
{
	struct store_multi *m = (struct store_multi *)s;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!store_ready(m->inner[i]))
			return 0;
	return 1;
}

/* Store i's copy of request r.  Returns 0, or -1 (ENOMEM). */
static int
copy_request(struct store_multi *m, size_t i, const struct request *r,
    struct request *c)
{
	*c = *r;
	c->store = m->label[i];
	c->input = c->path = c->why = NULL;
	if ((r->input != NULL && (c->input = strdup(r->input)) == NULL) ||
	    (r->path != NULL && (c->path = strdup(r->path)) == NULL) ||
	    (r->why != NULL && (c->why = strdup(r->why)) == NULL))
		return -1;
	return 0;
}

/* Each store starts its copy of b: a hold or a drop. */
static int
multi_start(struct store *s, struct batch *b)
{
	struct store_multi *m = (struct store_multi *)s;
	size_t nreq = b->n, i, k;
	int status;

	if ((m->copies = calloc(nreq * m->n + 1, sizeof(*m->copies))) == NULL)
		return store_oom(s);
	for (k = 0; k < m->n; k++)
		for (i = 0; i < nreq; i++)
			if (copy_request(m, k, &b->req[i],
			    &m->copies[k * nreq + i]) == -1) {
				free_copies(m, nreq);
				return store_oom(s);
			}
	m->batch = b;
	m->ndone = 0;
	for (k = 0; k < m->n; k++) {
		m->done[k] = 0;
		m->copy[k].req = m->copies + k * nreq;
		m->copy[k].n = m->copy[k].cap = nreq;
	}
	for (k = 0; k < m->n; k++) {
		status = store_start(m->inner[k], &m->copy[k]);
		if ((status = on_inner(m, k, status)) != STORE_BUSY)
			return status;
	}
	return STORE_BUSY;
}

/* Each store may take the holds queued behind the batch (store.h). */
static int
multi_ahead(struct store *s, const struct batch *q, size_t from, size_t to)
{
	struct store_multi *m = (struct store_multi *)s;
	struct store *in;
	size_t i;
	int status;

	for (i = 0; i < m->n; i++) {
		in = m->inner[i];
		if (!m->done[i] &&
		    (status = store_ahead(in, q, from, to)) != STORE_BUSY)
			return inner_failed(m, i, status);
	}
	return STORE_BUSY;
}

static size_t
multi_roots(struct store *s)
{
	struct store_multi *m = (struct store_multi *)s;
	size_t i, n = 0;

	if (m->failed != -1)
		return store_roots(m->inner[m->failed]);
	for (i = 0; i < m->n; i++)
		n += store_roots(m->inner[i]);
	return n;
}

static void
multi_close(struct store *s)
{
	struct store_multi *m = (struct store_multi *)s;
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->inner[i] != NULL)
			store_close(m->inner[i]);
		free(m->label[i]);
	}
	if (m->copies != NULL)
		free_copies(m, m->copy[0].n);
	free(m);
}

static const struct store_ops multi_ops = {
	.pollfd = multi_pollfd,
	.wakeup = multi_wakeup,
	.handle = multi_handle,
	.ready = multi_ready,
	.submit = multi_start,
	.drop = multi_start,
	.ahead = multi_ahead,
	.roots = multi_roots,
	.close = multi_close,
};

struct store *
store_multi_open(struct store **stores, char **labels, size_t n, char *err,
    size_t errlen)
{
	struct store_multi *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) != NULL) {
		m->store.ops = &multi_ops;
		m->failed = -1;
		m->n = n;
		for (i = 0; i < n; i++)
			m->inner[i] = stores[i];
		for (i = 0; i < n; i++)
			if (stravis(&m->label[i], labels[i], VIS_OCTAL |
			    VIS_CSTYLE | VIS_WHITE) == -1)
				break;
		if (i == n)
			return &m->store;
		multi_close(&m->store);
	} else
		for (i = 0; i < n; i++)
			store_close(stores[i]);
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	return NULL;
}
