/*
 * sweep: one pass over a sessions root.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
not_a_session(const struct pass *p, const struct stat *st)
{
	static char why[64];

	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (st->st_dev != p->st.st_dev)
		return "on another file system";
	if (geteuid() != 0 && st->st_uid != geteuid()) {
		snprintf(why, sizeof(why), "owned by uid %lu",
		    (unsigned long)st->st_uid);
		return why;
	}
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
	char trash[64];
	const char *target = name;

	if (p->o->dry_run) {
		rmtree_measure(fd, st->st_dev, &r);
		report(p, name, SWEEP_DELETED, "dry run: would be deleted",
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
	if ((why = not_a_session(p, &st)) != NULL) {
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

int
sweep_root(const char *root, const struct sweep_options *o)
{
	struct pass p = { root, -1, { 0 }, o };
	struct dirent *de;
	const char *why;
	DIR *dir;

	if ((p.fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(p.fd, &p.st) == -1) {
		report(&p, NULL, SWEEP_ERROR, strerror(errno), 0);
		if (p.fd != -1)
			close(p.fd);
		return -1;
	}
	if ((why = untrusted_locks(p.fd)) != NULL) {
		report(&p, NULL, SWEEP_KEPT_UNKNOWN, why, 0);
		close(p.fd);
		return 0;
	}
	if ((dir = fdopendir(fcntl(p.fd, F_DUPFD_CLOEXEC, 0))) == NULL) {
		report(&p, NULL, SWEEP_ERROR, strerror(errno), 0);
		close(p.fd);
		return -1;
	}
	while ((errno = 0, de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			sweep_entry(&p, de->d_name);
	if (errno != 0)
		report(&p, NULL, SWEEP_ERROR, strerror(errno), 0);
	closedir(dir);
	close(p.fd);
	return 0;
}
