/*
 * store: choosing a back end from a store URI, as Nix does; and what every
 * back end shares.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "store.h"
#include "store_daemon.h"
#include "store_local.h"
#include "store_renew.h"
#include "ssh_command.h"
#include "storepath.h"
#include "transport.h"
#include "xio.h"

#define NIX_STATE_DIR_DEFAULT	"/nix/var/nix"
#define NIX_STORE_DIR_DEFAULT	"/nix/store"

int
store_fail(struct store *s, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return status;
}

long
store_wakeup(struct store *s)
{
	return s != NULL && s->ops->wakeup != NULL ? s->ops->wakeup(s) : -1;
}

int
store_due(struct store *s, const struct pollfd *pfd, size_t n)
{
	long at = store_wakeup(s);
	size_t i;

	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			return 1;
	return at != -1 && xio_now_ms() >= at;
}

int
store_start(struct store *s, struct batch *b)
{
	if (b->n > 0 && b->req[0].kind == REQUEST_DROP)
		return s->ops->drop(s, b);
	return s->ops->submit(s, b);
}

int
store_refuse_drop(struct store *s, struct batch *b, const char *why)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->req[i].reply == REPLY_PENDING &&
		    request_set_error(&b->req[i], why) == -1)
			return store_fail(s, STORE_SYSTEM, "%s",
			    strerror(ENOMEM));
	return STORE_DONE;
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

char *
store_dir_from_env(void)
{
	const char *dir;

	if ((dir = env_nonempty("NIX_STORE_DIR")) == NULL &&
	    (dir = env_nonempty("NIX_STORE")) == NULL)
		dir = NIX_STORE_DIR_DEFAULT;
	return storepath_canon(dir);
}

static const char *
state_dir_from_env(void)
{
	const char *state = env_nonempty("NIX_STATE_DIR");

	return state != NULL ? state : NIX_STATE_DIR_DEFAULT;
}

/* Fills in c; returns 0, or -1 if a field does not fit. */
static int
choice_set(struct store_choice *c, enum store_kind kind, const char *where,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	c->kind = kind;
	if (strlcpy(c->where, where, sizeof(c->where)) >= sizeof(c->where))
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= sizeof(c->why) ? -1 : 0;
}

/* The daemon socket Nix's clients use: NIX_DAEMON_SOCKET_PATH, else in the
 * state directory. */
static int
choose_daemon(struct store_choice *c, const char *why)
{
	const char *p;
	char sock[sizeof(c->where)];

	if ((p = env_nonempty("NIX_DAEMON_SOCKET_PATH")) != NULL)
		return choice_set(c, STORE_KIND_DAEMON, p,
		    "%s; NIX_DAEMON_SOCKET_PATH names the socket", why);
	if ((size_t)snprintf(sock, sizeof(sock), "%s/daemon-socket/socket",
	    state_dir_from_env()) >= sizeof(sock))
		return -1;
	return choice_set(c, STORE_KIND_DAEMON, sock, "%s", why);
}

/*
 * "local", "local?root=DIR&state=DIR": the state directory is the state=
 * parameter, else ROOT/nix/var/nix for a chroot store, else NIX_STATE_DIR.
 */
static int
choose_local(const char *uri, struct store_choice *c, const char *why,
    char *err, size_t errlen)
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
		snprintf(state, sizeof(state), "%s", statep);
	else if (root != NULL)
		snprintf(state, sizeof(state), "%s/nix/var/nix", root);
	else
		snprintf(state, sizeof(state), "%s", state_dir_from_env());
	if (choice_set(c, STORE_KIND_LOCAL, state, "%s", why) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "%s: path too long", uri);
out:
	free(params);
	return rc;
}

