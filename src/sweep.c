/*
 * sweep: one pass over a sessions root.
 *
 * MUST, for every entry of the root:
 *  - The root is opened once without following a link
 *    (session_root_open); entries are reached only relative to it, with
 *    AT_SYMLINK_NOFOLLOW and O_NOFOLLOW, and never on another file system.
 *  - The caller's own sessions are kept by identity (dev, ino), before
 *    any lock is tried: a lock probe cannot tell ours from a dead one.
 *  - An entry is deleted only while we hold its lock, and only after it
 *    is renamed to a trash name (the lock moves with the inode), so a
 *    live owner never loses its directory and a crashed sweep is finished
 *    by the next one.
 *  - The opened directory is checked to be the one fstatat saw.  The
 *    check and the open are not atomic, but what a racer can swap in is
 *    then found to differ and left alone; and rmdir of what is left
 *    checks identity again (rmtree_rmdir_same).
 *  - Every entry is reported exactly once: the names are read before any
 *    is renamed, so a trash name made in this pass is not met again.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rmtree.h"
#include "session.h"
#include "sweep.h"

/* File systems whose flock cannot be trusted (emulated, or hangs). */
#define NFS_MAGIC	0x6969
#define SMB_MAGIC	0x517b
#define CIFS_MAGIC	0xff534d42
#define SMB2_MAGIC	0xfe534d42

