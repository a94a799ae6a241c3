/*
 * nixconf: the store setting, from Nix's files and in Nix's order.
 */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nixconf.h"
#include "unit.h"

static char dir[] = "/tmp/kp-unit-XXXXXX";

/* Writes text to dir/name; returns the path. */
static const char *
write_file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		CHECK(!"fopen");
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* "VALUE from ORIGIN", "unset", or "error: ERR". */
static const char *
store(void)
{
	static char text[2048];
	char value[512], from[512], err[512];
	int rc;

	rc = nixconf_store(value, sizeof(value), from, sizeof(from), err,
	    sizeof(err));
	if (rc == 1)
		snprintf(text, sizeof(text), "%s from %s", value, from);
	else if (rc == 0)
		snprintf(text, sizeof(text), "unset");
	else
		snprintf(text, sizeof(text), "error: %s", err);
	return text;
}

/* Only our files: the machine's and the user's own are never read. */
static void
isolate(void)
{
	char conf[PATH_MAX];

	snprintf(conf, sizeof(conf), "%s/etc", dir);
	mkdir(conf, 0700);
	setenv("NIX_CONF_DIR", conf, 1);
	setenv("NIX_USER_CONF_FILES", write_file("none", ""), 1);
	unsetenv("NIX_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CONFIG_DIRS");
}

static void
unset_anywhere(void)
{
	isolate();
	CHECK_STR(store(), "unset");
}

static void
later_wins(void)
{
	char want[PATH_MAX * 2];
	const char *user;

	isolate();
	write_file("etc/nix.conf", "# comment\nstore = daemon\n"
	    "store = local  # a comment, as in Nix\nsubstituters =\n");
	/* Nix strips '#' comments: the value is "local". */
	snprintf(want, sizeof(want), "local from %s/etc/nix.conf", dir);
	CHECK_STR(store(), want);
	user = write_file("user.conf", "store = unix:///run/other\n");
	setenv("NIX_USER_CONF_FILES", user, 1);
	snprintf(want, sizeof(want), "unix:///run/other from %s", user);
	CHECK_STR(store(), want);
	setenv("NIX_CONFIG", "store = daemon", 1);
	CHECK_STR(store(), "daemon from NIX_CONFIG");
	unsetenv("NIX_CONFIG");
}

static void
includes(void)
{
	char want[PATH_MAX * 2];

	isolate();
	write_file("inc.conf", "store = ssh-ng://builder\n");
	write_file("etc/nix.conf", "include ../inc.conf\n"
	    "!include ../does-not-exist.conf\n");
	snprintf(want, sizeof(want), "ssh-ng://builder from %s/etc/../inc.conf",
	    dir);
	CHECK_STR(store(), want);
	/* A missing include is passed over (Nix refuses it, and says so). */
	write_file("etc/nix.conf", "include ../does-not-exist.conf\n");
	CHECK_STR(store(), "unset");
	/* An include loop ends. */
	write_file("etc/nix.conf", "include nix.conf\n");
	CHECK(strncmp(store(), "error: ", 7) == 0);
}

static void
empty_env(void)
{
	setenv("KP_UNIT_EMPTY", "", 1);
	CHECK(nixconf_env("KP_UNIT_EMPTY") == NULL);
	CHECK(nixconf_env("KP_UNIT_NEVER_SET") == NULL);
	setenv("KP_UNIT_SET", "x", 1);
	CHECK_STR(nixconf_env("KP_UNIT_SET"), "x");
}

/* Removes what the cases wrote. */
static void
cleanup(void)
{
	static const char *const files[] = { "none", "user.conf", "inc.conf",
	    "etc/nix.conf", "etc", NULL };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (unlink(path) == -1)
			rmdir(path);
	}
	CHECK(rmdir(dir) == 0);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 99;
	RUN(unset_anywhere);
	RUN(later_wins);
	RUN(includes);
	RUN(empty_env);
	cleanup();
	return UNIT_DONE();
}