/* A chroot store: Nix takes any path with a slash as its root. */
static int
choose_chroot(const char *dir, struct store_choice *c, const char *why,
    char *err, size_t errlen)
{
	char cwd[sizeof(c->where)], path[sizeof(c->where) * 2 + 2];
	char uri[sizeof(c->where) + 16], *root;

	if (*dir != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(err, errlen, "getcwd: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s%s%s", *dir == '/' ? "" : cwd,
	    *dir == '/' ? "" : "/", dir);
	if ((root = storepath_canon(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(uri, sizeof(uri), "local?root=%s", root);
	free(root);
	return choose_local(uri, c, why, err, errlen);
}

/* "ssh-ng://...": checked now, so that --print-store shows its errors. */
static int
choose_ssh(const char *uri, struct store_choice *c, const char *why,
    char *err, size_t errlen)
{
	struct ssh_command cmd;

	if (ssh_command_build(uri, &cmd, err, errlen) == -1)
		return -1;
	ssh_command_free(&cmd);
	if (choice_set(c, STORE_KIND_SSH, uri, "%s", why) == -1) {
		snprintf(err, errlen, "%s: URI too long", uri);
		return -1;
	}
	return 0;
}

/* Nix's "auto": the local store if we may write its state directory. */
static int
choose_auto(struct store_choice *c, char *err, size_t errlen)
{
	const char *state = state_dir_from_env();
	char why[sizeof(c->why) - 64];

	if (access(state, R_OK | W_OK) == 0) {
		snprintf(why, sizeof(why), "auto: %s is writable", state);
		return choose_local("local", c, why, err, errlen);
	}
	snprintf(why, sizeof(why), "auto: %s is not writable (%s)", state,
	    strerror(errno));
	return choose_daemon(c, why);
}

/*
 * "gcroots", "gcroots?dir=DIR": session directories under DIR, by default
 * $NIX_STATE_DIR/gcroots/per-user/USER/keep-paths, where the collector
 * finds their links; the temporary roots as "auto" chooses, NIX_REMOTE
 * included.  Links are local: a remote store cannot read them.
 */
static int
choose_gcroots(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	const char *dir = uri + strlen("gcroots");
	const char *remote = env_nonempty("NIX_REMOTE");
	char sessions[sizeof(c->sessions)];
	struct passwd *pw;

	if (strncmp(dir, "?dir=/", 6) == 0)
		snprintf(sessions, sizeof(sessions), "%s", dir + 5);
	else if (*dir != '\0') {
		snprintf(err, errlen, "%s: use gcroots or gcroots?dir=/DIR", uri);
		return -1;
	} else if ((pw = getpwuid(geteuid())) == NULL) {
		snprintf(err, errlen, "uid %lu: no user name",
		    (unsigned long)geteuid());
		return -1;
	} else
		snprintf(sessions, sizeof(sessions),
		    "%s/gcroots/per-user/%s/keep-paths", state_dir_from_env(),
		    pw->pw_name);
	if (remote != NULL && strncmp(remote, "gcroots", 7) == 0) {
		snprintf(err, errlen, "NIX_REMOTE=%s: not a Nix store", remote);
		return -1;
	}
	if (store_choose("auto", c, err, errlen) == -1)
		return -1;
	if (c->kind == STORE_KIND_SSH) {
		snprintf(err, errlen, "%s: session links are local, and the "
		    "store (%s) is not", uri, c->where);
		return -1;
	}
	memcpy(c->sessions, sessions, sizeof(c->sessions));
	c->gcroots = 1;
	return 0;
}

int
store_choose(const char *uri, struct store_choice *c, char *err,
    size_t errlen)
{
	const char *remote = env_nonempty("NIX_REMOTE");
	char why[sizeof(c->why) - 64];
	int rc;

	if (errlen > 0)
		*err = '\0';

	if (strcmp(uri, "auto") == 0 && remote != NULL &&
	    strcmp(remote, "auto") != 0) {
		snprintf(why, sizeof(why), "NIX_REMOTE=%s", remote);
		uri = remote;
	} else
		snprintf(why, sizeof(why), "--store %s", uri);

	c->gcroots = 0;
	if (strcmp(uri, "auto") == 0)
		rc = choose_auto(c, err, errlen);
	else if (strncmp(uri, "gcroots", 7) == 0)
		return choose_gcroots(uri, c, err, errlen);
	else if (strcmp(uri, "daemon") == 0)
		rc = choose_daemon(c, why);
	else if (strncmp(uri, "unix://", 7) == 0 && uri[7] == '/' &&
	    strchr(uri, '?') == NULL)
		rc = choice_set(c, STORE_KIND_DAEMON, uri + 7, "%s", why);
	else if (strcmp(uri, "local") == 0 || strncmp(uri, "local?", 6) == 0)
		return choose_local(uri, c, why, err, errlen);
	else if (strncmp(uri, "ssh-ng://", 9) == 0)
		return choose_ssh(uri, c, why, err, errlen);
	else if (strncmp(uri, "ssh://", 6) == 0) {
		snprintf(err, errlen, "%s: ssh:// stores (nix-store --serve) "
		    "cannot hold temporary roots; use ssh-ng://", uri);
		return -1;
	}
	else if (strchr(uri, '/') != NULL && strstr(uri, "://") == NULL &&
	    strchr(uri, '?') == NULL)
		return choose_chroot(uri, c, why, err, errlen);
	else {
		snprintf(err, errlen, "%s: unsupported store (use auto, daemon, "
		    "unix:///path/to/socket, local, local?root=/DIR, /DIR, "
		    "ssh-ng://[USER@]HOST[:PORT] or gcroots)", uri);
		return -1;
	}
	if (rc == -1 && *err == '\0')
		snprintf(err, errlen, "%s: path too long", uri);
	return rc;
}

/*
 * A daemon, over its socket or over ssh's stdin and stdout: one protocol,
 * two transports.  With reconnect_ms, it reconnects to the same target.
 */
static struct store *
open_daemon(const struct store_choice *c, const char *storedir,
    long reconnect_ms, char *err, size_t errlen)
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
	    errlen)) != NULL)
		store_daemon_set_barrier(s, c->barrier);
	if (s != NULL && reconnect_ms > 0 &&
	    store_daemon_reconnect(s, &target, reconnect_ms) == -1) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		s->ops->close(s);
		s = NULL;
	}
	ssh_command_free(&cmd);
	return s;
}

/* What a drop needs to open the same daemon store again. */
struct reopen_arg {
	struct store_choice	 choice;
	long			 reconnect_ms;
	char			 storedir[];
};

static struct store *
reopen_daemon(const void *arg, char *err, size_t errlen)
{
	const struct reopen_arg *a = arg;

	return open_daemon(&a->choice, a->storedir, a->reconnect_ms, err,
	    errlen);
}

/* A daemon store whose single roots can be dropped (store_renew.c). */
static struct store *
open_renewable(const struct store_choice *c, const char *storedir,
    long reconnect_ms, char *err, size_t errlen)
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
	memcpy(a->storedir, storedir, len);
	if ((s = open_daemon(c, storedir, reconnect_ms, err, errlen)) == NULL) {
		free(a);
		return NULL;
	}
	return store_renew_open(s, reopen_daemon, a, err, errlen);
}

struct store *
store_open(const struct store_choice *c, const char *storedir,
    long reconnect_ms, char *err, size_t errlen, int *status)
{
	struct store *s;

	if (c->kind == STORE_KIND_LOCAL)
		s = store_local_open(c->where, storedir, err, errlen);
	else
		s = open_renewable(c, storedir, reconnect_ms, err, errlen);
	if (s == NULL)
		*status = EX_UNAVAILABLE;
	return s;
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
