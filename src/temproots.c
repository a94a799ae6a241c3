/*
 * temproots: creating, appending to and removing our temp-roots file.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "temproots.h"
#include "xio.h"

static int
mkdir_exists_ok(const char *dir)
{
	return mkdir(dir, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

int
temproots_create(struct temproots *t, const char *statedir)
{
	struct stat st;
	char dir[PATH_MAX];
	int fd, saved;

	t->fd = -1;
	t->size = 0;
	if (t->path == NULL) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/temproots",
		    statedir) >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir_exists_ok(dir) == -1 ||
		    asprintf(&t->path, "%s/%ld", dir, (long)getpid()) == -1) {
			t->path = NULL;
			return -1;
		}
	}
	/* A file with our pid is stale: no two live processes share one. */
	if (unlink(t->path) == -1 && errno != ENOENT)
		return -1;
	fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return errno == EEXIST ? 1 : -1;
	/*
	 * Only a collector's staleness probe can hold this lock: it found the
	 * file unlocked and is removing it.  Or it removed the file between
	 * our open and our lock, and marked it with "d".  Start again.
	 */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return errno == EWOULDBLOCK || errno == EINTR ? 1 : -1;
	}
	if (st.st_size != 0 || st.st_nlink == 0) {
		close(fd);
		return 1;
	}
	t->fd = fd;
	return 0;
}

int
temproots_append(struct temproots *t, const void *records, size_t len)
{
	int saved;

	if (xio_write_all(t->fd, records, len) == 0) {
		t->size += len;
		return 0;
	}
	saved = errno;
	/*
	 * A record cut short would be glued to the next one: a path the
	 * collector cannot parse, failing every collection on the machine.
	 * If it cannot be cut off, the file must go, and our roots with it.
	 */
	if (ftruncate(t->fd, t->size) == -1 ||
	    lseek(t->fd, t->size, SEEK_SET) == -1) {
		warn("%s: cannot cut back a partial record", t->path);
		unlink(t->path);
		close(t->fd);
		t->fd = -1;
		errno = saved;
		return -2;
	}
	errno = saved;
	return -1;
}

int
temproots_intact(const struct temproots *t)
{
	struct stat mine, named;

	if (fstat(t->fd, &mine) == -1 || mine.st_nlink == 0 ||
	    lstat(t->path, &named) == -1)
		return 0;
	return mine.st_dev == named.st_dev && mine.st_ino == named.st_ino;
}

void
temproots_remove(struct temproots *t)
{
	/* Unlink before closing: a collector must never find it unlocked. */
	if (t->fd != -1) {
		if (temproots_intact(t))
			unlink(t->path);
		close(t->fd);
	}
	free(t->path);
	t->fd = -1;
	t->path = NULL;
}
