/*
 * sweep: remove the stale session directories under a sessions root.
 *
 * Per entry, in this order: not a directory, or on another mount, or
 * (unless we are root) not ours: not a session, left alone.  The caller's
 * own sessions, known by device and inode: kept, before any lock probe (a
 * probe cannot tell "mine" from "dead" inside one process where fcntl
 * locks stand in for flock).  Younger than min_age: kept.  Locked: live.
 * Locks unsupported: unknown, kept.  Otherwise claimed (renamed to a trash
 * name while locked) and deleted through fds.  A trash directory left by
 * an interrupted sweep is finished.
 */
#ifndef KP_SWEEP_H
#define KP_SWEEP_H

#include <sys/types.h>

enum sweep_decision {
	SWEEP_DELETED,
	SWEEP_KEPT_SELF,
	SWEEP_KEPT_LIVE,
	SWEEP_KEPT_YOUNG,
	SWEEP_KEPT_UNKNOWN,
	SWEEP_NOT_A_SESSION,
	SWEEP_ERROR,
	SWEEP_NDECISIONS
};

/* "deleted", "kept-self", ...: the names the output uses. */
const char *sweep_decision_name(enum sweep_decision);

struct sweep_entry {
	const char		*root;
	const char		*name;	/* NULL: the root itself */
	enum sweep_decision	 decision;
	const char		*reason;
	unsigned long long	 bytes;	/* freed, or to be freed (dry run) */
};

struct sweep_self {
	dev_t	dev;
	ino_t	ino;
};

struct sweep_options {
	long			 min_age;	/* seconds */
	int			 dry_run;	/* change nothing */
	const struct sweep_self	*selves;
	size_t			 nselves;
	void			(*report)(const struct sweep_entry *, void *);
	void			*arg;
};

/*
 * Sweeps root.  Every entry is reported once.  Returns 0, or -1 if root
 * itself cannot be swept (reported as an error).
 */
int	sweep_root(const char *root, const struct sweep_options *);

#endif
