/*
 * storepath: Nix's store path rules, canonicalisation and resolution.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "storepath.h"
#include "unit.h"

#define HASH	"0123456789abcdfghijklmnpqrsvwxyz"	/* all of base-32 */

/* storepath_check_base's reason for base, or "ok". */
static const char *
check(const char *base)
{
	static char why[STOREPATH_WHY_MAX];

	if (storepath_check_base(base, strlen(base), why, sizeof(why)) == 0)
		return "ok";
	return why;
}

static void
base_names(void)
{
	char name[STOREPATH_HASH_LEN + 1 + STOREPATH_NAME_MAX + 2];

	CHECK_STR(check(HASH "-hello-2.12"), "ok");
	CHECK_STR(check(HASH "-a+b_c?d=e.f-G"), "ok");
	CHECK_STR(check(HASH), "too short to be a store path");
	CHECK_STR(check(HASH "-"), "empty name");
	CHECK_STR(check(HASH "_x"), "no '-' after the hash");
	CHECK_STR(check("e123456789abcdfghijklmnpqrsvwxyz-x"),
	    "illegal base-32 character 'e' in the hash");
	CHECK_STR(check("0123456789abcdfghijklmnpqrsvwxyu-x"),
	    "illegal base-32 character 'u' in the hash");
	CHECK_STR(check("\x01" "123456789abcdfghijklmnpqrsvwxyz-x"),
	    "illegal byte 0x01 in the hash");
	CHECK_STR(check(HASH "-.hidden"), "name starts with '.'");
	CHECK_STR(check(HASH "-a b"), "illegal character in the name");
	CHECK_STR(check(HASH "-caf\xc3\xa9"), "illegal character in the name");
	/* 211 name characters pass, 212 do not. */
	memset(name, 'n', sizeof(name));
	memcpy(name, HASH "-", STOREPATH_HASH_LEN + 1);
	name[STOREPATH_HASH_LEN + 1 + STOREPATH_NAME_MAX] = '\0';
	CHECK_STR(check(name), "ok");
	name[STOREPATH_HASH_LEN + 1 + STOREPATH_NAME_MAX] = 'n';
	name[STOREPATH_HASH_LEN + 2 + STOREPATH_NAME_MAX] = '\0';
	CHECK_STR(check(name), "name longer than 211 characters");
	/* A NUL inside the length given is no name character. */
	CHECK(storepath_check_base(HASH "-a\0b", STOREPATH_HASH_LEN + 4,
	    name, sizeof(name)) == -1);
}

static void
canon_one(const char *in, const char *want)
{
	char *got = storepath_canon(in);

	CHECK_STR(got, want);
	free(got);
}

static void
canonical_paths(void)
{
	canon_one("/", "/");
	canon_one("//a//b/", "/a/b");
	canon_one("/a/./b/../c", "/a/c");
	canon_one("/../..", "/");
	canon_one("/a/b/..", "/a");
	CHECK(storepath_canon("relative") == NULL);
}

static void
printable_dirs(void)
{
	CHECK(storepath_dir_printable("/nix/store"));
	CHECK(!storepath_dir_printable("/nix/st\"ore"));
	CHECK(!storepath_dir_printable("/nix/st\\ore"));
	CHECK(!storepath_dir_printable("/nix/st\nore"));
	CHECK(!storepath_dir_printable("/nix/st\x7fore"));
}

/* storepath_resolve's result for input, or "error: WHY". */
static const char *
resolve(const char *storedir, const char *input)
{
	static char result[PATH_MAX + STOREPATH_WHY_MAX];
	char why[STOREPATH_WHY_MAX], *out;

	if (storepath_resolve(storedir, input, &out, why, sizeof(why)) == -1) {
		snprintf(result, sizeof(result), "error: %s", why);
		return result;
	}
	snprintf(result, sizeof(result), "%s", out);
	free(out);
	return result;
}

