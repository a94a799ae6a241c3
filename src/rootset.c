/*
 * rootset: an arena of root records and a hash table of their offsets.
 *
 * A record is: flags, name length, the hash part as 20 bytes, the name.
 * The key that is hashed and compared is all of it but the flags.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rootset.h"
#include "storepath.h"

#define DIGEST_LEN	20	/* 32 base-32 digits of 5 bits */
#define KEY_MAX		(1 + DIGEST_LEN + STOREPATH_NAME_MAX)
#define FIRST_SLOTS	64
#define ASKED_KEEP	16384	/* a batch's most (loop.c's BATCH_MAX) */

static const char base32[] = "0123456789abcdfghijklmnpqrsvwxyz";

/* The digit each character stands for in base32[], plus one (0: none). */
#define DIGIT(c, d)	[(unsigned char)(c)] = (d) + 1
static const unsigned char digit_plus1[UCHAR_MAX + 1] = {
	DIGIT('0', 0), DIGIT('1', 1), DIGIT('2', 2), DIGIT('3', 3),
	DIGIT('4', 4), DIGIT('5', 5), DIGIT('6', 6), DIGIT('7', 7),
	DIGIT('8', 8), DIGIT('9', 9), DIGIT('a', 10), DIGIT('b', 11),
	DIGIT('c', 12), DIGIT('d', 13), DIGIT('f', 14), DIGIT('g', 15),
	DIGIT('h', 16), DIGIT('i', 17), DIGIT('j', 18), DIGIT('k', 19),
	DIGIT('l', 20), DIGIT('m', 21), DIGIT('n', 22), DIGIT('p', 23),
	DIGIT('q', 24), DIGIT('r', 25), DIGIT('s', 26), DIGIT('v', 27),
	DIGIT('w', 28), DIGIT('x', 29), DIGIT('y', 30), DIGIT('z', 31),
};
#undef DIGIT

/*
 * The record key of path (under the set's directory): name length,
 * digest, name.  Returns its length, or 0 if path is no store path there.
 * Any bijection of the digits will do: nothing but this file reads it.
 */
static size_t
key_of(const struct rootset *set, const char *path, unsigned char *key)
{
	const char *base;
	size_t namelen, g, i;
	uint64_t v;
	int d;

	if (strncmp(path, set->storedir, set->dirlen) != 0 ||
	    path[set->dirlen] != '/')
		return 0;
	base = path + set->dirlen + 1;
	namelen = strlen(base);
	if (namelen <= STOREPATH_HASH_LEN + 1 ||
	    base[STOREPATH_HASH_LEN] != '-' ||
	    (namelen -= STOREPATH_HASH_LEN + 1) > STOREPATH_NAME_MAX)
		return 0;
	key[0] = (unsigned char)namelen;
	/* Digit i is bits 5i to 5i+4, from the first byte's lowest: eight
	 * digits are five whole bytes. */
	for (g = 0; g < STOREPATH_HASH_LEN / 8; g++) {
		v = 0;
		for (i = 0; i < 8; i++) {
			if ((d = digit_plus1[(unsigned char)base[8 * g + i]] - 1)
			    == -1)
				return 0;
			v |= (uint64_t)d << 5 * i;
		}
		for (i = 0; i < 5; i++)
			key[1 + 5 * g + i] = (unsigned char)(v >> 8 * i);
	}
	memcpy(key + 1 + DIGEST_LEN, base + STOREPATH_HASH_LEN + 1, namelen);
	return 1 + DIGEST_LEN + namelen;
}

static const unsigned char *
key_at(const struct rootset *set, root_id id)
{
	return set->arena.data + id + 1;
}

static size_t
key_len(const unsigned char *key)
{
	return 1 + DIGEST_LEN + key[0];
}

