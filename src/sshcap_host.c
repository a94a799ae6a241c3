/*
 * sshcap_host: the hosts a command's ssh goes to.  Each has a holding
 * session of ours (a daemon store over the real ssh, in the session core),
 * the paths seen on the way to or from it, each queued once for that
 * store, and how far their replies have come.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_command.h"
#include "sshcap_int.h"
#include "store_daemon.h"
#include "transport.h"

/*
 * The holding session's ssh: the real one, to the same host as the same
 * user with the client's login options, never prompting, never sharing
 * a control master; its command the host's nix-daemon --stdio.
 */
static char **
holding_argv(const struct sshcap *cap, const struct ssh_args *a,
    const char *bindir, const char *store)
{
	/* No prompt, no master, nothing on stdout before the daemon's
	 * magic (Nix 2.34 has its ssh echo "started" as a LocalCommand). */
	static const char *const fixed[] = { "-x", "-a", "-T", "-o",
	    "BatchMode=yes", "-o", "ControlMaster=no", "-o",
	    "ControlPath=none", "-o", "PermitLocalCommand=no", "-o",
	    "ConnectTimeout=15" };
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), n = 0, i;
	char **argv, *qstore = NULL;

	if ((argv = calloc(nfixed + a->nlogin + 10, sizeof(*argv))) == NULL)
		return NULL;
	argv[n++] = (char *)cap->cfg.real_ssh;
	/*
	 * ssh takes the first value of a setting: ours come first, then
	 * the client's where they stood, before and after its destination
	 * (whose own user and port count where it stands).
	 */
	for (i = 0; i < nfixed; i++)
		argv[n++] = (char *)fixed[i];
	for (i = 0; i < a->nbefore; i++)
		argv[n++] = (char *)a->login[i];
	argv[n++] = (char *)a->dest;
	for (; i < a->nlogin; i++)
		argv[n++] = (char *)a->login[i];
	argv[n++] = (char *)"--";
	if ((store != NULL && (qstore = ssh_command_quote(store)) == NULL) ||
	    asprintf(&argv[n++], "%snix-daemon --stdio%s%s", bindir,
	    store != NULL ? " --store " : "", store != NULL ? qstore : "") ==
	    -1) {
		free(qstore);
		free(argv);
		return NULL;
	}
	free(qstore);
	return argv;
}

/* The index of argv's last string. */
static size_t
nlast(char **argv)
{
	size_t i;

	for (i = 0; argv[i + 1] != NULL; i++)
		continue;
	return i;
}

/* Frees holding_argv's array and the one string of it that it made. */
static void
holding_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	free(argv[nlast(argv)]);	/* the remote command */
	free(argv);
}

/*
 * The holding session failed, or could not be opened: said once.  No path
 * seen on the way to h is held there by us any more (--print-roots says
 * "error").
 */
static void
host_failed(struct sshhost *h, const char *why)
{
	size_t k;

	if (!h->failed)
		warnx("capture over ssh: %s: no holding session (%s): every "
		    "connection to it stays open until the command ends, "
		    "holding only what its own worker holds", h->uri, why);
	h->failed = 1;
	h->cap->partial = 1;
	for (k = 0; k < h->seen.n; k++)
		h->seen.all[k]->reply = REPLY_ERROR;
}

/*
 * core_lost_fn: the holding session of h is gone; what it knows was
 * collected on the host in a reconnect's gap is said, a line each.
 */
static void
host_lost(void *arg, int status, const char *error, size_t roots,
    const char *lost)
{
	struct sshhost *h = arg;
	const char *nl;

	(void)status;
	if (roots > 0)
		warnx("capture over ssh: %s: LOST %zu root%s: %s", h->uri,
		    roots, roots == 1 ? "" : "s", error);
	for (; lost != NULL && (nl = strchr(lost, '\n')) != NULL;
	    lost = nl + 1)
		warnx("capture over ssh: %s: lost %.*s", h->uri,
		    (int)(nl - lost), lost);
	host_failed(h, error);
	h->store = -1;
}

