/*
 * rmtree: a depth-first walk that holds at most RMTREE_DEPTH directory
 * fds, none of them more than RMTREE_PATH bytes of path below the top.  A
 * directory deeper than either is renamed up into the top directory (same
 * file system, so rename works) and emptied by a later pass: the stack
 * stays small however deep the tree.
 *
 * The path bound is for the garbage collector, which runs beside us: it
 * reads every process's /proc/PID/fd links for runtime roots, and one
 * longer than PATH_MAX fails the whole collection (ENAMETOOLONG, or
 * "overly long symlink", in every Nix and Lix up to now).  Half of
 * PATH_MAX below the top leaves the other half for the top's own path.
 *
 * MUST, for every entry:
 *  - Reached relative to its parent's fd: fstatat(AT_SYMLINK_NOFOLLOW),
 *    openat(O_NOFOLLOW | O_DIRECTORY), unlinkat; a symlink is removed,
 *    never followed.
 *  - A directory is entered only if the opened one is the one fstatat saw,
 *    and only on the top's file system; a mount is left alone, mounted.
 *  - No fd is held deeper than RMTREE_DEPTH levels or RMTREE_PATH bytes.
 *  - One entry that cannot go stops nothing else: passes go on while
 *    subtrees are being lifted, and the result says what was left, and
 *    why (the last pass's first problem, and how many it met).
 *  - A dry run changes nothing, so what it would lift it cannot measure
 *    in place; it counts those subtrees instead of guessing their size.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rmtree.h"

#define RMTREE_DEPTH	32
#define RMTREE_PATH	(PATH_MAX / 2)
/*
 * Passes at most: 131,072 levels at RMTREE_DEPTH a pass.  A tree that a
 * live process keeps growing below us must not keep the sweep for ever.
 */
#define RMTREE_PASSES	4096

struct walk {
	int			 top;
	dev_t			 dev;
	int			 dry;
	unsigned		 lifted;	/* subtrees moved up this pass */
	struct rmtree_result	*r;
};

static void
note(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->r->problems++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(w->r->error, sizeof(w->r->error), fmt, ap);
	va_end(ap);
}

/* Moves a too-deep directory up into the top one, for a later pass. */
static void
lift(struct walk *w, int fd, const char *name)
{
	char up[64];

	snprintf(up, sizeof(up), ".deep-%08x%08x", arc4random(),
	    arc4random());
	if (renameat(fd, name, w->top, up) == -1)
		note(w, "%s: cannot move up from deep down: %s", name,
		    strerror(errno));
	else
		w->lifted++;
}

static void	walk_dir(struct walk *, int fd, int depth, size_t len);

/*
 * A directory entry of the directory open at fd, which is depth levels
 * and len bytes of path below the top: entered only if it is still what
 * fstatat saw.
 */
static void
walk_subdir(struct walk *w, int fd, const char *name, const struct stat *st,
    int depth, size_t len)
{
	struct stat sub_st;
	size_t sub_len = len + 1 + strlen(name);
	int sub;

	if (st->st_dev != w->dev) {
		note(w, "%s: on another file system: left alone", name);
		return;
	}
	if (depth + 1 >= RMTREE_DEPTH || sub_len > RMTREE_PATH) {
		if (w->dry)
			w->r->unmeasured++;
		else
			lift(w, fd, name);
		return;
	}
	sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (sub == -1 || fstat(sub, &sub_st) == -1 ||
	    sub_st.st_dev != st->st_dev || sub_st.st_ino != st->st_ino) {
		note(w, "%s: %s", name, sub == -1 ? strerror(errno) :
		    "changed while being removed: left alone");
		if (sub != -1)
			close(sub);
		return;
	}
	w->r->bytes += (unsigned long long)sub_st.st_blocks * 512;
	walk_dir(w, sub, depth + 1, sub_len);	/* closes sub */
	if (!w->dry && unlinkat(fd, name, AT_REMOVEDIR) == -1 &&
	    errno != ENOENT)
		note(w, "%s: %s", name, strerror(errno));
}

/* Empties the directory open at fd (as for walk_subdir), and closes fd. */
static void
walk_dir(struct walk *w, int fd, int depth, size_t len)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;

	if ((dir = fdopendir(fd)) == NULL) {
		note(w, "%s", strerror(errno));
		close(fd);
		return;
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)
				note(w, "%s: %s", de->d_name, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk_subdir(w, fd, de->d_name, &st, depth, len);
			continue;
		}
		w->r->bytes += (unsigned long long)st.st_blocks * 512;
		if (!w->dry && unlinkat(fd, de->d_name, 0) == -1 &&
		    errno != ENOENT)
			note(w, "%s: %s", de->d_name, strerror(errno));
	}
	if (errno != 0)
		note(w, "reading a directory: %s", strerror(errno));
	closedir(dir);
}

static int
rmtree_run(int fd, dev_t dev, int dry, struct rmtree_result *r)
{
	struct walk w = { fd, dev, dry, 0, r };
	unsigned passes = 0;
	size_t len;
	int copy;

	memset(r, 0, sizeof(*r));
	/*
	 * Every pass that lifted something has a next one to empty it; the
	 * last pass's problems are what is left.
	 */
	do {
		w.lifted = 0;
		r->problems = 0;
		r->error[0] = '\0';
		if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			note(&w, "%s", strerror(errno));
			break;
		}
		/* A fresh read of the top: rewinddir is per description. */
		lseek(copy, 0, SEEK_SET);
		walk_dir(&w, copy, 0, 0);
		if (w.lifted > 0 && ++passes == RMTREE_PASSES) {
			note(&w, "still deeper after %u passes: left for a "
			    "later sweep", passes);
			break;
		}
	} while (w.lifted > 0);
	if (r->problems > 1 && (len = strlen(r->error)) < sizeof(r->error))
		snprintf(r->error + len, sizeof(r->error) - len, " (and %u "
		    "more entr%s left)", r->problems - 1,
		    r->problems == 2 ? "y" : "ies");
	return r->problems == 0 ? 0 : -1;
}

int
rmtree_contents(int fd, dev_t dev, struct rmtree_result *r)
{
	return rmtree_run(fd, dev, 0, r);
}

int
rmtree_rmdir_same(int parent, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (st.st_dev != dev || st.st_ino != ino) {
		errno = ESTALE;
		return -1;
	}
	return unlinkat(parent, name, AT_REMOVEDIR);
}

int
rmtree_measure(int fd, dev_t dev, struct rmtree_result *r)
{
	return rmtree_run(fd, dev, 1, r);
}
