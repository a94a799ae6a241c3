/*
 * nixdb: statements on a read-only connection.  The busy timeout stays 0,
 * so a locked database answers SQLITE_BUSY at once and the poll loop asks
 * again later.  Preparing a statement reads the schema, which a writer
 * can lock too (the last connection to close checkpoints the WAL under
 * an exclusive lock): so statements are prepared when first used, where
 * "busy" can be answered, never at open.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nixdb.h"

struct nixdb {
	sqlite3		*db;
	sqlite3_stmt	*is_valid;
	sqlite3_stmt	*begin, *end, *cache;
	char		*path;
};

static const char is_valid_sql[] =
    "SELECT 1 FROM ValidPaths WHERE path = ?1";
/*
 * A page cache of 512 KiB, not SQLite's 2 MB: a batch's lookups find
 * their way down the index almost as fast (0.49 s for 100,000 paths,
 * against 0.45 s), and a session that holds roots for days keeps 1.5 MB
 * less.  It reads the schema, so it runs with the first lookup.
 */
static const char cache_sql[] = "PRAGMA cache_size = -512";
/* Deferred: the lock is taken by the first lookup, where busy is handled. */
static const char begin_sql[] = "BEGIN DEFERRED";
static const char end_sql[] = "COMMIT";
static const char any_path_sql[] =
    "SELECT path FROM ValidPaths LIMIT 1";

/* A step's or a prepare's result code as an answer, other than a row. */
static int
answer(struct nixdb *n, int rc, char *err, size_t errlen)
{
	switch (rc) {
	case SQLITE_DONE:
		return NIXDB_INVALID;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return NIXDB_BUSY;
	default:
		/* The message of the call that failed, e.g. "no such table". */
		snprintf(err, errlen, "%s: %s", n->path, sqlite3_errmsg(n->db));
		return NIXDB_ERROR;
	}
}

struct nixdb *
nixdb_open(const char *statedir, char *err, size_t errlen)
{
	struct nixdb *n;

	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    asprintf(&n->path, "%s/db/db.sqlite", statedir) == -1) {
		free(n);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(n->path, &n->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", n->path, n->db != NULL ?
		    sqlite3_errmsg(n->db) : "out of memory");
		nixdb_close(n);
		return NULL;
	}
	return n;
}

/* One registered path says where the database's store is. */
int
nixdb_check_store_dir(struct nixdb *n, const char *storedir, char *err,
    size_t errlen)
{
	sqlite3_stmt *any;
	const char *path;
	size_t len = strlen(storedir);
	int rc;

	if ((rc = sqlite3_prepare_v2(n->db, any_path_sql, -1, &any,
	    NULL)) != SQLITE_OK)
		return answer(n, rc, err, errlen);
	if ((rc = sqlite3_step(any)) != SQLITE_ROW) {
		sqlite3_finalize(any);
		rc = answer(n, rc, err, errlen);
		return rc == NIXDB_INVALID ? NIXDB_VALID : rc;	/* none yet */
	}
	path = (const char *)sqlite3_column_text(any, 0);
	rc = NIXDB_VALID;
	if (path != NULL && (strncmp(path, storedir, len) != 0 ||
	    path[len] != '/')) {
		snprintf(err, errlen, "%s: registers %s, which is not in %s "
		    "(set NIX_STORE_DIR to its store)", n->path, path, storedir);
		rc = NIXDB_INVALID;
	}
	sqlite3_finalize(any);
	return rc;
}

/* Runs a statement that returns no rows, prepared when first used. */
static int
run(struct nixdb *n, sqlite3_stmt **st, const char *sql)
{
	int rc;

	if (*st == NULL && (rc = sqlite3_prepare_v2(n->db, sql, -1, st,
	    NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	return rc;
}

void
nixdb_read_begin(struct nixdb *n)
{
	(void)run(n, &n->begin, begin_sql);
}

void
nixdb_read_end(struct nixdb *n)
{
	/* A read-only transaction has nothing to lose: a failure is moot. */
	if (sqlite3_get_autocommit(n->db) == 0)
		(void)run(n, &n->end, end_sql);
}

int
nixdb_is_valid(struct nixdb *n, const char *path, char *err, size_t errlen)
{
	int rc;

	if (n->is_valid == NULL && ((rc = run(n, &n->cache, cache_sql)) !=
	    SQLITE_DONE || (rc = sqlite3_prepare_v2(n->db, is_valid_sql, -1,
	    &n->is_valid, NULL)) != SQLITE_OK))
		return answer(n, rc, err, errlen);
	if (sqlite3_bind_text(n->is_valid, 1, path, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", n->path, sqlite3_errmsg(n->db));
		return NIXDB_ERROR;
	}
	rc = sqlite3_step(n->is_valid);
	/*
	 * Reset at once: an open statement would keep its read transaction
	 * past nixdb_read_end.
	 */
	sqlite3_reset(n->is_valid);
	sqlite3_clear_bindings(n->is_valid);
	return rc == SQLITE_ROW ? NIXDB_VALID : answer(n, rc, err, errlen);
}

void
nixdb_close(struct nixdb *n)
{
	if (n == NULL)
		return;
	sqlite3_finalize(n->is_valid);
	sqlite3_finalize(n->begin);
	sqlite3_finalize(n->end);
	sqlite3_finalize(n->cache);
	sqlite3_close(n->db);
	free(n->path);
	free(n);
}
