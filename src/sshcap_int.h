/*
 * sshcap_int: what the files of capture over ssh share, and no other
 * module sees:
 *	sshcap.c	the shims' connections, the real ssh processes, the
 *			bytes between them
 *	sshcap_shim.c	the "ssh" and its socket; a shim's message in,
 *			ssh's exit status out
 *	sshcap_host.c	the hosts: their holding sessions, the paths seen
 *			on the way to each, their replies
 */
#ifndef KP_SSHCAP_INT_H
#define KP_SSHCAP_INT_H

#include <sys/types.h>

#include "buf.h"
#include "pathscan.h"
#include "seenset.h"
#include "ssh_args.h"
#include "sshcap.h"

struct sshhost {
	struct sshcap	*cap;
	char		*key;		/* what tells hosts apart */
	char		*uri;		/* ssh-ng://[USER@]HOST[:PORT] */
	int		 store;		/* the core's index; -1: none */
	int		 failed;	/* no holding session: said once */
	int		 unheld;	/* a path it could not hold: said once */
	struct seenset	 seen;		/* on the way to or from it */
	unsigned long	 over;		/* paths past max_seen */
	unsigned long	 submitted;	/* captured requests queued */
	unsigned long	 answered;	/* ... that have their reply */
};

/* One client ssh: its shim, and the real ssh we run for it. */
struct sshc {
	struct sshcap	*cap;
	int		 used;
	unsigned	 id;		/* for messages: 1, 2, ... */
	int		 sock;		/* the shim; -1 once it is gone */
	struct buf	 msg;		/* its message, until whole */
	int		 fds[3];	/* its stdin, stdout, stderr; -1 */
	char		**argv;		/* the real ssh's, into msg */
	char		**env;
	struct buf	 path;		/* env's PATH, without us */
	const char	*cwd;
	struct ssh_args	 args;
	struct sshhost	*host;		/* NULL: not one we hold on */
	pid_t		 pid;		/* the real ssh; 0: not yet, -1: gone */
	int		 wstatus;
	int		 to_ssh;	/* its stdin; -1 once closed */
	int		 from_ssh;	/* its stdout; -1 once at its end */
	struct buf	 to_up, to_client;
	struct pathscan	 from_client, from_up;
	unsigned long	 need;		/* the last seq seen on it */
	int		 client_eof;	/* the client's stdin ended */
	int		 rechecked;	/* its host's paths not valid when
					   seen were checked again once the
					   client was done */
	int		 ended;		/* killed: the shim went first */
};

struct sshcap {
	struct sshcap_config cfg;
	char		*real_ssh;	/* cfg's, copied */
	char		*self;
	char		*sock;		/* the socket's path */
	char		*shim;		/* the "ssh" script's path */
	int		 listen_fd;
	struct sshc	 conns[SSHCAP_CONNS_MAX];
	unsigned	 served;
	struct sshhost	*hosts[STORE_MAX];
	size_t		 nhosts;
	int		 partial;	/* a host held less than it saw */
	int		 listed;	/* --print-roots: its list is out */
	struct batch	*queued;	/* during sshcap_handle and
					   sshcap_answered */
};

/* sshcap_host.c */

/* The host c's command goes to (NULL if none); opens its holding session
 * on first sight.  -1 for ENOMEM. */
int	sshcap_host_for(struct sshcap *, struct sshc *c);
/* pathscan_found for a connection: the path, seen going to its host. */
int	sshcap_seen(void *c, const char *path, size_t len);
/* Whether every path seen on c is held on its host; for a control master,
 * on every connection (it may carry them). */
int	sshcap_held(const struct sshc *);
/*
 * c's client is done: its host's paths that were not valid there when
 * they were seen (a copy's, on their way) are checked again, so those
 * valid now are acked "ok" while the client's connection still holds
 * them, and a reconnect that finds one gone says it was lost.  Returns
 * how many were queued (to cap->queued), or -1 (ENOMEM).
 */
int	sshcap_recheck(struct sshc *c);
void	sshcap_hosts_free(struct sshcap *);

/* sshcap_shim.c */

/* Makes the capture directory's "ssh".  Returns 0, or -1 with err. */
int	sshcap_write_shim(struct sshcap *, char *err, size_t errlen);
/* Listens on cap->sock.  Returns 0, or -1 with err. */
int	sshcap_listen(struct sshcap *, char *err, size_t errlen);
/* Reads more of c's message: 1 once it is whole, 0, or -1 (dropped). */
int	sshcap_read_message(struct sshc *);
/* The whole message: the real ssh's argv, env (its PATH without us) and
 * cwd, and what its arguments say.  Returns 0/-1. */
int	sshcap_parse_message(struct sshc *);
/* Tells the shim how ssh ended, and lets it go. */
void	sshcap_tell_status(struct sshc *);
/* Closes *fd if it is open, and makes it -1. */
void	sshcap_close_fd(int *fd);

/* sshcap.c */

/*
 * Lets c's connection go on or end, as what it saw is held (and, once its
 * client is done, checked again: sshcap_recheck).  Returns 0/-1 (ENOMEM).
 */
int	sshcap_settle(struct sshc *c);

#endif
