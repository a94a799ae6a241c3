/*
 * rootset: each root once, its flags, a batch's replies read from it.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include "batch.h"
#include "buf.h"
#include "request.h"
#include "rootset.h"
#include "unit.h"

#define SD	"/kp-unit-no-such-dir/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"
#define P1	SD "/" HASH "-one"
#define P2	SD "/" HASH "-two"
#define P3	SD "/" "1123456789abcdfghijklmnpqrsvwxyz-one"

static void
each_once(void)
{
	struct rootset set;
	char path[PATH_MAX];
	root_id a, b, c, id;
	size_t n = 0;

	CHECK(rootset_init(&set, SD) == 0);
	CHECK(rootset_find(&set, P1) == ROOT_NONE);
	a = rootset_add(&set, P1);
	b = rootset_add(&set, P2);
	c = rootset_add(&set, P3);	/* same name, another hash */
	CHECK(a != ROOT_NONE && b != ROOT_NONE && c != ROOT_NONE);
	CHECK(a != b && b != c && a != c);
	CHECK(rootset_add(&set, P1) == a);
	CHECK(rootset_find(&set, P2) == b);
	CHECK(set.n == 3);
	CHECK_STR(rootset_path(&set, c, path), P3);
	/* Not a store path under this set's directory: never found. */
	CHECK(rootset_find(&set, "/elsewhere/" HASH "-one") == ROOT_NONE);
	CHECK(rootset_find(&set, SD "/short") == ROOT_NONE);
	for (id = rootset_next(&set, ROOT_NONE); id != ROOT_NONE;
	    id = rootset_next(&set, id))
		n++;
	CHECK(n == 3);
	rootset_mark(&set, a, ROOT_HELD | ROOT_ACKED);
	rootset_unmark(&set, a, ROOT_ACKED);
	CHECK(rootset_flags(&set, a) == ROOT_HELD);
	CHECK(rootset_flags(&set, b) == 0);
	CHECK(rootset_id_cmp(&a, &b) < 0 && rootset_id_cmp(&b, &a) > 0 &&
	    rootset_id_cmp(&a, &a) == 0);
	rootset_free(&set);
}

/* Many roots: the table grows, every id stays valid. */
static void
growth(void)
{
	struct rootset set;
	char path[PATH_MAX], want[PATH_MAX];
	root_id *ids = calloc(20000, sizeof(*ids));
	size_t i;
	int bad = 0;

	CHECK(rootset_init(&set, SD) == 0);
	for (i = 0; i < 20000; i++) {
		snprintf(want, sizeof(want), SD "/%032zu-n%zu", i, i);
		ids[i] = rootset_add(&set, want);
	}
	for (i = 0; i < 20000; i++) {
		snprintf(want, sizeof(want), SD "/%032zu-n%zu", i, i);
		bad += rootset_find(&set, want) != ids[i] ||
		    strcmp(rootset_path(&set, ids[i], path), want) != 0;
	}
	CHECK(bad == 0);
	CHECK(set.n == 20000);
	free(ids);
	rootset_free(&set);
}

static void
push(struct batch *b, const char *path)
{
	struct request *r = batch_push(b);

	r->kind = REQUEST_HOLD;
	r->path = strdup(path);
}

/* A batch: its distinct roots asked, then each request's reply. */
static void
batch_replies(void)
{
	struct rootset set;
	struct batch b = { NULL, 0, 0 };
	struct reply rep[5] = { { NULL, 0 } };
	root_id a, c;

	CHECK(rootset_init(&set, SD) == 0);
	push(&b, P1);
	push(&b, P2);
	push(&b, P1);
	push(&b, P3);
	CHECK(request_set_error(batch_push(&b), "refused earlier") == 0);
	CHECK(rootset_begin(&set, &b, 0, 0) == 0);
	CHECK(set.nasked == 3);		/* P1 once; the error asks nothing */
	a = rootset_find(&set, P1);
	c = rootset_find(&set, P3);
	CHECK(rootset_flags(&set, a) & ROOT_ASKED);
	rootset_mark(&set, a, ROOT_VALID);
	CHECK(rootset_refuse(&set, c, "the daemon said no") == 0);
	CHECK(rootset_refuse(&set, c, "a second reason") == 0);
	CHECK(rootset_reply(&set, &b, 0, 0, rep) == 0);
	CHECK(rep[0].kind == REPLY_OK && rep[2].kind == REPLY_OK);
	CHECK(rep[1].kind == REPLY_MISSING);
	CHECK(rep[3].kind == REPLY_ERROR);
	CHECK_STR(rep[3].why, "the daemon said no");
	/* Refused before the set saw it: its reply is left alone. */
	CHECK(rep[4].kind == REPLY_PENDING && rep[4].why == NULL);
	for (size_t i = 0; i < 5; i++)
		reply_clear(&rep[i]);
	/* Rooted: ok and missing; acked: ok only; refused: neither. */
	CHECK((rootset_flags(&set, a) & (ROOT_ROOTED | ROOT_ACKED)) ==
	    (ROOT_ROOTED | ROOT_ACKED));
	CHECK((rootset_flags(&set, rootset_find(&set, P2)) &
	    (ROOT_ROOTED | ROOT_ACKED)) == ROOT_ROOTED);
	CHECK(!(rootset_flags(&set, c) & ROOT_ROOTED));
	/* The next batch forgets this one's marks, not the roots. */
	batch_clear(&b);
	push(&b, P2);
	CHECK(rootset_begin(&set, &b, 0, 0) == 0);
	CHECK(set.nasked == 1 && set.nrefused == 0);
	CHECK(!(rootset_flags(&set, a) & (ROOT_ASKED | ROOT_VALID)));
	CHECK(rootset_flags(&set, a) & ROOT_ACKED);
	/*
	 * After a reconnect: every root the session wants asked, none held
	 * any more; not P3, refused and never rooted.
	 */
	rootset_mark(&set, a, ROOT_HELD);
	CHECK(rootset_begin_all(&set) == 0);
	CHECK(set.nasked == 2);
	CHECK(!(rootset_flags(&set, a) & ROOT_HELD));
	CHECK(!(rootset_flags(&set, c) & ROOT_ASKED));
	batch_free(&b);
	rootset_free(&set);
}

int
main(void)
{
	RUN(each_once);
	RUN(growth);
	RUN(batch_replies);
	return UNIT_DONE();
}
