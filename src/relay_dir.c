/*
 * relay_dir: capture mode's private directory and its socket, made and
 * removed fd-relative under a base nobody else can write to.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay_int.h"
#include "xio.h"

/*
 * Can the base directory open at fd hold our private directory?  Only if
 * nobody else can rename or replace what we make in it: owned by us or
 * by root, and writable by others only with the sticky bit (/tmp).  Root
 * with a user's XDG_RUNTIME_DIR (su without -, sudo -E) must not make its
 * socket where that user can swap it for a link.  Returns NULL if it
 * can, else why not.
 */
static const char *
base_unsafe(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return "owned by another user";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st.st_mode & S_ISVTX) == 0)
		return "writable by others, and not sticky";
	return NULL;
}

/*
 * Opens the base: the first of $XDG_RUNTIME_DIR, $TMPDIR and /tmp that is
 * set, or the next one if that is not safe (base_unsafe).  A base that is
 * set and cannot be opened is an error, as it is for the user's Nix.
 */
static int
open_base(struct relay *r, char *err, size_t errlen)
{
	const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"),
	    "/tmp" };
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (bases[i] == NULL || *bases[i] != '/')
			continue;
		if ((r->base_fd = open(bases[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s: cannot make the socket's "
			    "directory: %s", bases[i], strerror(errno));
			return -1;
		}
		if ((why = base_unsafe(r->base_fd)) == NULL) {
			r->base = bases[i];
			return 0;
		}
		close(r->base_fd);
		r->base_fd = -1;
		if (r->verbose)
			warnx("%s: not used for the capture socket: %s",
			    bases[i], why);
		snprintf(err, errlen, "%s: not used for the capture socket: "
		    "%s", bases[i], why);
	}
	return -1;
}

/*
 * The socket's directory: mode 0700, made under the base's fd and kept
 * open, so that the end removes what we made, by identity, and nothing
 * that a link put in its place leads to.
 */
int
relay_dir_make(struct relay *r, char *err, size_t errlen)
{
	struct stat st;
	int tries;

	if (open_base(r, err, errlen) == -1)
		return -1;
	for (tries = 0; tries < 100; tries++) {
		snprintf(r->name, sizeof(r->name), "keep-paths.%08x",
		    arc4random());
		if (mkdirat(r->base_fd, r->name, 0700) == 0)
			break;
		if (errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot make the socket's "
			    "directory: %s", r->base, strerror(errno));
			r->name[0] = '\0';
			return -1;
		}
	}
	if ((r->dir_fd = openat(r->base_fd, r->name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || fstat(r->dir_fd, &st) == -1) {
		snprintf(err, errlen, "%s/%s: %s", r->base, r->name,
		    strerror(errno));
		return -1;
	}
	r->dir_dev = st.st_dev;
	r->dir_ino = st.st_ino;
	snprintf(r->dir, sizeof(r->dir), "%s/%s", r->base, r->name);
	if ((size_t)snprintf(r->sock, sizeof(r->sock), "%s/%s/socket", r->base,
	    r->name) >= sizeof(r->sock)) {
		snprintf(err, errlen, "%s/%s/socket: too long for a unix socket "
		    "(at most %zu bytes): set XDG_RUNTIME_DIR or TMPDIR to a "
		    "shorter directory", r->base, r->name, sizeof(r->sock) - 1);
		r->sock[0] = '\0';
		return -1;
	}
	return 0;
}

/* Removes the socket and its directory: ours, by fd and identity. */
void
relay_dir_remove(struct relay *r)
{
	struct stat st;

	if (r->dir_fd != -1) {
		if (r->sock[0] != '\0' && unlinkat(r->dir_fd, "socket", 0) ==
		    -1 && errno != ENOENT)
			warn("%s", r->sock);
		r->sock[0] = '\0';
		close(r->dir_fd);
		r->dir_fd = -1;
	}
	if (r->name[0] != '\0') {
		if (fstatat(r->base_fd, r->name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || st.st_dev != r->dir_dev || st.st_ino != r->dir_ino)
			warnx("%s/%s: not removed: no longer the directory made",
			    r->base, r->name);
		else if (unlinkat(r->base_fd, r->name, AT_REMOVEDIR) == -1)
			warn("%s/%s", r->base, r->name);
		r->name[0] = '\0';
	}
	if (r->base_fd != -1)
		close(r->base_fd);
	r->base_fd = -1;
}

int
relay_dir_listen(struct relay *r, char *err, size_t errlen)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, r->sock, sizeof(sun.sun_path));
	if ((r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    bind(r->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(r->listen_fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "%s: %s", r->sock, strerror(errno));
		return -1;
	}
	return 0;
}
