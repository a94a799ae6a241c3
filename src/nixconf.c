/*
 * nixconf: "store = URI" from nix.conf, as Nix's own loadConfFile finds
 * it.  Nix applies the system file, then the user's files, then
 * NIX_CONFIG, each later value winning; the store setting's default is
 * NIX_REMOTE, so any of these beats NIX_REMOTE (checked against Nix 2.8
 * and 2.34: "nix config show" says the file's store with NIX_REMOTE set).
 *
 * A line is tokens split at blanks after cutting it at "#"; "NAME = V..."
 * sets NAME to the rest joined by single spaces; "include F" and
 * "!include F" read F relative to the including file's directory.  Lines
 * Nix would refuse are skipped: the user's nix commands report them.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "nixconf.h"
#include "xio.h"

/* Deeper than any sane layout; stops an include loop. */
#define INCLUDE_DEPTH_MAX	16
#define TOKENS_MAX		64
/* All the files of one reading, includes too: Nix's are a few KiB. */
#define NIXCONF_BYTES_MAX	(1 << 20)
#define BLANKS			" \t\r"

struct found {
	char	*value;
	size_t	 valuelen;
	char	*from;
	size_t	 fromlen;
	int	 set;
	char	*err;
	size_t	 errlen;
	size_t	 budget;	/* bytes the files may still have */
};

static int read_file(struct found *, const char *path, int depth);

/*
 * All of path as a string in *text, at most *budget bytes, which it
 * lowers: 0; 1 if it cannot be read, which Nix skips silently too
 * (applyConfigFile ignores SysError); -1 for ENOMEM, EFBIG (over the
 * budget: an include of a huge file, or of many) or EINVAL (not a
 * regular file: a FIFO would block, /dev/zero never end).
 */
static int
slurp(const char *path, char **text, size_t *budget)
{
	char *p = NULL, *grown;
	size_t len = 0, cap = 0;
	struct stat st;
	ssize_t n;
	int fd, saved;

	/* O_NONBLOCK: a FIFO's open would wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return 1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	do {
		if (len > *budget) {
			n = -1;
			errno = EFBIG;
			break;
		}
		if (cap - len < 4096) {
			if ((grown = realloc(p, cap + 65536)) == NULL) {
				n = -1;
				break;
			}
			p = grown;
			cap += 65536;
		}
		if ((n = xio_read(fd, p + len, cap - len - 1)) > 0)
			len += (size_t)n;
	} while (n > 0);
	saved = errno;
	close(fd);
	if (n == -1) {
		free(p);
		errno = saved;
		return saved == ENOMEM || saved == EFBIG ? -1 : 1;
	}
	*budget -= len;
	p[len] = '\0';
	*text = p;
	return 0;
}

/* "include F": F relative to the directory of the file that names it. */
static int
include(struct found *f, const char *file, const char *name, int depth)
{
	const char *slash = strrchr(file, '/');
	char *path;
	int rc;

	if (*name == '/' || slash == NULL)
		path = strdup(name);
	else if (asprintf(&path, "%.*s/%s", (int)(slash - file), file,
	    name) == -1)
		path = NULL;
	if (path == NULL) {
		snprintf(f->err, f->errlen, "%s: %s", file, strerror(ENOMEM));
		return -1;
	}
	rc = read_file(f, path, depth + 1);
	free(path);
	return rc;
}

/* "store = V1 V2...": the value is the tokens joined by spaces. */
static int
set_store(struct found *f, const char *origin, char **tok, int n)
{
	size_t len = 0;
	int i;

	f->value[0] = '\0';
	for (i = 2; i < n; i++) {
		len = strlcat(f->value, i > 2 ? " " : "", f->valuelen);
		len = strlcat(f->value, tok[i], f->valuelen);
	}
	if (len >= f->valuelen || strlcpy(f->from, origin, f->fromlen) >=
	    f->fromlen) {
		snprintf(f->err, f->errlen, "%s: store = %s...: longer than "
		    "%zu bytes", origin, tok[2], f->valuelen - 1);
		return -1;
	}
	f->set = 1;
	return 0;
}

/* One line of origin: a file, or NIX_CONFIG (includes relative to "."). */
static int
apply_line(struct found *f, char *line, const char *origin, int depth)
{
	char *tok[TOKENS_MAX], *p, *save;
	int n = 0;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	for (p = strtok_r(line, BLANKS, &save); p != NULL && n < TOKENS_MAX;
	    p = strtok_r(NULL, BLANKS, &save))
		tok[n++] = p;
	if (n == 2 && (strcmp(tok[0], "include") == 0 ||
	    strcmp(tok[0], "!include") == 0))
		return include(f, origin, tok[1], depth);
	if (n >= 3 && strcmp(tok[1], "=") == 0 && strcmp(tok[0], "store") == 0)
		return set_store(f, origin, tok, n);
	return 0;
}

static int
apply_text(struct found *f, char *text, const char *origin, int depth)
{
	char *line, *next;

	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (apply_line(f, line, origin, depth) == -1)
			return -1;
	}
	return 0;
}

