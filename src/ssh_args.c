/*
 * ssh_args: an OpenSSH command line read as ssh(1) reads it.  Options come
 * before the destination and, as OpenSSH takes them, after it too, up to
 * "--" or the first word that is no option: the command.  Of each setting
 * the first value wins, the destination's own user and port included:
 * "-p 1 -p 2 h" goes to port 1, "u@h -l z" logs in as u, "-l z u@h" as z.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssh_args.h"

/* OpenSSH's options that take an argument (ssh.c's getopt string). */
#define WITH_ARG	"BbcDEeFIiJLlmOopQRSWw"
/* Of those and the flags, the ones that say how to log in. */
#define LOGIN_ARG	"BbcFIiJlmop"
#define LOGIN_FLAG	"46AaCgKkXxYy"

/* Appends a copy of word to the login options.  Returns 0/-1. */
static int
login_push(struct ssh_args *a, const char *word)
{
	const char **grown;
	char *copy;

	if ((grown = reallocarray(a->login, a->nlogin + 2,
	    sizeof(*grown))) == NULL)
		return -1;
	a->login = grown;
	if ((copy = strdup(word)) == NULL)
		return -1;
	a->login[a->nlogin++] = copy;
	a->login[a->nlogin] = NULL;
	return 0;
}

/*
 * The value of an -o option word for keyword ("Port=22", "port 22",
 * "User = u"), or NULL if it sets another.
 */
static const char *
config_value(const char *arg, const char *keyword)
{
	size_t len = strlen(keyword);

	if (strncasecmp(arg, keyword, len) != 0 ||
	    strchr(" \t=", arg[len]) == NULL || arg[len] == '\0')
		return NULL;
	arg += len;
	arg += strspn(arg, " \t");
	if (*arg == '=')
		arg++;
	arg += strspn(arg, " \t");
	return *arg != '\0' ? arg : NULL;
}

/* The user and port, unless an earlier word set them. */
static void
take_user(struct ssh_args *a, const char *user)
{
	if (a->user == NULL && !a->dest_user && user != NULL)
		a->user = user;
}

static void
take_port(struct ssh_args *a, const char *port)
{
	if (a->port == NULL && !a->dest_port && port != NULL)
		a->port = port;
}

/*
 * -o RequestTTY: yes and force ask for a terminal, no for none; as an
 * option, only if no word before set it.
 */
static void
take_tty(struct ssh_args *a, const char *value)
{
	if (value == NULL || a->tty != 0)
		return;
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "force") == 0)
		a->tty = 1;
	else if (strcasecmp(value, "no") == 0)
		a->tty = -1;
}

/*
 * The destination: its own user ("u@h", "ssh://u@h") and port
 * ("ssh://h:22") count where it stands among the options.
 */
static void
take_dest(struct ssh_args *a, const char *dest)
{
	const char *host = dest, *colon;

	a->dest = dest;
	a->nbefore = a->nlogin;
	if (strncmp(host, "ssh://", 6) == 0)
		host += 6;
	if (a->user == NULL && strchr(host, '@') != NULL)
		a->dest_user = 1;
	colon = strrchr(host, ':');
	if (a->port == NULL && host != dest && colon != NULL &&
	    colon[1] != '\0' && strspn(colon + 1, "0123456789") ==
	    strlen(colon + 1) && strchr(colon, ']') == NULL)
		a->dest_port = 1;
}

/*
 * One option word at argv[*i] ("-p22", "-p 22", "-xa"); *i moves past
 * what it took.  Returns 0, 1 if it is no option, -1 for ENOMEM.
 */
