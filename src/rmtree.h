/*
 * rmtree: empty a directory through fds, safe against a hostile or racing
 * tree: entries are reached only with openat(O_NOFOLLOW | O_DIRECTORY),
 * fstatat(AT_SYMLINK_NOFOLLOW) and unlinkat relative to their parent, a
 * symlink is removed, never followed, another file system is never
 * entered, and any depth is handled without deep recursion.
 */
#ifndef KP_RMTREE_H
#define KP_RMTREE_H

#include <sys/types.h>

struct rmtree_result {
	unsigned long long	bytes;		/* disk space of the entries */
	unsigned		problems;	/* entries left, or unread */
	unsigned		unmeasured;	/* dry run: subtrees too deep to
						   measure without moving them */
	char			error[512];	/* the first problem, or "" */
};

/*
 * Removes everything inside the directory open at fd (which stays open
 * and is not removed), staying on file system dev.  Returns 0, or -1 with
 * r->error set; whatever could be removed is removed.
 */
int	rmtree_contents(int fd, dev_t dev, struct rmtree_result *r);

/*
 * Removes the empty directory name in parent, but only if it is still the
 * inode (dev, ino): a name a racer swapped in is left alone.  Returns 0,
 * or -1 with errno (ESTALE if the name is no longer that directory).
 */
int	rmtree_rmdir_same(int parent, const char *name, dev_t dev, ino_t ino);

/* Measures what rmtree_contents would free, changing nothing. */
int	rmtree_measure(int fd, dev_t dev, struct rmtree_result *r);

#endif
