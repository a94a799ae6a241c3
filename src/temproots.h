/*
 * temproots: this process's temp-roots file in a local store, kept as
 * Nix's own LocalStore keeps it, so every Nix >= 2.5 and Lix collector
 * honours it: STATEDIR/temproots/<our decimal pid> (the collector parses
 * the name as an integer), under flock(LOCK_EX) for our whole life (an
 * unlocked file is stale and gets removed), records "STOREPATH\0"
 * appended (one malformed record makes every collection fail).
 */
#ifndef KP_TEMPROOTS_H
#define KP_TEMPROOTS_H

#include <sys/types.h>

struct temproots {
	char	*path;
	int	 fd;		/* -1 until created */
	off_t	 size;		/* bytes of whole records written */
};

/*
 * Creates and locks the file for statedir, without waiting.  Returns 0;
 * 1 when a collector is checking the name right now (try again shortly);
 * or -1 with errno.
 */
int	temproots_create(struct temproots *, const char *statedir);

/*
 * Appends len bytes of whole records.  Returns 0; -1 with errno, the file
 * cut back to its last whole record and still held; or -2 with errno if
 * it could not be cut back and was removed (every root in it is lost),
 * since a partial record followed by another would fail every collection.
 */
int	temproots_append(struct temproots *, const void *records, size_t len);

/* Returns 1 if the file is still in place under its name, else 0. */
int	temproots_intact(const struct temproots *);

/* Removes the file (if it is still ours) and drops the lock: releases. */
void	temproots_remove(struct temproots *);

#endif