/* Inside the store, resolution is lexical: the store need not exist. */
static void
resolve_lexical(void)
{
	const char *sd = "/kp-unit-no-such-dir/store";

	CHECK_STR(resolve(sd, "/kp-unit-no-such-dir/store/" HASH "-x"),
	    "/kp-unit-no-such-dir/store/" HASH "-x");
	CHECK_STR(resolve(sd, "/kp-unit-no-such-dir/store/" HASH
	    "-x/bin/../share/doc"), "/kp-unit-no-such-dir/store/" HASH "-x");
	CHECK_STR(resolve(sd, "/kp-unit-no-such-dir//store/./" HASH "-x/"),
	    "/kp-unit-no-such-dir/store/" HASH "-x");
	CHECK_STR(resolve(sd, "/kp-unit-no-such-dir/store"),
	    "error: is the store directory, not a store path");
	CHECK_STR(resolve(sd, "/kp-unit-no-such-dir/store/" HASH),
	    "error: too short to be a store path");
}

/* Outside it, symlinks are followed until the path enters the store. */
static void
resolve_links(void)
{
	char dir[] = "/tmp/kp-unit-XXXXXX", sd[64], link[96], link2[96];
	char want[160];

	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(sd, sizeof(sd), "%s/store", dir);
	snprintf(link, sizeof(link), "%s/result", dir);
	snprintf(link2, sizeof(link2), "%s/result-2", dir);
	snprintf(want, sizeof(want), "%s/" HASH "-x", sd);
	CHECK(symlink(sd, link2) == 0);		/* a link to the store dir */
	CHECK(symlink("result-2/" HASH "-x/bin", link) == 0);
	CHECK_STR(resolve(sd, link), want);
	snprintf(want, sizeof(want), "error: not in the Nix store %s", sd);
	CHECK_STR(resolve(sd, dir), want);
	CHECK_STR(resolve(sd, "/kp-unit-no-such-dir/x"),
	    "error: No such file or directory");
	unlink(link);
	unlink(link2);
	rmdir(dir);
}

/* A file system of the test's own, through storepath_set_fs. */
static const char *const fake_links[][2] = {
	{ "/result", "/s/" HASH "-x" },
	{ "/d/rel", "../s/" HASH "-y/bin" },
	{ "/d/up", "/" },
	{ "/chain", "/d/up/s/" HASH "-z/share" },
	{ "/loop", "/loop" },
};

static const char *
fake_target(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(fake_links) / sizeof(fake_links[0]); i++)
		if (strcmp(fake_links[i][0], path) == 0)
			return fake_links[i][1];
	return NULL;
}

static int
fake_lstat(const char *path, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (fake_target(path) != NULL)
		st->st_mode = S_IFLNK;
	else if (strcmp(path, "/") == 0 || strcmp(path, "/d") == 0)
		st->st_mode = S_IFDIR;
	else if (strcmp(path, "/file") == 0)
		st->st_mode = S_IFREG;
	else {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static ssize_t
fake_readlink(const char *path, char *buf, size_t size)
{
	const char *t = fake_target(path);
	size_t len;

	if (t == NULL) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(t) < size ? strlen(t) : size;
	memcpy(buf, t, len);
	return (ssize_t)len;
}

static char *
fake_getcwd(char *buf, size_t size)
{
	return strlcpy(buf, "/d", size) < size ? buf : NULL;
}

static void
resolve_seam(void)
{
	static const struct storepath_fs fake = {
		fake_lstat, fake_readlink, fake_getcwd
	};

	storepath_set_fs(&fake);
	CHECK_STR(resolve("/s", "/result"), "/s/" HASH "-x");
	CHECK_STR(resolve("/s", "/d/rel"), "/s/" HASH "-y");
	CHECK_STR(resolve("/s", "rel"), "/s/" HASH "-y");	/* cwd /d */
	CHECK_STR(resolve("/s", "/chain"), "/s/" HASH "-z");
	CHECK_STR(resolve("/s", "/loop"),
	    "error: Too many levels of symbolic links");
	CHECK_STR(resolve("/s", "/file/x"), "error: Not a directory");
	CHECK_STR(resolve("/s", "/d"), "error: not in the Nix store /s");
	storepath_set_fs(NULL);
}

int
main(void)
{
	RUN(base_names);
	RUN(canonical_paths);
	RUN(printable_dirs);
	RUN(resolve_lexical);
	RUN(resolve_links);
	RUN(resolve_seam);
	return UNIT_DONE();
}