static int
option(struct ssh_args *a, int argc, const char *const argv[], int *i)
{
	const char *w = argv[*i], *arg;
	char opt[3] = "-?";
	size_t k;

	if (w[0] != '-' || w[1] == '\0')
		return 1;
	for (k = 1; w[k] != '\0'; k++) {
		if (strchr(WITH_ARG, w[k]) == NULL) {
			/* No command of its own: a master, or no session. */
			if (strchr("MNGV", w[k]) != NULL)
				a->master = 1;
			/* -t and -T: the last one wins, as in ssh. */
			if (w[k] == 't' || w[k] == 'T')
				a->tty = w[k] == 't' ? 1 : -1;
			opt[1] = w[k];
			if (strchr(LOGIN_FLAG, w[k]) != NULL &&
			    login_push(a, opt) == -1)
				return -1;
			continue;
		}
		arg = w[k + 1] != '\0' ? &w[k + 1] : *i + 1 < argc ?
		    argv[++*i] : "";
		if (w[k] == 'l')
			take_user(a, arg);
		else if (w[k] == 'p')
			take_port(a, arg);
		else if (w[k] == 'o') {
			take_user(a, config_value(arg, "User"));
			take_port(a, config_value(arg, "Port"));
			take_tty(a, config_value(arg, "RequestTTY"));
		}
		if (w[k] == 'O' || w[k] == 'W')
			a->master = 1;	/* a control command, or stdio
					   forwarded (a ProxyJump hop) */
		else if (strchr(LOGIN_ARG, w[k]) != NULL) {
			opt[1] = w[k];
			if (login_push(a, opt) == -1 ||
			    login_push(a, arg) == -1)
				return -1;
		}
		break;
	}
	(*i)++;
	return 0;
}

/* The command: the words left, joined by spaces. */
static int
command(struct ssh_args *a, int argc, const char *const argv[], int i)
{
	size_t len = 0;
	int k;

	if (i >= argc)
		return 0;
	for (k = i; k < argc; k++)
		len += strlen(argv[k]) + 1;
	if ((a->command = malloc(len)) == NULL)
		return -1;
	a->command[0] = '\0';
	for (k = i; k < argc; k++) {
		if (k > i)
			strlcat(a->command, " ", len);
		strlcat(a->command, argv[k], len);
	}
	return 0;
}

int
ssh_args_parse(struct ssh_args *a, int argc, const char *const argv[])
{
	int i = 0, rc;

	memset(a, 0, sizeof(*a));
	while (i < argc) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			if (a->dest == NULL && i < argc)
				take_dest(a, argv[i++]);
			break;
		}
		if ((rc = option(a, argc, argv, &i)) == -1)
			goto oom;
		if (rc == 0)
			continue;
		if (a->dest != NULL)
			break;		/* the command's first word */
		take_dest(a, argv[i++]);
	}
	if (command(a, argc, argv, i) == -1)
		goto oom;
	if (a->master)
		a->command = (free(a->command), NULL);
	return 0;
oom:
	ssh_args_free(a);
	errno = ENOMEM;
	return -1;
}

/* The next word of s at *p, split at blanks; "" at the end. */
static size_t
word(const char *s, size_t *p, const char **start)
{
	size_t i = *p, n;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	*start = s + i;
	for (n = 0; s[i + n] != '\0' && s[i + n] != ' ' && s[i + n] != '\t';
	    n++)
		continue;
	*p = i + n;
	return n;
}

/* Whether w (n bytes) names program, alone or as a path's last part. */
static int
names(const char *w, size_t n, const char *program)
{
	size_t len = strlen(program);

	return n >= len && memcmp(w + n - len, program, len) == 0 &&
	    (n == len || w[n - len - 1] == '/');
}

/*
 * Whether w (n bytes) begins a store option, "--store" or "--option
 * store" (its "store" taken from s at *p): its value is the next word.
 */
static int
store_option(const char *s, size_t *p, const char *w, size_t n)
{
	const char *next;
	size_t at = *p;

	if (n == 7 && memcmp(w, "--store", 7) == 0)
		return 1;
	if (n != 8 || memcmp(w, "--option", 8) != 0 ||
	    word(s, &at, &next) != 5 || memcmp(next, "store", 5) != 0)
		return 0;
	*p = at;
	return 1;
}

