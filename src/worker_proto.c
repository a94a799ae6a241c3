/*
 * worker_proto: encoding and decoding of worker-protocol messages.
 *
 * Framing: integers are u64 little-endian; a string is its u64 length, the
 * bytes, and zero padding to a multiple of 8; a list is a u64 count and
 * that many strings.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <vis.h>

#include "worker_proto.h"

int
wp_put_u64(struct buf *b, uint64_t v)
{
	unsigned char le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	return buf_append(b, le, sizeof(le));
}

int
wp_put_string(struct buf *b, const char *s, size_t n)
{
	static const unsigned char zero[8];

	if (wp_put_u64(b, n) == -1 || buf_append(b, s, n) == -1)
		return -1;
	return buf_append(b, zero, (8 - n % 8) % 8);
}

static int
put_u64s(struct buf *b, const uint64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (wp_put_u64(b, v[i]) == -1)
			return -1;
	return 0;
}

int
wp_put_hello(struct buf *b)
{
	if (wp_put_u64(b, WP_MAGIC_1) == -1)
		return -1;
	return wp_put_u64(b, WP_CLIENT_VERSION);
}

/* What the client sends once it knows the negotiated version. */
int
wp_put_hello_rest(struct buf *b, unsigned version)
{
	/* Our feature list: AddTempRoots, the one op we could use. */
	if (WP_MINOR(version) >= 38 && (wp_put_u64(b, 1) == -1 ||
	    wp_put_string(b, WP_FEATURE_ADD_TEMP_ROOTS,
	    sizeof(WP_FEATURE_ADD_TEMP_ROOTS) - 1) == -1))
		return -1;
	if (WP_MINOR(version) >= 14 && wp_put_u64(b, 0) == -1)
		return -1;		/* obsolete CPU affinity: none */
	if (WP_MINOR(version) >= 11 && wp_put_u64(b, 0) == -1)
		return -1;		/* obsolete reserveSpace: no */
	return 0;
}

/*
 * Verbosity 0 keeps log lines out of our replies; the other fields are the
 * values Nix's own client sends.
 */
int
wp_put_set_options(struct buf *b)
{
	static const uint64_t fields[] = {
		WP_OP_SET_OPTIONS,
		0,	/* keepFailed */
		0,	/* keepGoing */
		0,	/* tryFallback */
		0,	/* verbosity: lvlError */
		1,	/* maxBuildJobs */
		0,	/* maxSilentTime */
		1,	/* obsolete useBuildHook */
		7,	/* verboseBuild: lvlVomit, i.e. not verbose */
		0,	/* obsolete logType */
		0,	/* obsolete printBuildTrace */
		0,	/* buildCores */
		0,	/* useSubstitutes */
		0,	/* overrides: none */
	};

	return put_u64s(b, fields, sizeof(fields) / sizeof(fields[0]));
}

static int
put_op_path(struct buf *b, enum wp_op op, const char *path)
{
	if (wp_put_u64(b, op) == -1)
		return -1;
	return wp_put_path(b, path);
}

int
wp_put_is_valid_path(struct buf *b, const char *path)
{
	return put_op_path(b, WP_OP_IS_VALID_PATH, path);
}

int
wp_put_add_temp_root(struct buf *b, const char *path)
{
	return put_op_path(b, WP_OP_ADD_TEMP_ROOT, path);
}

/*
 * CollectGarbage(ReturnDead, no paths, ignoreLiveness 0, maxFreed 0): the
 * daemon takes gc.lock exclusively, so the reply cannot come before every
 * collection already running has finished; with maxFreed 0 it deletes
 * nothing.  Allowed for untrusted users.
 */
int
wp_put_gc_barrier(struct buf *b)
{
	static const uint64_t fields[] = {
		WP_OP_COLLECT_GARBAGE,
		1,	/* action: gcReturnDead */
		0,	/* paths: none */
		0,	/* ignoreLiveness */
		0,	/* maxFreed */
		0, 0, 0	/* obsolete */
	};

	return put_u64s(b, fields, sizeof(fields) / sizeof(fields[0]));
}

int
wp_put_add_temp_roots_begin(struct buf *b, size_t n)
{
	if (wp_put_u64(b, WP_OP_ADD_TEMP_ROOTS) == -1)
		return -1;
	return wp_put_u64(b, n);
}

int
wp_put_query_valid_begin(struct buf *b, size_t n)
{
	if (wp_put_u64(b, WP_OP_QUERY_VALID_PATHS) == -1)
		return -1;
	return wp_put_u64(b, n);
}

int
wp_put_path(struct buf *b, const char *path)
{
	return wp_put_string(b, path, strlen(path));
}

int
wp_put_query_valid_end(struct buf *b, unsigned version)
{
	if (WP_MINOR(version) >= 27)
		return wp_put_u64(b, 0);	/* substitute: no */
	return 0;
}

int
wp_get_u64(struct wp_reader *r, uint64_t *v)
{
	int i;

	if (r->len - r->off < 8)
		return WP_SHORT;
	*v = 0;
	for (i = 7; i >= 0; i--)
		*v = *v << 8 | r->p[r->off + (size_t)i];
	r->off += 8;
	return WP_OK;
}

int
wp_get_string(struct wp_reader *r, const char **s, size_t *n)
{
	uint64_t len;
	size_t padded, i;
	int rc;

	if ((rc = wp_get_u64(r, &len)) != WP_OK)
		return rc;
	if (len > WP_STRING_MAX)
		return WP_BAD;
	padded = (size_t)len + (8 - len % 8) % 8;
	if (r->len - r->off < padded) {
		r->off -= 8;
		return WP_SHORT;
	}
	for (i = (size_t)len; i < padded; i++)
		if (r->p[r->off + i] != 0)
			return WP_BAD;
	*s = (const char *)r->p + r->off;
	*n = (size_t)len;
	r->off += padded;
	return WP_OK;
}

