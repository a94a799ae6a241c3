/*
 * ssh_command: ssh-ng:// URIs to ssh command lines, following Nix's
 * SSHMaster and SSHStore (read in 2.8 and master).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "ssh_command.h"

#define SCHEME		"ssh-ng://"
#define PROGRAM_DEFAULT	"nix-daemon"

struct ssh_params {
	const char *program;	/* remote-program */
	char	*store;		/* remote-store, or NULL */
	char	*key;		/* ssh-key, or NULL */
	int	 compress;
};

/* Appends a copy of word; a failure sticks in c->nomem, so that a run of
 * pushes needs one check. */
static void
argv_push(struct ssh_command *c, const char *word)
{
	char **argv;

	if (c->nomem)
		return;
	if ((argv = reallocarray(c->argv, c->argc + 2, sizeof(*argv))) == NULL ||
	    (argv[c->argc] = strdup(word)) == NULL) {
		if (argv != NULL)
			c->argv = argv;
		c->nomem = 1;
		return;
	}
	c->argv = argv;
	argv[++c->argc] = NULL;
}

char *
ssh_command_quote(const char *s)
{
	size_t n = 3, i;
	char *q, *p;

	if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == strlen(s))
		return strdup(s);
	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '\'' ? 4 : 1;
	if ((q = p = malloc(n)) == NULL)
		return NULL;
	*p++ = '\'';
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else
			*p++ = s[i];
	*p++ = '\'';
	*p = '\0';
	return q;
}

/*
 * Splits s into words as sh would, without expansions: blanks separate,
 * '...' is literal, "..." keeps \\ \" \$ \` escapes, \ quotes one byte.
 * Returns 0, or -1 with a message in err; running out of memory sticks in
 * c->nomem.
 */
static int
split_words(struct ssh_command *c, const char *s, char *err, size_t errlen)
{
	char *word, *w, quote;
	int in_word = 0;

	if ((word = w = malloc(strlen(s) + 1)) == NULL) {
		c->nomem = 1;
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			*w = '\0';
			if (in_word)
				argv_push(c, word);
			in_word = 0;
			w = word;
			continue;
		}
		in_word = 1;
		if (*s == '\\' && s[1] != '\0') {
			*w++ = *++s;
			continue;
		}
		if (*s != '\'' && *s != '"') {
			*w++ = *s;
			continue;
		}
		for (quote = *s++; *s != quote; s++) {
			if (*s == '\0') {
				snprintf(err, errlen, "NIX_SSHOPTS: unterminated "
				    "%c quote", quote);
				free(word);
				return -1;
			}
			if (quote == '"' && *s == '\\' && s[1] != '\0' &&
			    strchr("\\\"$`", s[1]) != NULL)
				s++;
			*w++ = *s;
		}
	}
	*w = '\0';
	if (in_word)
		argv_push(c, word);
	free(word);
	return 0;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Decodes %XX in place, as URI query values are.  Returns 0, or -1. */
static int
percent_decode(char *s)
{
	char *out = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		if ((hi = hexval(s[1])) == -1 || (lo = hexval(s[2])) == -1)
			return -1;
		*out++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*out = '\0';
	return 0;
}