/* Opens h's holding session and adds it to the core. */
static void
host_open(struct sshhost *h, const struct ssh_args *a, const char *bindir,
    const char *store)
{
	struct sshcap *cap = h->cap;
	struct transport_target target = { NULL, NULL };
	struct transport t;
	struct store *s = NULL;
	char err[STORE_ERROR_MAX], **argv;

	if ((argv = holding_argv(cap, a, bindir, store)) == NULL ||
	    transport_target_set(&target, NULL, argv) == -1) {
		snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
		goto failed;
	}
	if (cap->cfg.verbose)
		warnx("capture over ssh: %s: a holding session, running %s",
		    h->uri, argv[nlast(argv)]);
	if (transport_open(&t, &target, err, sizeof(err)) == -1 ||
	    (s = store_daemon_open(&t, h->uri, cap->cfg.storedir, err,
	    sizeof(err))) == NULL)
		goto failed;
	store_daemon_set_barrier(s, STORE_BARRIER_AUTO);
	store_daemon_set_verbose(s, cap->cfg.verbose);
	if (cap->cfg.reconnect_ms > 0 && store_daemon_reconnect(s, &target,
	    cap->cfg.reconnect_ms) == -1) {
		store_close(s);
		snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
		goto failed;
	}
	if ((h->store = core_add_holding(cap->cfg.core, s, h->uri, host_lost,
	    h)) == -1) {
		snprintf(err, sizeof(err), "%s", errno == E2BIG ?
		    "too many stores in one session" : strerror(errno));
		goto failed;
	}
	goto out;
failed:
	host_failed(h, err);
out:
	transport_target_free(&target);
	holding_argv_free(argv);
}

int
sshcap_host_for(struct sshcap *cap, struct sshc *c)
{
	struct sshhost *h;
	char *bindir = NULL, *store = NULL, *uri, *key = NULL;
	size_t i;
	int nix;

	c->host = NULL;
	if (c->args.dest == NULL || c->args.master)
		return 0;
	if ((nix = ssh_args_nix(&c->args, &bindir, &store)) == -1 ||
	    (uri = ssh_args_uri(&c->args)) == NULL)
		return -1;
	if ((key = ssh_args_host_key(&c->args, store)) == NULL) {
		free(uri);
		goto oom;
	}
	for (i = 0; i < cap->nhosts; i++)
		if (strcmp(cap->hosts[i]->key, key) == 0) {
			c->host = cap->hosts[i];
			free(key);
			free(uri);
			goto found;
		}
	if (cap->nhosts == STORE_MAX) {
		warnx("capture over ssh: %s: more hosts than one session "
		    "holds on (%d): nothing is held there", uri, STORE_MAX);
		cap->partial = 1;
		free(key);
		free(uri);
		goto found;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		free(key);
		free(uri);
		goto oom;
	}
	h->cap = cap;
	h->key = key;
	h->uri = uri;
	h->store = -1;
	cap->hosts[cap->nhosts++] = h;
	c->host = h;
	host_open(h, &c->args, bindir != NULL ? bindir : "", store);
found:
	free(bindir);
	free(store);
	return 0;
oom:
	free(bindir);
	free(store);
	return -1;
}

/* Queues a captured request for s, the newest number.  Returns 0/-1. */
static int
seen_submit(struct sshhost *h, struct seen *s)
{
	struct request *r;

	if ((r = batch_add_captured(h->cap->queued, s->path, CAPTURED_SSH)) ==
	    NULL)
		return -1;
	r->stores = (unsigned char)(1u << h->store);
	s->seq = ++h->submitted;
	s->reply = REPLY_PENDING;
	return 0;
}

/*
 * Adds path to h's seen set and queues it, if h has a holding session;
 * else it is not held there ("error").  Returns it, or NULL (ENOMEM).
 */
static struct seen *
seen_add(struct sshhost *h, const char *path)
{
	struct seen *s;

	if ((s = seenset_add(&h->seen, path)) == NULL)
		return NULL;
	if (h->failed || h->store == -1) {
		s->reply = REPLY_ERROR;
		return s;
	}
	return seen_submit(h, s) == 0 ? s : NULL;
}

int
sshcap_seen(void *arg, const char *path, size_t len)
{
	struct sshc *c = arg;
	struct sshhost *h = c->host;
	struct seen *s;
	char copy[PATH_MAX];

	if (h == NULL || len >= sizeof(copy))
		return 0;	/* not a host we hold on */
	memcpy(copy, path, len);
	copy[len] = '\0';
	if ((s = seenset_find(&h->seen, copy)) == NULL) {
		if (h->seen.n >= h->cap->cfg.max_seen) {
			if (h->over++ == 0)
				warnx("capture over ssh: %s: more than %zu "
				    "distinct store paths seen "
				    "(--capture-max): %s and every further "
				    "new one are NOT held there", h->uri,
				    h->cap->cfg.max_seen, copy);
			h->cap->partial = 1;
			return 0;
		}
		if ((s = seen_add(h, copy)) == NULL)
			return -1;
		if (h->cap->cfg.verbose)
			warnx("ssh %u: %s: %s", c->id, h->uri, copy);
	}
	if (s->seq > c->need)
		c->need = s->seq;
	return 0;
}

