/*
 * session: session directories, the layout both programs share.
 *
 * A session directory lives directly under a sessions root.  Its owner
 * holds flock(LOCK_EX) on the directory's own fd for as long as it lives
 * (systemd-tmpfiles also leaves flock-held directories alone).  It becomes
 * visible only when locked: it is made under a hidden name (".new-..."),
 * locked, and renamed into place.  A sweeper claims a dead one by locking
 * it and renaming it to ".trash-..." (the lock goes with the inode), then
 * deletes it through fds.
 */
#ifndef KP_SESSION_H
#define KP_SESSION_H

#include <sys/types.h>

#define SESSION_NEW_PREFIX	".new-"
#define SESSION_TRASH_PREFIX	".trash-"

struct session {
	int	 fd;		/* the directory, locked; -1 if none */
	int	 root_fd;	/* the sessions root */
	char	*root;
	char	*name;
	dev_t	 dev;
	ino_t	 ino;
};

/*
 * Creates and locks a session directory under root (made, mode 0755, if
 * missing) named PREFIX-PID-RANDOM.  Returns 0, or -1 with errno.
 */
int	session_create(struct session *, const char *root, const char *prefix);

/* The session directory's path.  New string, or NULL (ENOMEM). */
char	*session_path(const struct session *);

/* Removes the session directory with its contents, then drops the lock. */
int	session_remove(struct session *);

/*
 * Drops the lock and frees, leaving the directory: unlocked, it is stale,
 * and the next sweep takes it.  Does nothing after session_remove.
 */
void	session_close(struct session *);

enum session_probe {
	SESSION_DEAD,		/* we hold its lock now: the owner is gone */
	SESSION_LIVE,		/* someone holds its lock */
	SESSION_UNKNOWN,	/* locks do not work here: keep it */
};

/*
 * Probes the session directory open at fd with a non-blocking exclusive
 * flock: a shared holder is alive too.  SESSION_DEAD leaves it locked by
 * us; close the fd (or unlock) to let go.
 */
enum session_probe session_probe(int fd);

/*
 * Opens a sessions root, which must be a directory reached through no
 * symbolic link in any component of its path: a sweeper (run as root
 * from cron, say) must never be led into a directory it was not given,
 * as it would be if a user swapped a parent it may write (a per-user
 * directory under a world-writable one) for a link.  With create, the
 * missing components are made, mode 0755, the same way.  The one rule
 * for both programs.  Returns the fd, or -1 with errno (ELOOP: a
 * symbolic link on the path).
 */
int	session_root_open(const char *root, int create);

/*
 * Is name one that session_create or a sweeper makes: PREFIX-PID-RANDOM
 * (RANDOM 8 hex digits), .new- and 8 hex digits, or .trash- and 16?  A
 * sweeper removes nothing else.  Returns 1 if so, else 0.
 */
int	session_name_ours(const char *name);

/* strerror(errnum), but ELOOP says what session_root_open refuses. */
const char *session_strerror(int errnum);

/* A name for a claimed session: ".trash-" and random hex, in buf. */
void	session_trash_name(char *buf, size_t len);

#endif
