/*
 * sshcap: capture over ssh.  Under --capture the command's PATH starts
 * with the capture directory, whose "ssh" (ssh_shim.h) hands every ssh
 * the command starts (Nix's for ssh:// and ssh-ng:// stores, a deploy
 * tool's own "ssh HOST COMMAND") to this session.  The session runs the
 * real ssh with the same arguments, environment and working directory,
 * relays its stdin and stdout, and scans both directions for store paths,
 * protocol-blind, as the daemon relay does.
 *
 * Each path seen on the way to or from a host is rooted on that host by
 * a holding session of ours: a daemon store over the real ssh to the
 * same host, as the same user, with the client's login options, to the
 * Nix its command reaches (its nix-daemon's directory, its --store), one
 * per host and store, opened on first sight and added to the session core
 * (core_add_holding).  A client ssh keeps its connection (and so the
 * remote worker's own temporary roots) until every path seen on it is
 * held; one killed by Nix is ended by us once they are.  A host no holding
 * session can reach keeps every connection to it open until the command
 * ends, and says so once.
 */
#ifndef KP_SSHCAP_H
#define KP_SSHCAP_H

#include <poll.h>
#include <stddef.h>

#include "batch.h"
#include "core.h"
#include "request.h"

/* Client ssh processes at once; more wait in the listen backlog. */
#define SSHCAP_CONNS_MAX	16
/* The listener, and per client: its shim, stdin, stdout; ssh's two pipes. */
#define SSHCAP_POLLFDS		(1 + 5 * SSHCAP_CONNS_MAX)

struct sshcap;

struct sshcap_config {
	const char	*storedir;
	const char	*dir;		/* the capture directory (0700) */
	int		 dir_fd;
	const char	*real_ssh;	/* absolute */
	const char	*self;		/* this keep-paths, absolute */
	struct core	*core;		/* holding sessions go in here */
	long		 reconnect_ms;	/* theirs: 0 for none */
	size_t		 max_seen;	/* distinct paths held per host */
	int		 verbose;
};

/*
 * Makes the capture directory's "ssh" and the socket it reaches us on
 * (cfg's strings are copied, but dir: it must outlive the capture).
 * Returns the capture, or NULL with a message in err.
 */
struct sshcap *sshcap_open(const struct sshcap_config *, char *err,
	    size_t errlen);

/*
 * Fills in SSHCAP_POLLFDS pollfds; with room 0 (the session's queue is
 * full), no client's bytes are read.
 */
void	sshcap_pollfd(struct sshcap *, struct pollfd *, int room);

/*
 * Acts on the revents of sshcap_pollfd's fds; appends a captured request
 * (CAPTURED_SSH, for the host's holding store) to queued for each path
 * seen on the way to or from a host for the first time.  Returns 0, or
 * -1 with errno ENOMEM.
 */
int	sshcap_handle(struct sshcap *, const struct pollfd *,
	    struct batch *queued);

/* Reaps the real ssh processes that have exited (SIGCHLD). */
void	sshcap_reap(struct sshcap *);

/*
 * A captured request of ours has its reply (in queue order).  A path may
 * be checked again (a captured request appended to queued).  Returns 0/-1
 * (ENOMEM).
 */
int	sshcap_answered(struct sshcap *, const struct request *,
	    const struct reply *, struct batch *queued);

/*
 * --print-roots, once the command is done: every path seen on the way to
 * a host is checked there once more (a captured request each, appended
 * to queued).  Returns 0/-1 (ENOMEM).
 */
int	sshcap_end(struct sshcap *, struct batch *queued);

/*
 * Once every one has its reply, appends their list to out, once, host
 * after host, each line naming its host's store (request_format_root).
 * Returns 1 once it is in out, 0 while replies are awaited, -1 (ENOMEM).
 */
int	sshcap_end_listed(struct sshcap *, struct buf *out, int json);

/* Whether every path of the end phase has its reply. */
int	sshcap_end_answered(const struct sshcap *);

/* Whether any path was seen on the way to a host. */
int	sshcap_seen_any(const struct sshcap *);

/*
 * Whether some path that crossed to a host was not held there: no holding
 * session could be opened or kept, or it refused the path, or the host's
 * paths went past max_seen.
 */
int	sshcap_partial(const struct sshcap *);

/*
 * Ends every ssh still running, reaps them, and removes the "ssh" and the
 * socket (before the capture directory goes).
 */
void	sshcap_close(struct sshcap *);

#endif