/* FNV-1a: the digest bytes are already well mixed. */
static uint32_t
key_hash(const unsigned char *key)
{
	uint32_t h = 2166136261u;
	size_t i, len = key_len(key);

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* The home slot of hash: its range scaled to the table, any size. */
static size_t
home_of(const struct rootset *set, uint32_t hash)
{
	return (size_t)(((uint64_t)hash * set->nslots) >> 32);
}

/* The slot of key, or the empty slot where it would go. */
static size_t
slot_of(const struct rootset *set, const unsigned char *key)
{
	size_t i = home_of(set, key_hash(key)), len = key_len(key);
	uint32_t id;

	while ((id = set->slot[i]) != ROOT_NONE &&
	    memcmp(key_at(set, id), key, len) != 0)
		if (++i == set->nslots)
			i = 0;
	return i;
}

int
rootset_init(struct rootset *set, const char *storedir)
{
	memset(set, 0, sizeof(*set));
	set->storedir = storedir;
	set->dirlen = strlen(storedir);
	if (set->dirlen + 1 + STOREPATH_HASH_LEN + 1 + STOREPATH_NAME_MAX >=
	    PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

root_id
rootset_find(const struct rootset *set, const char *path)
{
	unsigned char key[KEY_MAX];

	if (set->n == 0 || key_of(set, path, key) == 0)
		return ROOT_NONE;
	return set->slot[slot_of(set, key)];
}

/* A table half as large again (the bench's 100,000 roots fit in 141,858
 * slots, where doubling would take 262,144).  */
static int
grow(struct rootset *set)
{
	uint32_t *old = set->slot;
	size_t nold = set->nslots, i;

	set->nslots = nold ? nold + nold / 2 : FIRST_SLOTS;
	if ((set->slot = reallocarray(NULL, set->nslots,
	    sizeof(*set->slot))) == NULL) {
		set->slot = old;
		set->nslots = nold;
		return -1;
	}
	memset(set->slot, 0xff, set->nslots * sizeof(*set->slot));
	for (i = 0; i < nold; i++)
		if (old[i] != ROOT_NONE)
			set->slot[slot_of(set, key_at(set, old[i]))] = old[i];
	free(old);
	return 0;
}

root_id
rootset_add(struct rootset *set, const char *path)
{
	unsigned char record[1 + KEY_MAX] = { 0 }, *key = record + 1;
	size_t len, i = 0;
	root_id id;

	if ((len = key_of(set, path, key)) == 0) {
		errno = EINVAL;
		return ROOT_NONE;
	}
	if (set->nslots > 0 &&
	    (id = set->slot[i = slot_of(set, key)]) != ROOT_NONE)
		return id;
	if (set->arena.len + 1 + len >= ROOT_NONE) {	/* ids are 32 bits */
		errno = ENOMEM;
		return ROOT_NONE;
	}
	id = (root_id)set->arena.len;
	if ((set->n + 1) * 4 > set->nslots * 3) {
		if (grow(set) == -1)
			return ROOT_NONE;
		i = slot_of(set, key);	/* where it goes now */
	}
	if (buf_append(&set->arena, record, 1 + len) == -1) /* flags 0 */
		return ROOT_NONE;
	set->slot[i] = id;
	set->n++;
	return id;
}

char *
rootset_path(const struct rootset *set, root_id id, char *buf)
{
	const unsigned char *key = key_at(set, id);
	char *p = buf;
	size_t g, i;
	uint64_t v;

	memcpy(p, set->storedir, set->dirlen);
	p += set->dirlen;
	*p++ = '/';
	for (g = 0; g < STOREPATH_HASH_LEN / 8; g++) {
		v = 0;
		for (i = 0; i < 5; i++)
			v |= (uint64_t)key[1 + 5 * g + i] << 8 * i;
		for (i = 0; i < 8; i++)
			*p++ = base32[(v >> 5 * i) & 31];
	}
	*p++ = '-';
	memcpy(p, key + 1 + DIGEST_LEN, key[0]);
	p[key[0]] = '\0';
	return buf;
}

unsigned
rootset_flags(const struct rootset *set, root_id id)
{
	return set->arena.data[id];
}

void
rootset_mark(struct rootset *set, root_id id, unsigned flags)
{
	set->arena.data[id] |= (unsigned char)flags;
}

void
rootset_unmark(struct rootset *set, root_id id, unsigned flags)
{
	set->arena.data[id] &= (unsigned char)~flags;
}

root_id
rootset_next(const struct rootset *set, root_id id)
{
	size_t next = id == ROOT_NONE ? 0 : id + 1 + key_len(key_at(set, id));

	return next < set->arena.len ? (root_id)next : ROOT_NONE;
}

/* The latest batch's marks and refusals go. */
static void
batch_forget(struct rootset *set)
{
	size_t i;

	for (i = 0; i < set->nasked; i++)
		rootset_unmark(set, set->asked[i],
		    ROOT_ASKED | ROOT_VALID | ROOT_REFUSED);
	/* A root taken out of the batch (rootset_unask) may be refused. */
	for (i = 0; i < set->nrefused; i++) {
		rootset_unmark(set, set->refused[i].id, ROOT_REFUSED);
		free(set->refused[i].why);
	}
	free(set->refused);
	set->refused = NULL;
	set->nasked = set->nrefused = set->refusedcap = 0;
	/* A reconnect asked for every root: give that back. */
	if (set->askedcap > ASKED_KEEP) {
		free(set->asked);
		set->asked = NULL;
		set->askedcap = 0;
	}
}

static int
ask(struct rootset *set, root_id id)
{
	root_id *a;
	size_t cap;

	if (rootset_flags(set, id) & ROOT_ASKED)
		return 0;		/* twice in one batch */
	if (set->nasked == set->askedcap) {
		cap = set->askedcap ? set->askedcap * 2 : 64;
		if ((a = reallocarray(set->asked, cap, sizeof(*a))) == NULL)
			return -1;
		set->asked = a;
		set->askedcap = cap;
	}
	set->asked[set->nasked++] = id;
	rootset_mark(set, id, ROOT_ASKED);
	return 0;
}

int
rootset_id_cmp(const void *a, const void *b)
{
	root_id x = *(const root_id *)a, y = *(const root_id *)b;

	return x < y ? -1 : x > y;
}

int
rootset_begin(struct rootset *set, const struct batch *b, unsigned k,
    int holding)
{
	root_id id;
	size_t i;

	batch_forget(set);
	for (i = 0; i < b->n; i++) {
		if (b->req[i].reply != REPLY_PENDING ||
		    b->req[i].kind != REQUEST_HOLD ||
		    !request_for(&b->req[i], k, holding))
			continue;
		if ((id = rootset_add(set, b->req[i].path)) == ROOT_NONE ||
		    ask(set, id) == -1)
			return -1;
	}
	return 0;
}

int
rootset_begin_ids(struct rootset *set, const root_id *ids, size_t n)
{
	size_t i;

	batch_forget(set);
	for (i = 0; i < n; i++)
		if (ask(set, ids[i]) == -1)
			return -1;
	return 0;
}

void
rootset_unask(struct rootset *set, root_id id)
{
	size_t i;

	for (i = 0; i < set->nasked && set->asked[i] != id; i++)
		continue;
	if (i == set->nasked)
		return;
	memmove(&set->asked[i], &set->asked[i + 1],
	    (set->nasked - i - 1) * sizeof(*set->asked));
	set->nasked--;
	rootset_unmark(set, id, ROOT_ASKED);
}

int
rootset_begin_all(struct rootset *set)
{
	const unsigned wanted = ROOT_HELD | ROOT_ROOTED | ROOT_ASKED |
	    ROOT_AHEAD;
	root_id id;

	/* Roots the session wants: not those refused and never rooted. */
	for (id = rootset_next(set, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(set, id))
		if (rootset_flags(set, id) & wanted)
			rootset_mark(set, id, ROOT_WANTED);
	batch_forget(set);
	for (id = rootset_next(set, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(set, id)) {
		if (!(rootset_flags(set, id) & ROOT_WANTED))
			continue;
		rootset_unmark(set, id, ROOT_HELD | ROOT_AHEAD | ROOT_WANTED);
		if (ask(set, id) == -1)
			return -1;
	}
	return 0;
}

int
rootset_refuse(struct rootset *set, root_id id, const char *why)
{
	struct root_refusal *r;
	size_t cap;
	char *copy;

	if (rootset_flags(set, id) & ROOT_REFUSED)
		return 0;		/* the first reason stands */
	if ((copy = strdup(why)) == NULL)
		return -1;
	if (set->nrefused == set->refusedcap) {
		cap = set->refusedcap ? set->refusedcap * 2 : 8;
		if ((r = reallocarray(set->refused, cap, sizeof(*r))) == NULL) {
			free(copy);
			return -1;
		}
		set->refused = r;
		set->refusedcap = cap;
	}
	r = set->refused;
	r[set->nrefused].id = id;
	r[set->nrefused++].why = copy;
	rootset_mark(set, id, ROOT_REFUSED);
	return 0;
}

static int
refusal_cmp(const void *a, const void *b)
{
	root_id x = ((const struct root_refusal *)a)->id;
	root_id y = ((const struct root_refusal *)b)->id;

	return x < y ? -1 : x > y;
}

/* Why the batch refused the root, or NULL; the refusals sorted by id. */
static const char *
refusal_of(const struct rootset *set, root_id id)
{
	struct root_refusal key = { id, NULL }, *r;

	if (!(rootset_flags(set, id) & ROOT_REFUSED))
		return NULL;
	r = bsearch(&key, set->refused, set->nrefused, sizeof(key),
	    refusal_cmp);
	return r != NULL ? r->why : NULL;
}

const char *
rootset_refusal(const struct rootset *set, root_id id)
{
	size_t i;

	if (!(rootset_flags(set, id) & ROOT_REFUSED))
		return NULL;
	for (i = 0; i < set->nrefused; i++)
		if (set->refused[i].id == id)
			return set->refused[i].why;
	return NULL;
}

int
rootset_refuse_anew(struct rootset *set, root_id id, const char *why)
{
	char *copy;
	size_t i;

	if (!(rootset_flags(set, id) & ROOT_REFUSED))
		return rootset_refuse(set, id, why);
	for (i = 0; i < set->nrefused && set->refused[i].id != id; i++)
		continue;
	if ((copy = strdup(why)) == NULL)
		return -1;
	free(set->refused[i].why);
	set->refused[i].why = copy;
	return 0;
}

int
rootset_reply(struct rootset *set, const struct batch *b, unsigned k,
    int holding, struct reply *rep)
{
	const struct request *req;
	const char *why;
	unsigned flags;
	root_id id;
	size_t i;

	/* A full disk may refuse a whole batch: no search per request. */
	if (set->nrefused > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(set->refused, set->nrefused, sizeof(*set->refused),
		    refusal_cmp);
	for (i = 0; i < b->n; i++) {
		req = &b->req[i];
		if (req->reply != REPLY_PENDING || req->kind != REQUEST_HOLD ||
		    !request_for(req, k, holding))
			continue;
		if ((id = rootset_find(set, req->path)) == ROOT_NONE) {
			/* Not begun on this set: nothing was rooted. */
			if (reply_set_error(&rep[i], "not registered") == -1)
				return -1;
			continue;
		}
		flags = rootset_flags(set, id);
		if ((why = refusal_of(set, id)) != NULL) {
			if (reply_set_error(&rep[i], why) == -1)
				return -1;
			continue;
		}
		rep[i].kind = flags & ROOT_VALID ? REPLY_OK : REPLY_MISSING;
		rootset_mark(set, id, ROOT_ROOTED |
		    (rep[i].kind == REPLY_OK ? ROOT_ACKED : 0));
	}
	return 0;
}

void
rootset_free(struct rootset *set)
{
	batch_forget(set);
	free(set->asked);
	buf_free(&set->arena);
	free(set->slot);
	set->asked = NULL;
	set->slot = NULL;
	set->nslots = set->n = set->askedcap = 0;
}
