/*
 * nixdb: validity lookups in a local store's SQLite database
 * (STATEDIR/db/db.sqlite, table ValidPaths), read-only: keep-paths never
 * writes to it, and never waits on its locks.
 */
#ifndef KP_NIXDB_H
#define KP_NIXDB_H

#include <stddef.h>

struct nixdb;

enum nixdb_answer {
	NIXDB_INVALID,
	NIXDB_VALID,
	NIXDB_BUSY,	/* a writer has it locked: ask again later */
	NIXDB_ERROR,	/* message in err */
};

/*
 * Opens the database of statedir; reads nothing yet, so a writer cannot
 * get in the way.  Returns it, or NULL with err set.
 */
struct nixdb *nixdb_open(const char *statedir, char *err, size_t errlen);

/*
 * Does the database register its paths under storedir?  A record for
 * another store directory in a temp-roots file would fail every
 * collection.  NIXDB_VALID if so (or if it registers none yet),
 * NIXDB_INVALID with the reason in err, NIXDB_BUSY, or NIXDB_ERROR.
 */
int	nixdb_check_store_dir(struct nixdb *, const char *storedir, char *err,
	    size_t errlen);

/*
 * Lookups between nixdb_read_begin and nixdb_read_end share one read
 * transaction: one lock and one look at the WAL for all of them, instead
 * of one each.  Keep it short (a checkpoint cannot pass an open read).
 * nixdb_read_begin takes no lock yet, so it cannot be busy: the first
 * lookup can.  Should it fail, each lookup is its own transaction.
 */
void	nixdb_read_begin(struct nixdb *);
void	nixdb_read_end(struct nixdb *);

/* Is path registered as valid?  One of enum nixdb_answer. */
int	nixdb_is_valid(struct nixdb *, const char *path, char *err,
	    size_t errlen);

void	nixdb_close(struct nixdb *);

#endif