/* Settings every Nix store takes; they mean nothing to keep-paths. */
static int
generic_param(const char *key)
{
	static const char *const keys[] = { "max-connections",
	    "max-connection-age", "trusted", "priority", "want-mass-query",
	    "path-info-cache-size", "system-features", "log-fd", NULL };
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

/* Parses "k=v&k=v" (modified in place) into p.  Returns 0, or -1. */
static int
parse_params(char *q, struct ssh_params *p, char *err, size_t errlen)
{
	char *key, *value;

	while ((key = strsep(&q, "&")) != NULL) {
		if (*key == '\0')
			continue;
		if ((value = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "parameter \"%s\" has no value",
			    key);
			return -1;
		}
		*value++ = '\0';
		if (percent_decode(value) == -1) {
			snprintf(err, errlen, "%s: bad %%-escape", key);
			return -1;
		}
		if (strcmp(key, "remote-program") == 0 && *value != '\0')
			p->program = value;
		else if (strcmp(key, "remote-store") == 0)
			p->store = *value != '\0' ? value : NULL;
		else if (strcmp(key, "ssh-key") == 0)
			p->key = *value != '\0' ? value : NULL;
		else if (strcmp(key, "compress") == 0) {
			if (conf_parse_bool(value, &p->compress) == -1) {
				snprintf(err, errlen, "compress: \"%s\" is not "
				    "true or false", value);
				return -1;
			}
		} else if (!generic_param(key)) {
			snprintf(err, errlen, "unsupported parameter \"%s\" "
			    "(keep-paths knows remote-program, remote-store, "
			    "ssh-key and compress; for a host key, use "
			    "-o UserKnownHostsFile=FILE in NIX_SSHOPTS)", key);
			return -1;
		}
	}
	return 0;
}

/*
 * Splits [USER@]HOST[:PORT] (HOST may be [IPV6]) in place; *port is NULL
 * if none.  Returns 0, or -1 with a message in err.
 */
static int
parse_authority(char *a, char **host, char **port, char *err, size_t errlen)
{
	char *at = strrchr(a, '@'), *h = at != NULL ? at + 1 : a, *end;

	*port = NULL;
	if (at != NULL && (at == a || *a == '-')) {
		snprintf(err, errlen, "user name must not be empty or start "
		    "with '-'");
		return -1;
	}
	if (*h == '[' && (end = strchr(h, ']')) != NULL) {
		/* [IPV6] or [IPV6]:PORT: ssh wants the address bare. */
		memmove(h, h + 1, (size_t)(end - h - 1));
		end[-1] = '\0';
		if (end[1] == ':')
			*port = end + 2;
		else if (end[1] != '\0')
			goto bad;
	} else if ((end = strchr(h, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		*end = '\0';
		*port = end + 1;
	}
	if (*h == '\0' || *h == '-' || strpbrk(h, "/ \t\n") != NULL)
		goto bad;
	*host = a;
	return 0;
bad:
	snprintf(err, errlen, "host name must not be empty, start with '-' "
	    "or hold '/' or blanks");
	return -1;
}

/* The remote command: one word for ssh, which hands it to the shell. */
static char *
remote_command(const struct ssh_params *p)
{
	char *store = NULL, *cmd = NULL;

	if (p->store != NULL && (store = ssh_command_quote(p->store)) == NULL)
		return NULL;
	if (asprintf(&cmd, "%s --stdio%s%s", p->program,
	    store != NULL ? " --store " : "", store != NULL ? store : "") == -1)
		cmd = NULL;
	free(store);
	return cmd;
}

static int
build_argv(struct ssh_command *c, const char *host, const char *port,
    const struct ssh_params *p, char *err, size_t errlen)
{
	const char *opts = getenv("NIX_SSHOPTS");
	char *cmd;

	if (strcmp(host, "localhost") == 0) {
		argv_push(c, "sh");
		argv_push(c, "-c");
	} else {
		argv_push(c, "ssh");
		argv_push(c, host);
		argv_push(c, "-x");
		argv_push(c, "-a");
		if (opts != NULL && split_words(c, opts, err, errlen) == -1)
			return -1;
		if (p->key != NULL) {
			argv_push(c, "-i");
			argv_push(c, p->key);
		}
		if (p->compress)
			argv_push(c, "-C");
		if (port != NULL) {
			argv_push(c, "-p");
			argv_push(c, port);
		}
		argv_push(c, "--");
	}
	if ((cmd = remote_command(p)) == NULL)
		c->nomem = 1;
	else
		argv_push(c, cmd);
	free(cmd);
	if (c->nomem) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

int
ssh_command_build(const char *uri, struct ssh_command *c, char *err,
    size_t errlen)
{
	struct ssh_params p = { PROGRAM_DEFAULT, NULL, NULL, 0 };
	char *copy, *query, *host, *port, msg[512];
	const char *errstr;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (strncmp(uri, SCHEME, strlen(SCHEME)) != 0) {
		snprintf(err, errlen, "%s: not an ssh-ng:// URI", uri);
		return -1;
	}
	if ((copy = strdup(uri + strlen(SCHEME))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if ((query = strchr(copy, '?')) != NULL)
		*query++ = '\0';
	if (parse_authority(copy, &host, &port, msg, sizeof(msg)) == -1 ||
	    (query != NULL && parse_params(query, &p, msg, sizeof(msg)) == -1))
		goto bad;
	if (port != NULL) {
		strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL) {
			snprintf(msg, sizeof(msg), "port \"%s\" is %s", port,
			    errstr);
			goto bad;
		}
	}
	if ((c->host = strdup(host)) == NULL ||
	    build_argv(c, host, port, &p, msg, sizeof(msg)) == -1)
		goto bad;
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s: %s", uri, msg);
	ssh_command_free(c);
out:
	free(copy);
	return rc;
}

char *
ssh_command_text(const struct ssh_command *c)
{
	char *text = NULL, *word, *grown;
	size_t i, len = 0, n;

	for (i = 0; i < c->argc; i++) {
		if ((word = ssh_command_quote(c->argv[i])) == NULL)
			goto oom;
		n = strlen(word);
		if ((grown = realloc(text, len + n + 2)) == NULL) {
			free(word);
			goto oom;
		}
		text = grown;
		if (len > 0)
			text[len++] = ' ';
		memcpy(text + len, word, n + 1);
		len += n;
		free(word);
	}
	return text != NULL ? text : strdup("");
oom:
	free(text);
	return NULL;
}

void
ssh_command_free(struct ssh_command *c)
{
	size_t i;

	for (i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c->host);
	memset(c, 0, sizeof(*c));
}
