/*
 * pathscan: store paths in a stream, however it is cut.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "pathscan.h"
#include "unit.h"

#define SD	"/nix/store"
#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"

struct found {
	char	text[4096];
};

static int
on_found(void *arg, const char *path, size_t len)
{
	struct found *f = arg;

	snprintf(f->text + strlen(f->text), sizeof(f->text) - strlen(f->text),
	    "%.*s\n", (int)len, path);
	return 0;
}

/* The paths found in stream[0..len), fed in pieces of step bytes. */
static const char *
scan(const char *stream, size_t len, size_t step)
{
	static struct found f;
	struct pathscan s;
	size_t at, n;

	f.text[0] = '\0';
	pathscan_init(&s, SD);
	for (at = 0; at < len; at += n) {
		n = len - at < step ? len - at : step;
		CHECK(pathscan_feed(&s, stream + at, n, on_found, &f) == 0);
	}
	CHECK(pathscan_end(&s, on_found, &f) == 0);
	return f.text;
}

/* A worker-protocol string: its length in 8 bytes, little-endian. */
static size_t
wire_string(char *out, const char *s)
{
	uint64_t len = strlen(s);
	size_t i;

	for (i = 0; i < 8; i++)
		out[i] = (char)(len >> (8 * i));
	memcpy(out + 8, s, len);
	return 8 + len;
}

static void
text_streams(void)
{
	static const char text[] = "built " SD "/" HASH "-hello-2.12, and "
	    SD "/" HASH "-x/bin/hello; not /nix/storey/" HASH "-y nor "
	    SD "/short-z\n";
	size_t step;

	for (step = 1; step <= sizeof(text); step++)
		CHECK_STR(scan(text, sizeof(text) - 1, step),
		    SD "/" HASH "-hello-2.12\n" SD "/" HASH "-x\n");
}

/* Where a length precedes the path, it decides where the path ends. */
static void
wire_strings(void)
{
	char stream[512];
	size_t len, step;

	len = wire_string(stream, SD "/" HASH "-a");
	/* The next field begins with a name character. */
	len += wire_string(stream + len, "b-not-the-name");
	for (step = 1; step <= len; step++)
		CHECK_STR(scan(stream, len, step), SD "/" HASH "-a\n");
}

/* A path at the very end of the stream is found by pathscan_end. */
static void
at_the_end(void)
{
	static const char text[] = SD "/" HASH "-last";

	CHECK_STR(scan(text, sizeof(text) - 1, 4), SD "/" HASH "-last\n");
}

int
main(void)
{
	RUN(text_streams);
	RUN(wire_strings);
	RUN(at_the_end);
	return UNIT_DONE();
}
