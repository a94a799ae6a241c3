/*
 * storepath: turn a request into the canonical top-level store path that
 * Nix will accept, or say exactly why not.
 *
 * A path that the daemon cannot parse makes it close the connection, which
 * drops every root the session holds; a bad record in a temp-roots file makes
 * every collection on the machine fail.  So nothing leaves keep-paths that
 * every supported Nix version would not accept.
 */
#ifndef KP_STOREPATH_H
#define KP_STOREPATH_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>

#define STOREPATH_HASH_LEN	32
#define STOREPATH_NAME_MAX	211

/* Room for a reason message. */
#define STOREPATH_WHY_MAX	256

/*
 * Canonicalises an absolute path lexically, as Nix's canonPath does without
 * following symlinks: no "//", ".", "..", or trailing "/".  Returns a new
 * string, or NULL with errno (EINVAL for a relative path, ENOMEM).
 */
char	*storepath_canon(const char *path);

/* Returns 1 if Nix allows byte c in a store path's name. */
int	 storepath_name_char(int c);

/*
 * Checks a store path base name ("<hash>-<name>", len bytes) by the
 * strictest rules of the Nix versions keep-paths supports.  Returns 0, or -1
 * with a reason in why.
 */
/*
 * Can dir stand in a reply line and a JSON string as it is: no control
 * character, '"' or '\\'?  Nix allows them; keep-paths refuses such a
 * store directory rather than print a path that breaks its reader.
 * Returns 1 if so, else 0.
 */
int	 storepath_dir_printable(const char *dir);

int	 storepath_check_base(const char *base, size_t len, char *why,
	    size_t whylen);

/*
 * Resolves input (absolute, or relative to the working directory) to the
 * top-level store path it names under storedir (canonical, no trailing
 * slash): a path inside a store path gives its top-level path; symlinks
 * outside the store are followed, as Nix does, until the path enters the
 * store.  The store path need not exist.  Returns 0 and a new string in
 * *out, or -1 with a reason in why.
 */
int	 storepath_resolve(const char *storedir, const char *input, char **out,
	    char *why, size_t whylen);

/*
 * The file system calls resolution makes, for a fuzzer or a test to stand
 * in for; NULL restores the real ones.
 */
struct storepath_fs {
	int	 (*lstat)(const char *, struct stat *);
	ssize_t	 (*readlink)(const char *, char *, size_t);
	char	*(*getcwd)(char *, size_t);
};
void	 storepath_set_fs(const struct storepath_fs *);

#endif