/* A list's length, bounded so a broken daemon cannot make us loop long. */
static int
get_count(struct wp_reader *r, uint64_t *n)
{
	int rc;

	if ((rc = wp_get_u64(r, n)) != WP_OK)
		return rc;
	return *n > WP_LIST_MAX ? WP_BAD : WP_OK;
}

int
wp_skip_strings(struct wp_reader *r)
{
	uint64_t n, i;
	const char *s;
	size_t len;
	int rc;

	if ((rc = get_count(r, &n)) != WP_OK)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
	return WP_OK;
}

/* Skips the typed fields of an activity message. */
static int
skip_fields(struct wp_reader *r)
{
	uint64_t n, i, kind, v;
	const char *s;
	size_t len;
	int rc;

	if ((rc = get_count(r, &n)) != WP_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = wp_get_u64(r, &kind)) != WP_OK)
			return rc;
		if (kind == 0)
			rc = wp_get_u64(r, &v);
		else if (kind == 1)
			rc = wp_get_string(r, &s, &len);
		else
			return WP_BAD;
		if (rc != WP_OK)
			return rc;
	}
	return WP_OK;
}

/* The error frame: since 1.26 a structured Error, before a message+status. */
static int
get_error(struct wp_reader *r, unsigned version, struct wp_stderr *m)
{
	uint64_t v, ntraces, i;
	const char *s;
	size_t len;
	int rc;

	if (WP_MINOR(version) < 26) {
		if ((rc = wp_get_string(r, &m->text, &m->textlen)) != WP_OK)
			return rc;
		return wp_get_u64(r, &v);	/* exit status */
	}
	if ((rc = wp_get_string(r, &s, &len)) != WP_OK ||	/* "Error" */
	    (rc = wp_get_u64(r, &v)) != WP_OK ||		/* level */
	    (rc = wp_get_string(r, &s, &len)) != WP_OK ||	/* old name */
	    (rc = wp_get_string(r, &m->text, &m->textlen)) != WP_OK ||
	    (rc = wp_get_u64(r, &v)) != WP_OK)			/* havePos */
		return rc;
	if (v != 0)
		return WP_BAD;
	if ((rc = get_count(r, &ntraces)) != WP_OK)
		return rc;
	for (i = 0; i < ntraces; i++) {
		if ((rc = wp_get_u64(r, &v)) != WP_OK)		/* havePos */
			return rc;
		if (v != 0)
			return WP_BAD;
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
	}
	return WP_OK;
}

static int
get_stderr_body(struct wp_reader *r, unsigned version, uint64_t tag,
    struct wp_stderr *m)
{
	uint64_t v;
	const char *s;
	size_t len;
	int rc;

	m->kind = WP_MSG_OTHER;
	switch (tag) {
	case WP_STDERR_LAST:
		m->kind = WP_MSG_LAST;
		return WP_OK;
	case WP_STDERR_ERROR:
		m->kind = WP_MSG_ERROR;
		return get_error(r, version, m);
	case WP_STDERR_NEXT:
		m->kind = WP_MSG_LOG;
		return wp_get_string(r, &m->text, &m->textlen);
	case WP_STDERR_START_ACTIVITY:
		if ((rc = wp_get_u64(r, &v)) != WP_OK ||	/* id */
		    (rc = wp_get_u64(r, &v)) != WP_OK ||	/* level */
		    (rc = wp_get_u64(r, &v)) != WP_OK ||	/* type */
		    (rc = wp_get_string(r, &s, &len)) != WP_OK ||
		    (rc = skip_fields(r)) != WP_OK)
			return rc;
		return wp_get_u64(r, &v);			/* parent */
	case WP_STDERR_STOP_ACTIVITY:
		return wp_get_u64(r, &v);
	case WP_STDERR_RESULT:
		if ((rc = wp_get_u64(r, &v)) != WP_OK ||	/* id */
		    (rc = wp_get_u64(r, &v)) != WP_OK)		/* type */
			return rc;
		return skip_fields(r);
	default:
		return WP_BAD;
	}
}

int
wp_get_stderr(struct wp_reader *r, unsigned version, struct wp_stderr *m)
{
	size_t start = r->off;
	uint64_t tag;
	int rc;

	if ((rc = wp_get_u64(r, &tag)) != WP_OK)
		return rc;
	if ((rc = get_stderr_body(r, version, tag, m)) == WP_SHORT)
		r->off = start;
	return rc;
}

char *
wp_message_text(const char *text, size_t len)
{
	char *plain, *out, *p;
	size_t i = 0;

	if ((plain = malloc(len + 1)) == NULL)
		return NULL;
	for (p = plain; i < len; i++) {
		if (text[i] == '\033' && i + 1 < len && text[i + 1] == '[') {
			/* CSI: parameters and intermediates, then a final byte */
			for (i += 2; i < len && !(text[i] >= 0x40 &&
			    text[i] <= 0x7e); i++)
				;
			continue;
		}
		*p++ = text[i];
	}
	while (p > plain && p[-1] == '\n')
		p--;
	*p = '\0';
	/* Newlines too: a message may end up inside a one-line reply. */
	if (stravis(&out, plain, VIS_OCTAL | VIS_CSTYLE | VIS_NL | VIS_TAB) == -1)
		out = NULL;
	free(plain);
	return out;
}
