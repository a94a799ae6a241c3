/*
 * session: making, probing and removing session directories.
 *
 * MUST, for every session directory and its root:
 *  - A session becomes visible under its name only once locked, so no
 *    sweeper ever sees a live one unlocked.
 *  - The sessions root is opened once, through no symbolic link in any
 *    component of its path (session_root_open: a walk from / or ., one
 *    O_NOFOLLOW openat per component), and everything below is reached
 *    relative to that fd.
 *  - Removal goes by identity: a session removes only the directory whose
 *    (dev, ino) it made, so a name a racer swapped in is left alone.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
	if ((s->root_fd = session_root_open(root, 1)) == -1 ||
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

/*
 * The next component of *p (advanced past it and its slashes) into name.
 * Returns 1, 0 at the end, or -1 with errno ENAMETOOLONG.
 */
static int
next_component(const char **p, char *name, size_t size)
{
	size_t len;

	while (**p == '/')
		(*p)++;
	if (**p == '\0')
		return 0;
	len = strcspn(*p, "/");
	if (len >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(name, *p, len);
	name[len] = '\0';
	*p += len;
	return 1;
}

/*
 * Opens name in the directory at dirfd without following a link, made
 * (mode 0755) first if create and missing.  Returns the fd, or -1 with
 * errno (ELOOP: a symbolic link).
 */
static int
open_component(int dirfd, const char *name, int create)
{
	struct stat st;
	int fd;

	for (;;) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd != -1 || errno != ENOENT || !create)
			break;
		if (mkdirat(dirfd, name, 0755) == -1 && errno != EEXIST)
			return -1;
		create = 0;	/* made, or a racer's: open what is there */
	}
	if (fd == -1 && errno == ENOTDIR &&
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP;
	return fd;
}

int
session_root_open(const char *root, int create)
{
	char name[NAME_MAX + 1];
	const char *p = root;
	int fd, next, more, saved;

	if (*root == '\0') {
		errno = ENOENT;
		return -1;
	}
	if ((fd = open(*root == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	while ((more = next_component(&p, name, sizeof(name))) == 1) {
		next = open_component(fd, name, create);
		saved = errno;
		close(fd);
		errno = saved;
		if ((fd = next) == -1)
			return -1;
	}
	if (more == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Hex digits, exactly n, then the end. */
static int
hex_tail(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]) && (p[i] < 'a' || p[i] > 'f'))
			return 0;
	return p[n] == '\0';
}

int
session_name_ours(const char *name)
{
	size_t trash = strlen(SESSION_TRASH_PREFIX),
	    fresh = strlen(SESSION_NEW_PREFIX);
	const char *dash, *pid;

	if (strncmp(name, SESSION_TRASH_PREFIX, trash) == 0)
		return hex_tail(name + trash, 16);
	if (strncmp(name, SESSION_NEW_PREFIX, fresh) == 0)
		return hex_tail(name + fresh, 8);
	/* PREFIX-PID-RANDOM: a prefix, decimal digits, 8 hex digits. */
	if ((dash = strrchr(name, '-')) == NULL || !hex_tail(dash + 1, 8))
		return 0;
	for (pid = dash; pid > name && isdigit((unsigned char)pid[-1]); pid--)
		;
	return pid < dash && pid - 1 > name && pid[-1] == '-';
}

const char *
session_strerror(int errnum)
{
	if (errnum == ELOOP)
		return "a symbolic link on its path: a sessions root must be "
		    "reached through directories only, as no sweeper follows "
		    "a link";
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
