/*
 * relay_int: what the files of capture mode's relay share, and no other
 * module sees:
 *	relay.c		clients, their upstream connections, the bytes
 *	relay_dir.c	the private directory and its socket
 *	relay_seen.c	the paths seen: queued once, answered, listed
 */
#ifndef KP_RELAY_INT_H
#define KP_RELAY_INT_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "buf.h"
#include "pathscan.h"
#include "relay.h"
#include "request.h"
#include "seenset.h"
#include "transport.h"

struct conn {
	struct relay	*relay;
	int		 used;
	unsigned	 id;		/* for messages: 1, 2, ... */
	int		 client;	/* -1 once gone */
	struct transport up;		/* up.fd -1 once closed */
	struct buf	 to_up;
	struct buf	 to_client;
	struct pathscan	 from_client;
	struct pathscan	 from_up;
	unsigned long	 need;		/* the last seq seen on it */
};

struct relay {
	const char	*storedir;
	struct transport_target upstream;
	int		 verbose;
	const char	*base;		/* where the directory is made */
	int		 base_fd;	/* -1: none */
	char		 name[32];	/* the directory's, in base */
	int		 dir_fd;	/* -1: none */
	dev_t		 dir_dev;
	ino_t		 dir_ino;
	char		 sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 listen_fd;	/* -1 once no more clients are taken */
	long		 paused_until;	/* -1, or accept() ran out of fds */
	struct conn	 conns[RELAY_CLIENTS_MAX];
	unsigned	 served;	/* clients ever */
	struct seenset	 seen;		/* the paths in the relayed traffic */
	unsigned long	 submitted;	/* captured requests queued */
	unsigned long	 answered;	/* ... that have their reply */
	int		 unheld;	/* a path could not be held */
	int		 lost;		/* the session's store is gone */
	int		 listed;	/* the end phase's list is out */
	size_t		 max_seen;	/* distinct paths held at most */
	unsigned long	 over;		/* paths seen past max_seen */
	pid_t		*children;	/* closed "nix-daemon --stdio"s */
	size_t		 nchildren;
	struct batch	*queued;	/* during relay_handle */
};

/* relay_dir.c: each returns 0, or -1 with a message in err. */

/* The private directory (mode 0700) under the first safe base. */
int	relay_dir_make(struct relay *, char *err, size_t errlen);
/* The socket in it, listening. */
int	relay_dir_listen(struct relay *, char *err, size_t errlen);
/* Removes the socket and the directory, fd-relative, if still ours. */
void	relay_dir_remove(struct relay *);

/* relay_seen.c */

/* pathscan_found for a struct conn: a path in its traffic. */
int	relay_seen_path(void *conn, const char *path, size_t len);
/* Frees every path seen. */
void	relay_seen_free(struct relay *);

/* relay.c */

/* A gone client's upstream closes once every path it saw is answered. */
void	relay_conn_settle(struct relay *, struct conn *);

#endif
