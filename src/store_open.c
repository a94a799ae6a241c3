/*
 * store_open: choosing a back end from a store URI, as Nix does, and
 * opening the chosen stores, composed.
 *
 * Every path and URI is checked against its field: a value that does not
 * fit is an error naming it, never a truncated path that would root (or
 * mkdir) somewhere else.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "nixconf.h"
#include "ssh_command.h"
#include "store_daemon.h"
#include "store_gcroots.h"
#include "store_local.h"
#include "store_open.h"
#include "store_renew.h"
#include "storepath.h"
#include "transport.h"

#define NIX_STATE_DIR_DEFAULT	"/nix/var/nix"
#define NIX_STORE_DIR_DEFAULT	"/nix/store"

/* Formats into a field of size bytes; -1 if the text does not fit. */
static int
field_printf(char *field, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
field_printf(char *field, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(field, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * The error for a path made from the value of option (named with its
 * separator: "--store ", "NIX_STATE_DIR=") that does not fit; returns -1.
 */
static int
too_long(char *err, size_t errlen, const char *option, const char *value,
    const char *what)
{
	snprintf(err, errlen, "%s%.64s%s: %s is longer than %d bytes", option,
	    value, strlen(value) > 64 ? "..." : "", what, STORE_WHERE_MAX);
	return -1;
}

char *
store_dir_from_env(void)
{
	const char *dir;

	if ((dir = nixconf_env("NIX_STORE_DIR")) == NULL &&
	    (dir = nixconf_env("NIX_STORE")) == NULL)
		dir = NIX_STORE_DIR_DEFAULT;
	return storepath_canon(dir);
}

static const char *
state_dir_from_env(void)
{
	const char *state = nixconf_env("NIX_STATE_DIR");

	return state != NULL ? state : NIX_STATE_DIR_DEFAULT;
}

/*
 * Fills in c, whose why is set; returns 0, or -1 if where (made from the
 * value of option) is too long.
 */
static int
choice_set(struct store_choice *c, enum store_kind kind, const char *where,
    const char *option, const char *value, char *err, size_t errlen)
{
	c->kind = kind;
	if (strlcpy(c->where, where, sizeof(c->where)) >= sizeof(c->where))
		return too_long(err, errlen, option, value, "the path");
	return 0;
}

/* The daemon socket Nix's clients use: NIX_DAEMON_SOCKET_PATH, else in the
 * state directory. */
static int
choose_daemon(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	const char *p;
	char sock[sizeof(c->where)];

	if ((p = nixconf_env("NIX_DAEMON_SOCKET_PATH")) != NULL) {
		if (strlcat(c->why, "; NIX_DAEMON_SOCKET_PATH names the socket",
		    sizeof(c->why)) >= sizeof(c->why))
			return too_long(err, errlen, "--store ", uri,
			    "the reason");
		return choice_set(c, STORE_KIND_DAEMON, p,
		    "NIX_DAEMON_SOCKET_PATH=", p, err, errlen);
	}
	if (field_printf(sock, sizeof(sock), "%s/daemon-socket/socket",
	    state_dir_from_env()) == -1)
		return too_long(err, errlen, "NIX_STATE_DIR=",
		    state_dir_from_env(), "its daemon socket");
	return choice_set(c, STORE_KIND_DAEMON, sock, "--store ", uri, err,
	    errlen);
}

/*
 * "local", "local?root=DIR&state=DIR": the state directory is the state=
 * parameter, else ROOT/nix/var/nix for a chroot store, else NIX_STATE_DIR.
 */
static int
choose_local(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	char *params, *p, *value, state[sizeof(c->where)];
	const char *root = NULL, *statep = NULL;
	int rc = -1;

	if ((params = strdup(uri)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	p = strchr(params, '?');
	while (p != NULL && *p != '\0') {
		*p++ = '\0';
		value = strchr(p, '=');
		if (value != NULL)
			*value++ = '\0';
		if (value != NULL && strcmp(p, "root") == 0 && *value == '/')
			root = value;
		else if (value != NULL && strcmp(p, "state") == 0 &&
		    *value == '/')
			statep = value;
		else {
			snprintf(err, errlen, "%s: unsupported parameter \"%s\" "
			    "(keep-paths knows root=/DIR and state=/DIR)", uri,
			    p);
			goto out;
		}
		p = strchr(value, '&');
	}
	if (statep != NULL)
		rc = field_printf(state, sizeof(state), "%s", statep);
	else if (root != NULL)
		rc = field_printf(state, sizeof(state), "%s/nix/var/nix", root);
	else
		rc = field_printf(state, sizeof(state), "%s",
		    state_dir_from_env());
	if (rc == -1)
		too_long(err, errlen, "--store ", uri, "the state directory");
	else
		rc = choice_set(c, STORE_KIND_LOCAL, state, "--store ", uri,
		    err, errlen);
out:
	free(params);
	return rc;
}

/* A chroot store: Nix takes any path with a slash as its root. */
static int
choose_chroot(const char *dir, struct store_choice *c, char *err,
    size_t errlen)
{
	char cwd[sizeof(c->where)], path[sizeof(c->where)];
	char uri[sizeof(c->uri)], *root;

	if (*dir != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(err, errlen, "getcwd: %s", strerror(errno));
		return -1;
	}
	if (field_printf(path, sizeof(path), "%s%s%s", *dir == '/' ? "" : cwd,
	    *dir == '/' ? "" : "/", dir) == -1)
		return too_long(err, errlen, "--store ", dir, "the root");
	if ((root = storepath_canon(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (field_printf(uri, sizeof(uri), "local?root=%s", root) == -1) {
		free(root);
		return too_long(err, errlen, "--store ", dir, "the root");
	}
	free(root);
	return choose_local(uri, c, err, errlen);
}

/* "ssh-ng://...": checked now, so that --print-store shows its errors. */
static int
choose_ssh(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	struct ssh_command cmd;

	if (ssh_command_build(uri, &cmd, err, errlen) == -1)
		return -1;
	ssh_command_free(&cmd);
	return choice_set(c, STORE_KIND_SSH, uri, "--store ", uri, err,
	    errlen);
}

/* Nix's own "auto": the local store if we may write its state directory. */
static int
choose_auto(struct store_choice *c, char *err, size_t errlen)
{
	const char *state = state_dir_from_env();

	if (access(state, R_OK | W_OK) == 0) {
		strlcpy(c->uri, "local", sizeof(c->uri));
		if (field_printf(c->why, sizeof(c->why), "auto: %s is "
		    "writable", state) == -1)
			return too_long(err, errlen, "NIX_STATE_DIR=",
			    state, "it");
		return choose_local("local", c, err, errlen);
	}
	if (field_printf(c->why, sizeof(c->why), "auto: %s is not writable "
	    "(%s)", state, strerror(errno)) == -1)
		return too_long(err, errlen, "NIX_STATE_DIR=", state, "it");
	strlcpy(c->uri, "daemon", sizeof(c->uri));
	return choose_daemon("auto", c, err, errlen);
}

static int choose_uri(const char *uri, struct store_choice *, char *err,
    size_t errlen);

/*
 * "auto", as Nix's clients read it: the store setting of nix.conf, whose
 * default is NIX_REMOTE; either may say "auto", Nix's own.
 */
static int
choose_setting(struct store_choice *c, char *err, size_t errlen)
{
	char value[sizeof(c->uri)], from[sizeof(c->why) / 2];
	const char *uri;
	int rc;

	if ((rc = nixconf_store(value, sizeof(value), from, sizeof(from), err,
	    errlen)) == -1)
		return -1;
	if (rc == 1) {
		uri = value;
		rc = field_printf(c->why, sizeof(c->why), "store = %s in %s",
		    value, from);
	} else if ((uri = nixconf_env("NIX_REMOTE")) != NULL)
		rc = field_printf(c->why, sizeof(c->why), "NIX_REMOTE=%s",
		    uri);
	if (uri == NULL || strcmp(uri, "auto") == 0)
		return choose_auto(c, err, errlen);
	if (rc == -1)
		return too_long(err, errlen, "", c->why, "it");
	if (strncmp(uri, "gcroots", 7) == 0) {
		snprintf(err, errlen, "%s: not a Nix store", c->why);
		return -1;
	}
	return choose_uri(uri, c, err, errlen);
}

/*
 * "gcroots", "gcroots?dir=DIR": session directories under DIR, by default
 * STATE/gcroots/per-user/USER/keep-paths where STATE is the local store's
 * state directory (NIX_STATE_DIR for a daemon), where its collector finds
 * their links; the temporary roots as "auto" chooses.  Links are local: a
 * remote store cannot read them.
 */
static int
choose_gcroots(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	const char *dir = uri + strlen("gcroots");
	struct passwd *pw = NULL;

	if (strncmp(dir, "?dir=/", 6) != 0 && *dir != '\0') {
		snprintf(err, errlen, "%s: use gcroots or gcroots?dir=/DIR", uri);
		return -1;
	}
	if (*dir == '\0' && (pw = getpwuid(geteuid())) == NULL) {
		snprintf(err, errlen, "uid %lu: no user name",
		    (unsigned long)geteuid());
		return -1;
	}
	if (choose_setting(c, err, errlen) == -1)
		return -1;
	if (c->kind == STORE_KIND_SSH) {
		snprintf(err, errlen, "%s: session links are local, and the "
		    "store (%s) is not", uri, c->where);
		return -1;
	}
	if (pw == NULL ? field_printf(c->sessions, sizeof(c->sessions), "%s",
	    dir + 5) : field_printf(c->sessions, sizeof(c->sessions),
	    "%s/gcroots/per-user/%s/keep-paths", c->kind == STORE_KIND_LOCAL ?
	    c->where : state_dir_from_env(), pw->pw_name))
		return too_long(err, errlen, "--store ", uri,
		    "the sessions directory");
	c->gcroots = 1;
	return 0;
}

/* A URI that names one store (not auto, not gcroots); why is set. */
static int
choose_uri(const char *uri, struct store_choice *c, char *err, size_t errlen)
{
	if (strlcpy(c->uri, uri, sizeof(c->uri)) >= sizeof(c->uri))
		return too_long(err, errlen, "--store ", uri, "the URI");
	if (strcmp(uri, "daemon") == 0)
		return choose_daemon(uri, c, err, errlen);
	if (strncmp(uri, "unix://", 7) == 0 && uri[7] == '/' &&
	    strchr(uri, '?') == NULL)
		return choice_set(c, STORE_KIND_DAEMON, uri + 7, "--store ",
		    uri, err, errlen);
	if (strcmp(uri, "local") == 0 || strncmp(uri, "local?", 6) == 0)
		return choose_local(uri, c, err, errlen);
	if (strncmp(uri, "ssh-ng://", 9) == 0)
		return choose_ssh(uri, c, err, errlen);
	if (strncmp(uri, "ssh://", 6) == 0) {
		snprintf(err, errlen, "%s: ssh:// stores (nix-store --serve) "
		    "cannot hold temporary roots; use ssh-ng://", uri);
		return -1;
	}
	if (strchr(uri, '/') != NULL && strstr(uri, "://") == NULL &&
	    strchr(uri, '?') == NULL)
		return choose_chroot(uri, c, err, errlen);
	snprintf(err, errlen, "%s: unsupported store (use auto, daemon, "
	    "unix:///path/to/socket, local, local?root=/DIR, /DIR, "
	    "ssh-ng://[USER@]HOST[:PORT] or gcroots)", uri);
	return -1;
}

int
store_choose(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	if (errlen > 0)
		*err = '\0';
	memset(c, 0, sizeof(*c));
	if (strcmp(uri, "auto") == 0)
		return choose_setting(c, err, errlen);
	if (strncmp(uri, "gcroots", 7) == 0)
		return choose_gcroots(uri, c, err, errlen);
	if (field_printf(c->why, sizeof(c->why), "--store %s", uri) == -1)
		return too_long(err, errlen, "--store ", uri, "the URI");
	return choose_uri(uri, c, err, errlen);
}

void
store_choice_print(FILE *f, const struct store_choice *c)
{
	static const char *const kinds[] = { "daemon", "local", "ssh-ng" };
	struct ssh_command cmd;
	char *text = NULL, err[256];

	if (c->gcroots)
		fprintf(f, "gcroots %s over ", c->sessions);
	fprintf(f, "%s %s (%s)", kinds[c->kind], c->where, c->why);
	if (c->kind == STORE_KIND_SSH &&
	    ssh_command_build(c->where, &cmd, err, sizeof(err)) == 0) {
		text = ssh_command_text(&cmd);
		ssh_command_free(&cmd);
	}
	fprintf(f, "%s%s\n", text != NULL ? ": " : "", text != NULL ? text : "");
	free(text);
}

/*
 * A daemon, over its socket or over ssh's stdin and stdout: one protocol,
 * two transports.  With reconnect_ms, it reconnects to the same target.
 */
static struct store *
open_daemon(const struct store_choice *c, const char *storedir,
    long reconnect_ms, int verbose, char *err, size_t errlen)
{
	struct ssh_command cmd = { NULL, 0, NULL, 0 };
	struct transport_target target;
	struct transport t;
	struct store *s = NULL;

	target.socket = NULL;
	target.argv = NULL;
	if (c->kind == STORE_KIND_DAEMON)
		target.socket = (char *)c->where;
	else if (ssh_command_build(c->where, &cmd, err, errlen) == 0)
		target.argv = cmd.argv;
	else
		return NULL;
	if (transport_open(&t, &target, err, errlen) == 0 &&
	    (s = store_daemon_open(&t, c->where, storedir, err,
	    errlen)) != NULL) {
		store_daemon_set_barrier(s, c->barrier);
		store_daemon_set_verbose(s, verbose);
	}
	if (s != NULL && reconnect_ms > 0 &&
	    store_daemon_reconnect(s, &target, reconnect_ms) == -1) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		store_close(s);
		s = NULL;
	}
	ssh_command_free(&cmd);
	return s;
}

/* What a drop needs to open the same daemon store again. */
struct reopen_arg {
	struct store_choice	 choice;
	long			 reconnect_ms;
	int			 verbose;
	char			 storedir[];
};

static struct store *
reopen_daemon(const void *arg, char *err, size_t errlen)
{
	const struct reopen_arg *a = arg;

	return open_daemon(&a->choice, a->storedir, a->reconnect_ms,
	    a->verbose, err, errlen);
}

/* A daemon store whose single roots can be dropped (store_renew.c). */
static struct store *
open_renewable(const struct store_choice *c, const char *storedir,
    long reconnect_ms, int verbose, char *err, size_t errlen)
{
	struct reopen_arg *a;
	struct store *s;
	size_t len = strlen(storedir) + 1;

	if ((a = malloc(sizeof(*a) + len)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	a->choice = *c;
	a->reconnect_ms = reconnect_ms;
	a->verbose = verbose;
	memcpy(a->storedir, storedir, len);
	if ((s = open_daemon(c, storedir, reconnect_ms, verbose, err,
	    errlen)) == NULL) {
		free(a);
		return NULL;
	}
	return store_renew_open(s, reopen_daemon, a, err, errlen);
}

/*
 * Opens one chosen store, with its session directory if it is gcroots.
 * Returns the store, or NULL with a message in err and the exit status
 * in *status.
 */
static struct store *
open_one(const struct store_choice *c, const char *storedir,
    const struct store_open_opts *o, char *err, size_t errlen, int *status)
{
	struct store *s;

	*status = KP_EXIT_UNREACHABLE;
	if (c->kind == STORE_KIND_LOCAL)
		s = store_local_open(c->where, storedir, err, errlen);
	else
		s = open_renewable(c, storedir, o->reconnect_ms, o->verbose,
		    err, errlen);
	if (s == NULL || !c->gcroots)
		return s;
	if ((s = store_gcroots_open(s, c->sessions, o->sweep_min_age,
	    o->verbose, err, errlen)) == NULL)
		return NULL;
	/* Our children's sweeps must never take our session. */
	if (setenv("KEEP_PATHS_SESSION", store_gcroots_session(s), 1) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		store_close(s);
		*status = KP_EXIT_OSERR;
		return NULL;
	}
	return s;
}

struct core *
store_open_all(const struct store_choice *c, char *const *labels, size_t n,
    const char *storedir, const struct store_open_opts *o, char *err,
    size_t errlen, int *status)
{
	struct core *core;
	struct store *s;
	size_t i;

	if ((core = core_new()) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		*status = KP_EXIT_OSERR;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((s = open_one(&c[i], storedir, o, err, errlen,
		    status)) == NULL) {
			core_close(core);
			return NULL;
		}
		if (core_add(core, s, n > 1 ? labels[i] : NULL) == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			*status = KP_EXIT_OSERR;
			core_close(core);
			return NULL;
		}
	}
	return core;
}

int
store_choice_upstream(const struct store_choice *c, struct transport_target *t,
    char *err, size_t errlen)
{
	char daemon[] = "nix-daemon", stdio[] = "--stdio";
	char option[] = "--option", store[] = "store";
	char *argv[] = { daemon, stdio, option, store, NULL, NULL };

	memset(t, 0, sizeof(*t));
	if (c->kind == STORE_KIND_SSH) {
		snprintf(err, errlen, "%s: ssh-ng stores are not captured (a "
		    "command's Nix reaches them by itself)", c->where);
		errno = EINVAL;
		return -1;
	}
	/* The URI chosen from: "auto" and "gcroots" resolved. */
	if (c->kind == STORE_KIND_LOCAL)
		argv[4] = (char *)c->uri;
	if (transport_target_set(t, c->kind == STORE_KIND_DAEMON ? c->where :
	    NULL, argv) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}