int
ssh_args_nix(const struct ssh_args *a, char **bindir, char **store)
{
	const char *w, *prog = NULL;
	size_t p = 0, n, plen = 0;
	int nix = 0;

	*bindir = *store = NULL;
	if (a->command == NULL)
		return 0;
	while ((n = word(a->command, &p, &w)) > 0) {
		if (prog == NULL && (names(w, n, "nix-daemon") ||
		    names(w, n, "nix-store"))) {
			prog = w;
			plen = n;
		} else if (prog != NULL && ((n == 7 && memcmp(w, "--stdio",
		    7) == 0) || (n == 7 && memcmp(w, "--serve", 7) == 0)))
			nix = 1;
		else if (prog != NULL && store_option(a->command, &p, w, n) &&
		    (n = word(a->command, &p, &w)) > 0 && *store == NULL &&
		    (*store = strndup(w, n)) == NULL)
			goto oom;
	}
	if (!nix) {
		free(*store);
		*store = NULL;
		return 0;
	}
	/* The directory of the program, or "" for PATH's. */
	while (plen > 0 && prog[plen - 1] != '/')
		plen--;
	if ((*bindir = strndup(prog, plen)) == NULL)
		goto oom;
	return 1;
oom:
	free(*store);
	*store = NULL;
	return -1;
}

char *
ssh_args_uri(const struct ssh_args *a)
{
	const char *host = a->dest, *at, *end;
	char *uri;
	int len;

	if (strncmp(host, "ssh://", 6) == 0)
		host += 6;
	end = host + strlen(host);
	if (a->port != NULL && host != a->dest && strrchr(host, ':') != NULL &&
	    strchr(strrchr(host, ':'), ']') == NULL)
		end = strrchr(host, ':');	/* -p's port, not the URI's */
	if (a->user != NULL && (at = memchr(host, '@', (size_t)(end - host)))
	    != NULL)
		host = at + 1;			/* -l's user, not the name's */
	len = (int)(end - host);
	if (asprintf(&uri, "ssh-ng://%s%s%.*s%s%s", a->user != NULL ?
	    a->user : "", a->user != NULL ? "@" : "", len, host,
	    a->port != NULL ? ":" : "", a->port != NULL ? a->port : "") == -1)
		return NULL;
	return uri;
}

/* Appends s and a separator to *key (len bytes so far).  Returns 0/-1. */
static int
key_append(char **key, size_t *len, const char *s, char sep)
{
	size_t n = strlen(s);
	char *grown;

	if ((grown = realloc(*key, *len + n + 2)) == NULL)
		return -1;
	memcpy(grown + *len, s, n);
	grown[*len + n] = sep;
	grown[*len + n + 1] = '\0';
	*key = grown;
	*len += n + 1;
	return 0;
}

char *
ssh_args_host_key(const struct ssh_args *a, const char *store)
{
	char *key = NULL;
	size_t len = 0, i;

	if (key_append(&key, &len, a->dest, '\n') == -1 ||
	    key_append(&key, &len, store != NULL ? store : "", '\n') == -1)
		goto oom;
	for (i = 0; i < a->nlogin; i++) {
		if (i == a->nbefore && key_append(&key, &len, "", '\n') == -1)
			goto oom;
		/* A flag alone chooses no host; an option's words may. */
		if (a->login[i][0] == '-' && strchr(WITH_ARG,
		    a->login[i][1]) == NULL)
			continue;
		if (key_append(&key, &len, a->login[i], '\n') == -1 ||
		    (i + 1 < a->nlogin && key_append(&key, &len,
		    a->login[++i], '\n') == -1))
			goto oom;
	}
	return key;
oom:
	free(key);
	return NULL;
}

void
ssh_args_free(struct ssh_args *a)
{
	size_t i;

	for (i = 0; i < a->nlogin; i++)
		free((char *)a->login[i]);
	free(a->login);
	free(a->command);
	memset(a, 0, sizeof(*a));
}
