/*
 * request: line framing, request parsing and reply formatting.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <vis.h>

#include "request.h"
#include "storepath.h"

/* Every byte that could break a reply line is made visible. */
#define VIS_REPLY	(VIS_OCTAL | VIS_CSTYLE | VIS_NL | VIS_TAB)

int
request_set_error(struct request *r, const char *why)
{
	free(r->why);
	if ((r->why = strdup(why)) == NULL)
		return -1;
	r->reply = REPLY_ERROR;
	return 0;
}

int
reply_set_error(struct reply *rep, const char *why)
{
	free(rep->why);
	if ((rep->why = strdup(why)) == NULL)
		return -1;
	rep->kind = REPLY_ERROR;
	return 0;
}

void
reply_clear(struct reply *rep)
{
	free(rep->why);
	rep->why = NULL;
	rep->kind = REPLY_PENDING;
}

/* How much of an over-long line its error reply echoes. */
#define ECHO_MAX	64

/* Refuses r, keeping its echo for the error reply.  Returns 0 or -1. */
static int
refuse(struct request *r, const char *echoed, const char *why)
{
	if ((r->input = strdup(echoed)) == NULL)
		return -1;
	return request_set_error(r, why);
}

/* Every byte is one that VIS_REPLY leaves as it is. */
static int
plain(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == '\\')
			return 0;
	return 1;
}

/*
 * Makes r a request of kind for the path in input[skip..len); error
 * replies echo all of input.
 */
static int
parse(struct request *r, const char *storedir, const char *input, size_t len,
    enum request_kind kind, size_t skip)
{
	char why[STOREPATH_WHY_MAX], *path;
	char echoed[REQUEST_LINE_MAX * 4 + sizeof("...")];
	int rc;
	size_t echo = len > REQUEST_LINE_MAX ? ECHO_MAX : len;

	r->kind = kind;
	if (echo == len && plain(input, len)) {
		/* strvisx would copy it unchanged, byte by byte, slowly. */
		memcpy(echoed, input, len);
		echoed[len] = '\0';
	} else
		strvisx(echoed, input, echo, VIS_REPLY);
	if (echo < len)
		strlcat(echoed, "...", sizeof(echoed));
	if (len > REQUEST_LINE_MAX)
		return refuse(r, echoed, "line too long");
	if (len == skip)
		return refuse(r, echoed, skip > 0 ? "no path to drop" :
		    "empty request");
	if (memchr(input, '\0', len) != NULL)
		return refuse(r, echoed, "contains a NUL byte");
	if ((path = strndup(input + skip, len - skip)) == NULL)
		return -1;
	rc = storepath_resolve(storedir, path, &r->path, why, sizeof(why));
	free(path);
	if (rc == -1)
		return refuse(r, echoed, why);
	/* Most inputs are their own canonical path: no echo to keep then. */
	if (strcmp(echoed, r->path) != 0 && (r->input = strdup(echoed)) == NULL)
		return -1;
	return 0;
}

int
request_parse(struct request *r, const char *storedir, const char *input,
    size_t len)
{
	return parse(r, storedir, input, len, REQUEST_HOLD, 0);
}

int
request_captured(struct request *r, const char *path, int how)
{
	if ((r->path = strdup(path)) == NULL)
		return -1;
	r->kind = REQUEST_HOLD;
	r->captured = (unsigned char)how;
	return 0;
}

/* How long the "drop " at the head of a line is ("drop" alone too), or 0. */
static size_t
drop_prefix(const char *line, size_t len)
{
	size_t word = sizeof(REQUEST_DROP_PREFIX) - 2;	/* "drop" */

	if (len < word || memcmp(line, REQUEST_DROP_PREFIX, word) != 0)
		return 0;
	if (len == word)
		return word;
	return line[word] == ' ' ? word + 1 : 0;
}

int
request_parse_line(struct request *r, const char *storedir, const char *line,
    size_t len)
{
	size_t skip = drop_prefix(line, len);

	return parse(r, storedir, line, len, skip > 0 ? REQUEST_DROP :
	    REQUEST_HOLD, skip);
}

void
request_free(struct request *r)
{
	free(r->input);
	free(r->path);
	free(r->why);
	r->input = r->path = r->why = NULL;
}

size_t
request_count_lines(const struct buf *in, int skipping)
{
	const char *p = (const char *)buf_head(in), *end, *nl;
	size_t n = 0;

	if (buf_used(in) == 0)
		return 0;
	for (end = p + buf_used(in);
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1)
		n++;
	/* The first newline ends the over-long line being discarded. */
	return skipping && n > 0 ? n - 1 : n;
}

const char *
request_input(const struct request *r)
{
	return r->input != NULL ? r->input : r->path;
}

int
request_format_root(struct buf *out, const char *path, enum reply_kind kind,
    const char *store, int json)
{
	const char *word = "pending";

	/* No default: a new reply kind is a compile error here. */
	switch (kind) {
	case REPLY_OK:		word = "ok"; break;
	case REPLY_MISSING:	word = "missing"; break;
	case REPLY_ERROR:	word = "error"; break;
	case REPLY_DROPPED:	word = "dropped"; break;
	case REPLY_PENDING:	break;
	}
	/* Store paths and labels need no escaping: name characters, and
	 * labels made visible. */
	if (json)
		return buf_printf(out,
		    "{\"path\":\"%s\",\"reply\":\"%s\"%s%s%s}\n", path, word, store != NULL ? ",\"store\":\"" : "",
		    store != NULL ? store : "", store != NULL ? "\"" : "");
	return buf_printf(out, "%s %s%s%s\n", word, path,
	    store != NULL ? " " : "", store != NULL ? store : "");
}

/* Appends the strings up to NULL.  Returns 0/-1. */
static int
append(struct buf *out, const char *first, ...)
{
	va_list ap;
	const char *s;
	int rc = 0;

	va_start(ap, first);
	for (s = first; s != NULL && rc == 0; s = va_arg(ap, const char *))
		rc = buf_append(out, s, strlen(s));
	va_end(ap);
	return rc;
}

int
request_format_reply(struct buf *out, const struct request *r,
    const struct reply *rep, const char *store, int quiet)
{
	const char *sp = store != NULL ? " " : "";
	const char *colon = store != NULL ? ": " : "";

	if (store == NULL)
		store = "";
	/* No default: a new reply kind is a compile error here. */
	switch ((enum reply_kind)rep->kind) {
	case REPLY_OK:
		return quiet ? 0 : append(out, "ok ", r->path, sp, store, "\n",
		    (char *)NULL);
	case REPLY_MISSING:
		return append(out, "missing ", r->path, sp, store, "\n",
		    (char *)NULL);
	case REPLY_DROPPED:
		return quiet ? 0 : append(out, "dropped ", r->path, sp, store,
		    "\n", (char *)NULL);
	case REPLY_ERROR:
		return append(out, "error ", request_input(r), ": ", store,
		    colon, rep->why, "\n", (char *)NULL);
	case REPLY_PENDING:
		break;
	}
	abort();
}
