/*
 * rootset: a hash table of roots keyed by path, and a list of them all so
 * that walks and freeing need no table scan.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rootset.h"

#define FIRST_SLOTS	64

/* FNV-1a: store paths differ in their hash part, which it mixes well. */
static unsigned
path_hash(const char *path)
{
	uint32_t h = 2166136261u;

	for (; *path != '\0'; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h;
}

/* The slot of path, or the empty slot where it would go. */
static size_t
slot_of(const struct rootset *set, const char *path, unsigned hash)
{
	size_t mask = set->nslots - 1, i = hash & mask;
	struct root *r;

	while ((r = set->slot[i]) != NULL &&
	    (r->hash != hash || strcmp(r->path, path) != 0))
		i = (i + 1) & mask;
	return i;
}

struct root *
rootset_find(struct rootset *set, const char *path)
{
	if (set->n == 0)
		return NULL;
	return set->slot[slot_of(set, path, path_hash(path))];
}

static int
grow(struct rootset *set)
{
	struct root **old = set->slot, *r;
	size_t nold = set->nslots, nslots = nold ? nold * 2 : FIRST_SLOTS, i;

	if ((set->slot = calloc(nslots, sizeof(*set->slot))) == NULL) {
		set->slot = old;
		return -1;
	}
	set->nslots = nslots;
	for (i = 0; i < nold; i++)
		if ((r = old[i]) != NULL)
			set->slot[slot_of(set, r->path, r->hash)] = r;
	free(old);
	return 0;
}

struct root *
rootset_add(struct rootset *set, const char *path)
{
	struct root *r;
	unsigned hash = path_hash(path);
	size_t len = strlen(path), i;

	if (set->nslots == 0 && grow(set) == -1)
		return NULL;
	if ((r = set->slot[i = slot_of(set, path, hash)]) != NULL)
		return r;
	if ((set->n + 1) * 4 > set->nslots * 3) {
		if (grow(set) == -1)
			return NULL;
		i = slot_of(set, path, hash);	/* the table was rebuilt */
	}
	if ((r = calloc(1, sizeof(*r) + len + 1)) == NULL)
		return NULL;
	memcpy(r->path, path, len + 1);
	r->hash = hash;
	set->slot[i] = r;
	set->n++;
	r->next = set->all;
	if (set->all != NULL)
		set->all->prev = r;
	set->all = r;
	return r;
}

/* Empties slot i, moving back the entries of its probe run that need it. */
static void
slot_clear(struct rootset *set, size_t i)
{
	size_t mask = set->nslots - 1, j = i, home;

	set->slot[i] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (set->slot[j] == NULL)
			return;
		home = set->slot[j]->hash & mask;
		/* Stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		set->slot[i] = set->slot[j];
		set->slot[j] = NULL;
		i = j;
	}
}

static void
root_free(struct root *r)
{
	free(r->error);
	free(r);
}

void
rootset_remove(struct rootset *set, struct root *r)
{
	slot_clear(set, slot_of(set, r->path, r->hash));
	set->n--;
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
		root_free(r);
	}
	free(set->slot);
	set->slot = NULL;
	set->nslots = set->n = 0;
	set->all = NULL;
}
