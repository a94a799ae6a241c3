/*
 * storepath: validation and canonicalisation of store paths.
 *
 * The rules are those of Nix's StorePath constructor and checkName, taken
 * as the strictest of the versions we support (Nix 2.8 to master, Lix):
 *   - base name: 32 characters of Nix base-32 (0-9a-z less e o t u), "-",
 *     then a name of 1..211 characters from [0-9a-zA-Z+-._?=];
 *   - the name must not begin with "." (some Nix versions refuse that,
 *     later ones refuse ".", ".." and ".-"/"..-" prefixes only);
 *   - the path, canonicalised, must be storedir "/" base name.
 * Refusing a path some daemon would take costs one "error" reply; taking a
 * path some daemon refuses costs every root of the session.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storepath.h"

/* Nix's limit on symlinks followed while resolving one path. */
#define STOREPATH_MAX_FOLLOW	1024

static const struct storepath_fs real_fs = { lstat, readlink, getcwd };
static const struct storepath_fs *fs = &real_fs;

void
storepath_set_fs(const struct storepath_fs *f)
{
	fs = f != NULL ? f : &real_fs;
}

char *
storepath_canon(const char *path)
{
	const char *p = path, *comp;
	char *out, *end;
	size_t n;

	if (path[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	if ((out = malloc(strlen(path) + 2)) == NULL)
		return NULL;
	end = out;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		while (*p != '/' && *p != '\0')
			p++;
		n = (size_t)(p - comp);
		if (n == 1 && comp[0] == '.')
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			while (end > out && *--end != '/')
				;
			continue;
		}
		*end++ = '/';
		memcpy(end, comp, n);
		end += n;
	}
	if (end == out)
		*end++ = '/';
	*end = '\0';
	return out;
}

static int
is_base32(char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) &&
	    c != 'e' && c != 'o' && c != 't' && c != 'u';
}

int
storepath_name_char(int c)
{
	/* Not strchr() alone: it finds the NUL that ends its string. */
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("+-._?=", c) != NULL);
}

int
storepath_dir_printable(const char *dir)
{
	const unsigned char *p;

	for (p = (const unsigned char *)dir; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

int
storepath_check_base(const char *base, size_t len, char *why, size_t whylen)
{
	const char *name = base + STOREPATH_HASH_LEN + 1;
	size_t i, namelen;

	if (len < STOREPATH_HASH_LEN + 1) {
		snprintf(why, whylen, "too short to be a store path");
		return -1;
	}
	for (i = 0; i < STOREPATH_HASH_LEN; i++)
		if (!is_base32(base[i])) {
			/* Echoed only if printable: a reason is one line. */
			if (isgraph((unsigned char)base[i]) &&
			    (unsigned char)base[i] < 0x80)
				snprintf(why, whylen, "illegal base-32 "
				    "character '%c' in the hash", base[i]);
			else
				snprintf(why, whylen, "illegal byte 0x%02x in "
				    "the hash", (unsigned char)base[i]);
			return -1;
		}
	if (base[STOREPATH_HASH_LEN] != '-') {
		snprintf(why, whylen, "no '-' after the hash");
		return -1;
	}
	namelen = len - STOREPATH_HASH_LEN - 1;
	if (namelen == 0) {
		snprintf(why, whylen, "empty name");
		return -1;
	}
	if (namelen > STOREPATH_NAME_MAX) {
		snprintf(why, whylen, "name longer than %d characters",
		    STOREPATH_NAME_MAX);
		return -1;
	}
	if (name[0] == '.') {
		snprintf(why, whylen, "name starts with '.'");
		return -1;
	}
	for (i = 0; i < namelen; i++)
		if (!storepath_name_char((unsigned char)name[i])) {
			snprintf(why, whylen, "illegal character in the name");
			return -1;
		}
	return 0;
}

/*
 * If canon is under storedir, sets *baselen to the length of its first
 * component below storedir and returns a pointer to it; else NULL.
 */
static const char *
store_component(const char *storedir, const char *canon, size_t *baselen)
{
	size_t n = strlen(storedir);
	const char *base, *slash;

	if (strncmp(canon, storedir, n) != 0 || canon[n] != '/' ||
	    canon[n + 1] == '\0')
		return NULL;
	base = canon + n + 1;
	slash = strchr(base, '/');
	*baselen = slash ? (size_t)(slash - base) : strlen(base);
	return base;
}

/*
 * Finds the first prefix of canon that is a symlink.  Returns its length,
 * 0 if no prefix is a symlink, or -1 with errno (ENOENT, ENOTDIR, ...).
 */
static ssize_t
first_symlink(char *canon)
{
	struct stat st;
	char *p = canon, save;

	for (;;) {
		p = strchr(p + 1, '/');
		if (p != NULL) {
			save = *p;
			*p = '\0';
		}
		if (fs->lstat(canon, &st) == -1) {
			if (p != NULL)
				*p = save;
			return -1;
		}
		if (p != NULL)
			*p = save;
		if (S_ISLNK(st.st_mode))
			return p ? p - canon : (ssize_t)strlen(canon);
		if (p == NULL)
			return 0;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	}
}

/* Replaces the symlink prefix canon[0..n) by its target.  Returns new path. */
static char *
follow_symlink(const char *canon, size_t n)
{
	char link[PATH_MAX], target[PATH_MAX], *out;
	ssize_t len;
	size_t dirlen;

	memcpy(link, canon, n);
	link[n] = '\0';
	if ((len = fs->readlink(link, target, sizeof(target) - 1)) == -1)
		return NULL;
	target[len] = '\0';
	if (target[0] == '/')
		dirlen = 0;
	else
		dirlen = (size_t)(strrchr(link, '/') - link) + 1;
	if (asprintf(&out, "%.*s%s%s", (int)dirlen, link, target,
	    canon + n) == -1)
		return NULL;
	return out;
}

static char *
make_absolute(const char *input)
{
	char cwd[PATH_MAX], *out;

	if (input[0] == '/')
		return strdup(input);
	if (fs->getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, input) == -1)
		return NULL;
	return out;
}

int
storepath_resolve(const char *storedir, const char *input, char **out,
    char *why, size_t whylen)
{
	char *path, *canon = NULL, *next;
	const char *base;
	size_t baselen;
	ssize_t n;
	int follows;

	if ((path = make_absolute(input)) == NULL)
		goto syserr;
	for (follows = 0;; follows++) {
		if ((canon = storepath_canon(path)) == NULL)
			goto syserr;
		free(path);
		path = NULL;
		if ((base = store_component(storedir, canon, &baselen)))
			break;
		if (strcmp(canon, storedir) == 0) {
			snprintf(why, whylen, "is the store directory, "
			    "not a store path");
			goto fail;
		}
		if ((n = first_symlink(canon)) == -1)
			goto syserr;
		if (n == 0) {
			snprintf(why, whylen, "not in the Nix store %s",
			    storedir);
			goto fail;
		}
		if (follows == STOREPATH_MAX_FOLLOW) {
			errno = ELOOP;
			goto syserr;
		}
		if ((next = follow_symlink(canon, (size_t)n)) == NULL)
			goto syserr;
		free(canon);
		path = next;
	}
	if (storepath_check_base(base, baselen, why, whylen) == -1)
		goto fail;
	if (asprintf(out, "%s/%.*s", storedir, (int)baselen, base) == -1)
		goto syserr;
	free(canon);
	return 0;
syserr:
	snprintf(why, whylen, "%s", strerror(errno));
fail:
	free(path);
	free(canon);
	return -1;
}