static int
read_file(struct found *f, const char *path, int depth)
{
	char *text = NULL;
	int rc;

	if (depth > INCLUDE_DEPTH_MAX) {
		snprintf(f->err, f->errlen, "%s: included %d levels deep (an "
		    "include loop?)", path, depth);
		return -1;
	}
	if ((rc = slurp(path, &text, &f->budget)) == -1)
		snprintf(f->err, f->errlen, "%s: %s", path, errno == EFBIG ?
		    "past the 1 MiB that Nix's configuration files may have "
		    "in all" : errno == EINVAL ? "not a regular file" :
		    strerror(errno));
	else if (rc == 0)
		rc = apply_text(f, text, path, depth);
	free(text);
	return rc == -1 ? -1 : 0;
}

const char *
nixconf_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Reads the colon-separated files of list, last first, as Nix does. */
static int
read_list_reversed(struct found *f, const char *list, const char *suffix)
{
	const char *end = list + strlen(list), *start;
	char *path;
	int rc = 0;

	while (rc == 0 && end > list) {
		for (start = end; start > list && start[-1] != ':'; start--)
			;
		if (start < end) {
			if (asprintf(&path, "%.*s%s", (int)(end - start), start,
			    suffix) == -1) {
				snprintf(f->err, f->errlen, "%s",
				    strerror(ENOMEM));
				return -1;
			}
			rc = read_file(f, path, 0);
			free(path);
		}
		end = start > list ? start - 1 : list;
	}
	return rc;
}

/* The user's files: NIX_USER_CONF_FILES, else the XDG directories. */
static int
read_user_files(struct found *f)
{
	const char *files = getenv("NIX_USER_CONF_FILES");
	const char *dirs = nixconf_env("XDG_CONFIG_DIRS");
	char *path;
	int rc;

	if (files != NULL)
		return read_list_reversed(f, files, "");
	if (read_list_reversed(f, dirs != NULL ? dirs : "/etc/xdg",
	    "/nix/nix.conf") == -1)
		return -1;
	/* Last, so it wins: XDG_CONFIG_HOME's, as for our own file. */
	if ((path = conf_user_file("nix/nix.conf")) == NULL) {
		if (errno == 0)
			return 0;
		snprintf(f->err, f->errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	rc = read_file(f, path, 0);
	free(path);
	return rc;
}

int
nixconf_store(char *value, size_t valuelen, char *from, size_t fromlen,
    char *err, size_t errlen)
{
	struct found f = { value, valuelen, from, fromlen, 0, err, errlen,
	    NIXCONF_BYTES_MAX };
	const char *dir = nixconf_env("NIX_CONF_DIR"), *env;
	char *sysfile, *text;
	int rc;

	if (asprintf(&sysfile, "%s/nix.conf", dir != NULL ? dir :
	    "/etc/nix") == -1) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	rc = read_file(&f, sysfile, 0);
	free(sysfile);
	if (rc == 0)
		rc = read_user_files(&f);
	if (rc == 0 && (env = getenv("NIX_CONFIG")) != NULL) {
		if ((text = strdup(env)) == NULL) {
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -1;
		}
		rc = apply_text(&f, text, "NIX_CONFIG", 0);
		free(text);
	}
	return rc == -1 ? -1 : f.set;
}