/* Whether every path seen on c's connection is held on its host. */
static int
conn_held(const struct sshc *c)
{
	const struct sshhost *h = c->host;

	if (h == NULL)
		return 1;
	/* What a failed host's worker holds goes with its connection. */
	if (h->failed || h->unheld)
		return 0;
	return c->need <= h->answered;
}

int
sshcap_held(const struct sshc *c)
{
	const struct sshcap *cap = c->cap;
	size_t i;

	if (!c->args.master)
		return conn_held(c);
	/* A control master carries other connections: it stays while one
	 * of them waits. */
	for (i = 0; i < SSHCAP_CONNS_MAX; i++)
		if (cap->conns[i].used && !cap->conns[i].args.master &&
		    !conn_held(&cap->conns[i]))
			return 0;
	return 1;
}

int
sshcap_recheck(struct sshc *c)
{
	struct sshhost *h = c->host;
	size_t k, n = 0;

	if (h == NULL || h->failed || h->store == -1)
		return 0;
	for (k = 0; k < h->seen.n; k++) {
		if (h->seen.all[k]->reply != REPLY_MISSING)
			continue;
		if (seen_submit(h, h->seen.all[k]) == -1)
			return -1;
		n++;
	}
	if (h->submitted > c->need)
		c->need = h->submitted;
	return (int)n;
}

int
sshcap_answered(struct sshcap *cap, const struct request *req,
    const struct reply *rep, struct batch *queued)
{
	struct sshhost *h = NULL;
	struct seen *s;
	size_t i;
	int rc = 0;

	for (i = 0; i < cap->nhosts && h == NULL; i++)
		if (cap->hosts[i]->store != -1 &&
		    req->stores == (1u << cap->hosts[i]->store))
			h = cap->hosts[i];
	if (h == NULL)
		return 0;	/* its holding session is gone */
	h->answered++;
	if ((s = seenset_find(&h->seen, req->path)) != NULL)
		s->reply = rep->kind;
	if (rep->kind == REPLY_ERROR) {
		if (!h->unheld)
			warnx("capture over ssh: %s: %s: %s: not held "
			    "there, so every connection to it stays open "
			    "until the command ends", h->uri, req->path,
			    rep->why != NULL ? rep->why : "refused");
		h->unheld = 1;
		cap->partial = 1;
	}
	cap->queued = queued;
	for (i = 0; i < SSHCAP_CONNS_MAX && rc == 0; i++)
		if (cap->conns[i].used && (cap->conns[i].host == h ||
		    cap->conns[i].args.master))
			rc = sshcap_settle(&cap->conns[i]);
	cap->queued = NULL;
	return rc;
}

int
sshcap_end(struct sshcap *cap, struct batch *queued)
{
	struct sshhost *h;
	size_t i, k;

	cap->queued = queued;
	for (i = 0; i < cap->nhosts; i++) {
		h = cap->hosts[i];
		for (k = 0; k < h->seen.n && !h->failed && h->store != -1; k++)
			if (seen_submit(h, h->seen.all[k]) == -1) {
				cap->queued = NULL;
				return -1;
			}
	}
	cap->queued = NULL;
	return 0;
}

int
sshcap_end_answered(const struct sshcap *cap)
{
	size_t i;

	for (i = 0; i < cap->nhosts; i++)
		if (!cap->hosts[i]->failed && cap->hosts[i]->store != -1 &&
		    cap->hosts[i]->submitted > cap->hosts[i]->answered)
			return 0;
	return 1;
}

int
sshcap_end_listed(struct sshcap *cap, struct buf *out, int json)
{
	size_t i;

	if (cap->listed)
		return 1;
	if (!sshcap_end_answered(cap))
		return 0;
	cap->listed = 1;
	for (i = 0; i < cap->nhosts; i++)
		if (seenset_list(&cap->hosts[i]->seen, out, cap->hosts[i]->uri,
		    json) == -1)
			return -1;
	return 1;
}

int
sshcap_seen_any(const struct sshcap *cap)
{
	size_t i;

	for (i = 0; i < cap->nhosts; i++)
		if (cap->hosts[i]->seen.n > 0)
			return 1;
	return 0;
}

/*
 * A path not yet answered when the command ended was covered all along by
 * the connection it crossed, which waited for it: that is not partial.
 */
int
sshcap_partial(const struct sshcap *cap)
{
	return cap->partial;
}

void
sshcap_hosts_free(struct sshcap *cap)
{
	struct sshhost *h;
	size_t i;

	for (i = 0; i < cap->nhosts; i++) {
		h = cap->hosts[i];
		seenset_free(&h->seen);
		free(h->key);
		free(h->uri);
		free(h);
	}
	cap->nhosts = 0;
}
