/*
 * seenset: a tsearch(3) tree to find each path, and an array of them all
 * to list and free them.
 */
#include "config.h"

#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "seenset.h"

static int
seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->path,
	    ((const struct seen *)b)->path);
}

static int
seen_ptr_cmp(const void *a, const void *b)
{
	return seen_cmp(*(struct seen *const *)a, *(struct seen *const *)b);
}

struct seen *
seenset_find(const struct seenset *set, const char *path)
{
	struct seen key, **found;

	key.path = (char *)path;
	found = tfind(&key, &set->tree, seen_cmp);
	return found != NULL ? *found : NULL;
}

struct seen *
seenset_add(struct seenset *set, const char *path)
{
	struct seen *s, **grown;
	size_t cap;

	if (set->n == set->cap) {
		cap = set->cap == 0 ? 64 : set->cap * 2;
		if ((grown = reallocarray(set->all, cap, sizeof(*grown))) ==
		    NULL)
			return NULL;
		set->all = grown;
		set->cap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->path = strdup(path)) == NULL ||
	    tsearch(s, &set->tree, seen_cmp) == NULL) {
		free(s->path);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	set->all[set->n++] = s;
	return s;
}

int
seenset_list(struct seenset *set, struct buf *out, const char *store,
    int json)
{
	size_t i;

	if (set->n > 1)	/* all may be NULL: qsort(NULL, 0) is undefined */
		qsort(set->all, set->n, sizeof(*set->all), seen_ptr_cmp);
	/* Store paths are name characters and slashes: nothing to escape. */
	for (i = 0; i < set->n; i++)
		if (request_format_root(out, set->all[i]->path,
		    set->all[i]->reply, store, json) == -1)
			return -1;
	return 0;
}

void
seenset_free(struct seenset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		tdelete(set->all[i], &set->tree, seen_cmp);
		free(set->all[i]->path);
		free(set->all[i]);
	}
	free(set->all);
	memset(set, 0, sizeof(*set));
}
