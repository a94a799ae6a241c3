/*
 * store_open: which store a URI names (as Nix decides it), and opening the
 * chosen stores, composed: a daemon connection wrapped so that single
 * roots can be dropped, session links on top for gcroots, several stores
 * as one.  The only module that knows every back end.
 */
#ifndef KP_STORE_OPEN_H
#define KP_STORE_OPEN_H

#include <stdio.h>

#include "core.h"
#include "store.h"
#include "transport.h"

enum store_kind {
	STORE_KIND_DAEMON,	/* a nix-daemon over its unix socket */
	STORE_KIND_LOCAL,	/* the store's own temp-roots file */
	STORE_KIND_SSH,		/* a nix-daemon --stdio over ssh */
};

/* Longest path or URI a choice holds; longer ones are refused. */
#define STORE_WHERE_MAX	1023

/* Which back end a store URI names, where it is, and why. */
struct store_choice {
	enum store_kind	 kind;
	char		 uri[STORE_WHERE_MAX + 1]; /* as chosen from: "auto"
					   and gcroots resolved */
	char		 where[STORE_WHERE_MAX + 1]; /* the socket, the state
					   dir, or the ssh-ng:// URI */
	char		 why[2 * STORE_WHERE_MAX + 128]; /* for -v and
					   --print-store */
	int		 gcroots;	/* also durable session roots */
	enum store_barrier barrier;	/* daemon back ends: --barrier */
	char		 sessions[STORE_WHERE_MAX + 1]; /* their sessions root */
};

/*
 * Chooses the back end for uri ("auto", "daemon", "unix://PATH", "local",
 * "local?root=DIR&state=DIR", a chroot store's DIR, or
 * "ssh-ng://[USER@]HOST[:PORT][?PARAMS]"), as Nix does.  "auto" is, as for
 * Nix's clients, nix.conf's "store =" if set, else NIX_REMOTE, else the
 * local store if NIX_STATE_DIR is writable, else the daemon.  "gcroots"
 * and "gcroots?dir=DIR" choose as "auto" does, with durable session roots
 * on top.  A path or URI longer than STORE_WHERE_MAX is refused.  Returns
 * 0, or -1 with a message ("URI: reason") in err.
 */
int	store_choose(const char *uri, struct store_choice *, char *err,
	    size_t errlen);

/* One line: the back end, where, why, and for ssh-ng the command. */
void	store_choice_print(FILE *, const struct store_choice *);

struct store_open_opts {
	long	 reconnect_ms;	/* daemon stores: 0, or the window */
	long	 sweep_min_age;	/* gcroots: its start-up sweep's */
	int	 verbose;
};

/*
 * Opens the n chosen stores for store paths under storedir, the session
 * core's stores (1 <= n <= STORE_MAX): with more than one, each reply
 * names its store by labels[i].  For gcroots, sets KEEP_PATHS_SESSION for
 * our children.  Returns the core, or NULL with a message in err and an
 * exit status in *status, having closed any store it opened.
 */
struct core *store_open_all(const struct store_choice *, char *const *labels,
	    size_t n, const char *storedir, const struct store_open_opts *,
	    char *err, size_t errlen, int *status);

/*
 * Where capture mode's clients go for the chosen store: the daemon's
 * socket; for a local store, a "nix-daemon --stdio" of their own on that
 * store.  Returns 0, or -1 with a message in err (errno ENOMEM, or EINVAL:
 * an ssh-ng store, which a command's Nix reaches by itself).
 */
int	store_choice_upstream(const struct store_choice *,
	    struct transport_target *, char *err, size_t errlen);

/* The store directory from the environment, as Nix reads it.  New string. */
char	*store_dir_from_env(void);

#endif
