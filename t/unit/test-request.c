/*
 * request: line framing, request parsing, reply lines.
 */
#include "config.h"

#include <stdlib.h>

#include "batch.h"
#include "buf.h"
#include "request.h"
#include "unit.h"

#define SD	"/kp-unit-no-such-dir/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"
#define P1	SD "/" HASH "-one"
#define P2	SD "/" HASH "-two"

/* Takes the lines of text (as many as max) into b, from in. */
static void
take(struct batch *b, struct buf *in, const char *text, int *skipping,
    size_t max)
{
	CHECK(buf_append(in, text, strlen(text)) == 0);
	CHECK(batch_take_lines(b, SD, in, skipping, max) == 0);
}

static void
lines_and_pieces(void)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	int skipping = 0;

	/* A line is taken once its newline comes. */
	take(&b, &in, P1 "\n" P2, &skipping, 100);
	CHECK(b.n == 1);
	CHECK(request_count_lines(&in, skipping) == 0);
	take(&b, &in, "/bin\n", &skipping, 100);
	CHECK(b.n == 2);
	CHECK(buf_used(&in) == 0);
	CHECK(b.req[0].kind == REQUEST_HOLD && b.req[0].input == NULL);
	CHECK_STR(b.req[0].path, P1);
	/* Inside a store path: its top-level path, the input kept. */
	CHECK_STR(b.req[1].path, P2);
	CHECK_STR(b.req[1].input, P2 "/bin");
	/* At most max are taken; the rest wait in the buffer. */
	take(&b, &in, P1 "\n" P2 "\n" P1 "\n", &skipping, 3);
	CHECK(b.n == 3);
	CHECK(request_count_lines(&in, skipping) == 2);
	batch_free(&b);
	buf_free(&in);
}

static void
refusals(void)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	int skipping = 0;
	char line[] = "/a\0b\n";

	take(&b, &in, "\n/tmp/tab\there\n" SD "/" HASH "\n", &skipping, 100);
	CHECK(buf_append(&in, line, sizeof(line) - 1) == 0);
	CHECK(batch_take_lines(&b, SD, &in, &skipping, 100) == 0);
	CHECK(b.n == 4);
	CHECK_STR(unit_replies(&b, NULL, 0),
	    "error : empty request\n"
	    "error /tmp/tab\\there: No such file or directory\n"
	    "error " SD "/" HASH ": too short to be a store path\n"
	    "error /a\\0b: contains a NUL byte\n");
	batch_free(&b);
	buf_free(&in);
}

/* An over-long line is answered at once and the rest of it skipped. */
static void
long_lines(void)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	char *line = malloc(REQUEST_LINE_MAX + 2);
	int skipping = 0;

	memset(line, 'x', REQUEST_LINE_MAX + 1);
	line[REQUEST_LINE_MAX + 1] = '\0';
	take(&b, &in, line, &skipping, 100);
	CHECK(b.n == 1 && skipping);
	CHECK(strncmp(unit_replies(&b, NULL, 0), "error xxxx", 10) == 0);
	CHECK(strstr(unit_replies(&b, NULL, 0), "...: line too long\n") != NULL);
	/* More of it, then its end and a good line. */
	take(&b, &in, "yyyy", &skipping, 100);
	CHECK(b.n == 1);
	CHECK(request_count_lines(&in, skipping) == 0);
	take(&b, &in, "zz\n" P1 "\n", &skipping, 100);
	CHECK(b.n == 2 && !skipping);
	CHECK_STR(b.req[1].path, P1);
	/* Exactly REQUEST_LINE_MAX is not too long. */
	line[REQUEST_LINE_MAX] = '\n';
	take(&b, &in, line, &skipping, 100);
	CHECK(b.n == 3 && !skipping);
	CHECK(b.req[2].reply == REPLY_ERROR);
	CHECK(strstr(b.req[2].why, "line too long") == NULL);
	free(line);
	batch_free(&b);
	buf_free(&in);
}

static void
drops(void)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	int skipping = 0;

	take(&b, &in, "drop " P1 "\ndrop\ndrop \ndropped\n", &skipping, 100);
	CHECK(b.n == 4);
	CHECK(b.req[0].kind == REQUEST_DROP);
	CHECK_STR(b.req[0].path, P1);
	CHECK_STR(b.req[0].input, "drop " P1);
	CHECK(b.req[1].kind == REQUEST_DROP && b.req[2].kind == REQUEST_DROP);
	/* "dropped" is a path, not a drop. */
	CHECK(b.req[3].kind == REQUEST_HOLD);
	b.req[3].reply = REPLY_PENDING;	/* its reason names the cwd */
	CHECK_STR(unit_replies(&b, NULL, 0),
	    "error drop: no path to drop\n"
	    "error drop : no path to drop\n");
	batch_free(&b);
	buf_free(&in);
}

/* Every reply kind, with and without a store name, quiet or not. */
static void
reply_lines(void)
{
	struct batch b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	int skipping = 0;

	take(&b, &in, P1 "\n" P2 "\ndrop " P1 "\n/\n", &skipping, 100);
	b.req[0].reply = REPLY_OK;
	b.req[1].reply = REPLY_MISSING;
	b.req[2].reply = REPLY_DROPPED;
	CHECK_STR(unit_replies(&b, NULL, 0),
	    "ok " P1 "\n"
	    "missing " P2 "\n"
	    "dropped " P1 "\n"
	    "error /: not in the Nix store " SD "\n");
	CHECK_STR(unit_replies(&b, NULL, 1),
	    "missing " P2 "\n"
	    "error /: not in the Nix store " SD "\n");
	CHECK_STR(unit_replies(&b, "daemon", 0),
	    "ok " P1 " daemon\n"
	    "missing " P2 " daemon\n"
	    "dropped " P1 " daemon\n"
	    "error /: daemon: not in the Nix store " SD "\n");
	CHECK(request_set_error(&b.req[0], "no\nnewline in reasons") == 0);
	CHECK(b.req[0].reply == REPLY_ERROR);
	batch_free(&b);
	buf_free(&in);
}

/* A batch holds or drops, never both: batch_move stops at the change. */
static void
batch_kinds(void)
{
	struct batch q = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct buf in = { NULL, 0, 0, 0 };
	int skipping = 0;

	take(&q, &in, P1 "\n" P2 "\ndrop " P1 "\n" P2 "\n", &skipping, 100);
	CHECK(batch_move(&b, &q, 100) == 0);
	CHECK(b.n == 2 && q.n == 2);
	batch_clear(&b);
	CHECK(batch_move(&b, &q, 100) == 0);
	CHECK(b.n == 1 && b.req[0].kind == REQUEST_DROP && q.n == 1);
	batch_clear(&b);
	CHECK(batch_move(&b, &q, 100) == 0);
	CHECK(b.n == 1 && q.n == 0);
	batch_free(&b);
	batch_free(&q);
	buf_free(&in);
}

int
main(void)
{
	RUN(lines_and_pieces);
	RUN(refusals);
	RUN(long_lines);
	RUN(drops);
	RUN(reply_lines);
	RUN(batch_kinds);
	return UNIT_DONE();
}