static void
free_names(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

struct pass {
	const char			*root;
	int				 fd;
	struct stat			 st;
	const struct sweep_options	*o;
};

const char *
sweep_decision_name(enum sweep_decision d)
{
	static const char *const names[SWEEP_NDECISIONS] = {
		"deleted", "kept-self", "kept-live", "kept-young",
		"kept-unknown", "not-a-session", "error",
	};

	return d < SWEEP_NDECISIONS ? names[d] : "error";
}

static void
report(const struct pass *p, const char *name, enum sweep_decision d,
    const char *reason, unsigned long long bytes)
{
	struct sweep_entry e = { p->root, name, d, reason, bytes };

	p->o->report(&e, p->o->arg);
}

static int
is_self(const struct pass *p, const struct stat *st)
{
	size_t i;

	for (i = 0; i < p->o->nselves; i++)
		if (p->o->selves[i].dev == st->st_dev &&
		    p->o->selves[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* Seconds since the entry last changed; ctime cannot be set back. */
static long
age_of(const struct stat *st)
{
	time_t changed = st->st_mtime > st->st_ctime ? st->st_mtime :
	    st->st_ctime;

	return (long)(time(NULL) - changed);
}

/* What an entry is, before anything is opened; NULL if a session. */
static const char *
not_a_session(const struct pass *p, const char *name, const struct stat *st)
{
	static char why[64];

	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (st->st_dev != p->st.st_dev)
		return "on another file system";
	/* Ours, or as root the root's owner's: never a third user's. */
	if ((geteuid() != 0 && st->st_uid != geteuid()) ||
	    (geteuid() == 0 && st->st_uid != p->st.st_uid)) {
		snprintf(why, sizeof(why), "owned by uid %lu",
		    (unsigned long)st->st_uid);
		return why;
	}
	if (!session_name_ours(name))
		return "not a session's name";
	return NULL;
}

/*
 * We hold the dead session's lock: rename it to a trash name (the lock
 * goes with it), then empty and remove it through its fd.
 */
static void
claim_and_delete(const struct pass *p, const char *name, int fd,
    const struct stat *st, int is_trash)
{
	struct rmtree_result r;
	char trash[64], why[128];
	const char *target = name;

	if (p->o->dry_run) {
		rmtree_measure(fd, st->st_dev, &r);
		if (r.unmeasured > 0)
			snprintf(why, sizeof(why), "dry run: would be deleted; "
			    "bytes leave out %u subtree%s too deep to measure "
			    "without moving %s", r.unmeasured, r.unmeasured ==
			    1 ? "" : "s", r.unmeasured == 1 ? "it" : "them");
		report(p, name, SWEEP_DELETED, r.unmeasured > 0 ? why :
		    "dry run: would be deleted",
		    r.bytes + (unsigned long long)st->st_blocks * 512);
		return;
	}
	if (!is_trash) {
		session_trash_name(trash, sizeof(trash));
		if (renameat(p->fd, name, p->fd, trash) == -1) {
			if (errno == ENOENT)	/* another sweeper took it */
				return;
			report(p, name, SWEEP_ERROR, strerror(errno), 0);
			return;
		}
		target = trash;
	}
	if (rmtree_contents(fd, st->st_dev, &r) == -1) {
		report(p, name, SWEEP_ERROR, r.error, r.bytes);
		return;
	}
	if (rmtree_rmdir_same(p->fd, target, st->st_dev, st->st_ino) == -1) {
		report(p, name, SWEEP_ERROR, "removed its contents, but not "
		    "itself", r.bytes);
		return;
	}
	report(p, name, SWEEP_DELETED, is_trash ? "finished an interrupted "
	    "removal" : "no owner holds its lock",
	    r.bytes + (unsigned long long)st->st_blocks * 512);
}

/* One entry, opened without following and without creating. */
static void
sweep_entry(const struct pass *p, const char *name)
{
	int is_trash = strncmp(name, SESSION_TRASH_PREFIX,
	    strlen(SESSION_TRASH_PREFIX)) == 0;
	struct stat st, opened;
	const char *why;
	int fd;

	if (fstatat(p->fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			report(p, name, SWEEP_ERROR, strerror(errno), 0);
		return;
	}
	if ((why = not_a_session(p, name, &st)) != NULL) {
		report(p, name, SWEEP_NOT_A_SESSION, why, 0);
		return;
	}
	if (is_self(p, &st)) {
		report(p, name, SWEEP_KEPT_SELF, "the caller's own session", 0);
		return;
	}
	if (!is_trash && age_of(&st) < p->o->min_age) {
		report(p, name, SWEEP_KEPT_YOUNG, "younger than min-age", 0);
		return;
	}
	fd = openat(p->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			report(p, name, SWEEP_ERROR, strerror(errno), 0);
		return;
	}
	if (fstat(fd, &opened) == -1 || opened.st_dev != st.st_dev ||
	    opened.st_ino != st.st_ino) {
		report(p, name, SWEEP_ERROR, "changed during the sweep", 0);
		close(fd);
		return;
	}
	switch (session_probe(fd)) {
	case SESSION_LIVE:
		report(p, name, SWEEP_KEPT_LIVE, is_trash ? "another sweeper "
		    "is removing it" : "its owner holds the lock", 0);
		break;
	case SESSION_UNKNOWN:
		report(p, name, SWEEP_KEPT_UNKNOWN, strerror(errno), 0);
		break;
	case SESSION_DEAD:
		claim_and_delete(p, name, fd, &opened, is_trash);
		break;
	}
	close(fd);	/* drops the lock, if it was ours */
}

/* Locks on network file systems are emulated, or can hang unkillably. */
static const char *
untrusted_locks(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) == -1)
		return NULL;
	switch ((unsigned long)sfs.f_type) {
	case NFS_MAGIC:
		return "on NFS, where flock cannot be trusted";
	case SMB_MAGIC:
	case CIFS_MAGIC:
	case SMB2_MAGIC:
		return "on SMB/CIFS, where flock cannot be trusted";
	default:
		return NULL;
	}
}

/* The names in the directory open at fd, but "." and "..".  NULL-ended
 * array of new strings, or NULL with errno. */
static char **
read_names(int fd)
{
	struct dirent *de;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int copy, saved;
	DIR *dir;

	if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return NULL;
	if ((dir = fdopendir(copy)) == NULL) {
		saved = errno;
		close(copy);
		errno = saved;
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap) {
			cap = cap * 2 + 16;
			if ((grown = reallocarray(names, cap,
			    sizeof(*names))) == NULL)
				break;
			names = grown;
		}
		names[n] = NULL;
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		names[++n] = NULL;
	}
	saved = errno;
	closedir(dir);
	if (saved != 0) {
		free_names(names);
		errno = saved;
		return NULL;
	}
	return names;
}

int
sweep_root(const char *root, const struct sweep_options *o)
{
	struct pass p = { root, -1, { 0 }, o };
	const char *why;
	char **names;
	size_t i;

	if ((p.fd = session_root_open(root, 0)) == -1 ||
	    fstat(p.fd, &p.st) == -1) {
		report(&p, NULL, SWEEP_ERROR, session_strerror(errno), 0);
		if (p.fd != -1)
			close(p.fd);
		return -1;
	}
	if ((why = untrusted_locks(p.fd)) != NULL) {
		report(&p, NULL, SWEEP_KEPT_UNKNOWN, why, 0);
		close(p.fd);
		return 0;
	}
	if ((names = read_names(p.fd)) == NULL) {
		report(&p, NULL, SWEEP_ERROR, strerror(errno), 0);
		close(p.fd);
		return -1;
	}
	for (i = 0; names[i] != NULL; i++)
		sweep_entry(&p, names[i]);
	free_names(names);
	close(p.fd);
	return 0;
}
