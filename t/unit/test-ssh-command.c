/*
 * ssh_command: ssh-ng:// URIs to the command line Nix would run.
 */
#include "config.h"

#include <stdlib.h>

#include "ssh_command.h"
#include "unit.h"

/* The command for uri as one line, or "error: ERR". */
static const char *
command(const char *uri, const char *sshopts)
{
	static char text[4096];
	struct ssh_command c;
	char err[512], *line;

	if (sshopts != NULL)
		setenv("NIX_SSHOPTS", sshopts, 1);
	else
		unsetenv("NIX_SSHOPTS");
	memset(&c, 0, sizeof(c));
	if (ssh_command_build(uri, &c, err, sizeof(err)) == -1) {
		snprintf(text, sizeof(text), "error: %s", err);
		ssh_command_free(&c);
		return text;
	}
	line = ssh_command_text(&c);
	snprintf(text, sizeof(text), "%s", line != NULL ? line : "(null)");
	free(line);
	ssh_command_free(&c);
	return text;
}

static void
plain_hosts(void)
{
	CHECK_STR(command("ssh-ng://build1", NULL),
	    "ssh build1 -x -a -- 'nix-daemon --stdio'");
	CHECK_STR(command("ssh-ng://deploy@build1:2222", NULL),
	    "ssh deploy@build1 -x -a -p 2222 -- 'nix-daemon --stdio'");
}

static void
parameters(void)
{
	CHECK_STR(command("ssh-ng://h?remote-program=/opt/nix/bin/nix-daemon"
	    "&remote-store=/data/nix&ssh-key=/k/id&compress=true", NULL),
	    "ssh h -x -a -i /k/id -C -- '/opt/nix/bin/nix-daemon --stdio "
	    "--store /data/nix'");
	CHECK(strncmp(command("ssh-ng://h?colour=blue", NULL), "error: ",
	    7) == 0);
}

/* NIX_SSHOPTS split as a shell splits words, with no expansion. */
static void
sshopts_words(void)
{
	CHECK_STR(command("ssh-ng://h", "-o 'ProxyJump a b' -v \\$HOME"),
	    "ssh h -x -a -o 'ProxyJump a b' -v '$HOME' -- "
	    "'nix-daemon --stdio'");
}

/* As in Nix, localhost is no ssh at all. */
static void
localhost(void)
{
	CHECK_STR(command("ssh-ng://localhost", NULL),
	    "sh -c 'nix-daemon --stdio'");
}

static void
bad_uris(void)
{
	CHECK(strncmp(command("ssh://h", NULL), "error: ", 7) == 0);
	CHECK(strncmp(command("ssh-ng://", NULL), "error: ", 7) == 0);
}

int
main(void)
{
	RUN(plain_hosts);
	RUN(parameters);
	RUN(sshopts_words);
	RUN(localhost);
	RUN(bad_uris);
	return UNIT_DONE();
}
