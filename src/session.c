/*
 * session: making, probing and removing session directories.
 *
 * MUST, for every session directory and its root:
 *  - A session becomes visible under its name only once locked, so no
 *    sweeper ever sees a live one unlocked.
 *  - The sessions root is opened once, never through a symbolic link
 *    (session_root_open), and everything below is reached relative to
 *    that fd.
 *  - Removal goes by identity: a session removes only the directory whose
 *    (dev, ino) it made, so a name a racer swapped in is left alone.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rmtree.h"
#include "session.h"

void
session_trash_name(char *buf, size_t len)
{
	snprintf(buf, len, "%s%08x%08x", SESSION_TRASH_PREFIX, arc4random(),
	    arc4random());
}

/* mkdir -p for the sessions root; only the last parts are made. */
static int
mkdirs(const char *path)
{
	char *copy, *slash;
	int rc = 0;

	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || (copy = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(copy, '/')) != NULL && slash != copy) {
		*slash = '\0';
		rc = mkdirs(copy);
	}
	free(copy);
	if (rc == 0 && mkdir(path, 0755) == -1 && errno != EEXIST)
		rc = -1;
	return rc;
}

void
session_close(struct session *s)
{
	if (s->fd != -1)
		close(s->fd);
	if (s->root_fd != -1)
		close(s->root_fd);
	free(s->root);
	free(s->name);
	memset(s, 0, sizeof(*s));
	s->fd = s->root_fd = -1;
}

int
session_create(struct session *s, const char *root, const char *prefix)
{
	char tmp[64];
	struct stat st;
	int saved;

	memset(s, 0, sizeof(*s));
	s->fd = s->root_fd = -1;
	snprintf(tmp, sizeof(tmp), "%s%08x", SESSION_NEW_PREFIX, arc4random());
	if (mkdirs(root) == -1 || (s->root_fd = session_root_open(root)) == -1 ||
	    (s->root = strdup(root)) == NULL ||
	    asprintf(&s->name, "%s-%ld-%08x", prefix, (long)getpid(),
	    arc4random()) == -1)
		goto fail;
	if (mkdirat(s->root_fd, tmp, 0755) == -1)
		goto fail;
	/* Locked before it has its visible name: no sweeper sees it free. */
	if ((s->fd = openat(s->root_fd, tmp, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    flock(s->fd, LOCK_EX | LOCK_NB) == -1 || fstat(s->fd, &st) == -1 ||
	    renameat(s->root_fd, tmp, s->root_fd, s->name) == -1) {
		saved = errno;
		unlinkat(s->root_fd, tmp, AT_REMOVEDIR);
		errno = saved;
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
fail:
	saved = errno;
	session_close(s);
	errno = saved;
	return -1;
}

int
session_root_open(const char *root)
{
	struct stat st;
	int fd;

	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 && errno == ENOTDIR &&
	    lstat(root, &st) == 0 && S_ISLNK(st.st_mode))
		errno = ELOOP;
	return fd;
}

const char *
session_strerror(int errnum)
{
	if (errnum == ELOOP)
		return "a symbolic link: a sessions root must be a directory "
		    "of its own, which no sweeper follows a link to";
	return strerror(errnum);
}

char *
session_path(const struct session *s)
{
	char *path;

	return asprintf(&path, "%s/%s", s->root, s->name) == -1 ? NULL : path;
}

int
session_remove(struct session *s)
{
	struct rmtree_result r;
	int rc = -1;

	if (s->fd == -1)
		return 0;
	/* Only what is still ours, by identity: never a stranger's entry. */
	if (rmtree_contents(s->fd, s->dev, &r) == 0 &&
	    rmtree_rmdir_same(s->root_fd, s->name, s->dev, s->ino) == 0)
		rc = 0;
	session_close(s);
	return rc;
}

enum session_probe
session_probe(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return SESSION_DEAD;
	return errno == EWOULDBLOCK || errno == EINTR ? SESSION_LIVE :
	    SESSION_UNKNOWN;
}
