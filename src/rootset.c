/*
 * rootset: a tsearch(3) tree of roots keyed by path, and a list of them
 * all so that freeing needs no tree walk.
 */
#include "config.h"

#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "rootset.h"

static int
root_cmp(const void *a, const void *b)
{
	return strcmp(((const struct root *)a)->path,
	    ((const struct root *)b)->path);
}

struct root *
rootset_find(struct rootset *set, const char *path)
{
	struct root key, **found;

	key.path = (char *)path;
	found = tfind(&key, &set->tree, root_cmp);
	return found != NULL ? *found : NULL;
}

struct root *
rootset_add(struct rootset *set, const char *path)
{
	struct root *r;

	if ((r = rootset_find(set, path)) != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->path = strdup(path)) == NULL ||
	    tsearch(r, &set->tree, root_cmp) == NULL) {
		free(r->path);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->next = set->all;
	if (set->all != NULL)
		set->all->prev = r;
	set->all = r;
	return r;
}

static void
root_free(struct root *r)
{
	free(r->path);
	free(r->error);
	free(r);
}

void
rootset_remove(struct rootset *set, struct root *r)
{
	tdelete(r, &set->tree, root_cmp);
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		set->all = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	root_free(r);
}

int
rootset_begin(struct rootset *set, const struct batch *b, struct root ***out,
    size_t *n)
{
	struct root **roots, *r;
	size_t i;

	*n = 0;
	if ((roots = reallocarray(NULL, b->n + 1, sizeof(*roots))) == NULL)
		return -1;
	set->gen++;
	for (i = 0; i < b->n; i++) {
		if (b->req[i].reply != REPLY_PENDING)
			continue;
		if ((r = rootset_add(set, b->req[i].path)) == NULL) {
			free(roots);
			return -1;
		}
		if (r->batch == set->gen)
			continue;	/* twice in one batch */
		r->batch = set->gen;
		free(r->error);
		r->error = NULL;
		roots[(*n)++] = r;
	}
	*out = roots;
	return 0;
}

int
rootset_reply(struct rootset *set, struct batch *b)
{
	struct request *req;
	struct root *r;
	size_t i;

	for (i = 0; i < b->n; i++) {
		req = &b->req[i];
		if (req->reply != REPLY_PENDING)
			continue;
		r = rootset_find(set, req->path);
		if (r->error != NULL) {
			if (request_set_error(req, r->error) == -1)
				return -1;
		} else if (req->kind == REQUEST_KEEP) {
			/* Held elsewhere all along: registered is enough. */
			req->reply = REPLY_OK;
			r->acked |= req->acked;
		} else {
			req->reply = r->valid == set->gen ?
			    REPLY_OK : REPLY_MISSING;
			r->acked |= req->reply == REPLY_OK;
		}
	}
	return 0;
}

void
rootset_free(struct rootset *set)
{
	struct root *r, *next;

	for (r = set->all; r != NULL; r = next) {
		next = r->next;
		tdelete(r, &set->tree, root_cmp);
		root_free(r);
	}
	set->all = NULL;
	set->tree = NULL;
}
