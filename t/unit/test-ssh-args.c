/*
 * ssh_args: OpenSSH command lines as Nix, deploy tools and control
 * masters write them: the host, the login options, the remote command
 * and the Nix it runs there.
 */
#include "config.h"

#include <stdlib.h>

#include "ssh_args.h"
#include "unit.h"

#define ARGC(v)	((int)(sizeof(v) / sizeof((v)[0])))

/* What Nix runs for ssh-ng://, options after the host as Nix puts them. */
static void
nix_ssh_ng(void)
{
	const char *argv[] = { "root@127.0.0.1", "-x", "-a", "-F", "/dev/null",
	    "-i", "/k", "-o", "IdentitiesOnly=yes", "-p", "2222", "--",
	    "nix-daemon --stdio" };
	struct ssh_args a;
	char *bindir, *store, *uri;

	CHECK(ssh_args_parse(&a, ARGC(argv), argv) == 0);
	CHECK_STR(a.dest, "root@127.0.0.1");
	CHECK_STR(a.port, "2222");
	CHECK(a.user == NULL && !a.master);
	CHECK(a.nlogin == 8);
	CHECK_STR(a.login[0], "-x");
	CHECK_STR(a.login[2], "-F");
	CHECK_STR(a.login[3], "/dev/null");
	CHECK_STR(a.login[7], "IdentitiesOnly=yes");
	CHECK_STR(a.command, "nix-daemon --stdio");
	CHECK(ssh_args_nix(&a, &bindir, &store) == 1);
	CHECK_STR(bindir, "");
	CHECK(store == NULL);
	CHECK_STR(uri = ssh_args_uri(&a), "ssh-ng://root@127.0.0.1:2222");
	free(uri);
	free(bindir);
	ssh_args_free(&a);
}

/* The serve protocol, a remote program and a remote store. */
static void
nix_programs(void)
{
	const char *serve[] = { "-p22", "host", "nix-store", "--serve", "--write" };
	const char *prog[] = { "host", "--",
	    "/nix/store/x-nix/bin/nix-daemon --stdio --store local?root=/r" };
	struct ssh_args a;
	char *bindir, *store;

	CHECK(ssh_args_parse(&a, ARGC(serve), serve) == 0);
	CHECK_STR(a.port, "22");
	CHECK_STR(a.command, "nix-store --serve --write");
	CHECK(ssh_args_nix(&a, &bindir, &store) == 1);
	CHECK_STR(bindir, "");
	free(bindir);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(prog), prog) == 0);
	CHECK(ssh_args_nix(&a, &bindir, &store) == 1);
	CHECK_STR(bindir, "/nix/store/x-nix/bin/");
	CHECK_STR(store, "local?root=/r");
	free(bindir);
	free(store);
	ssh_args_free(&a);
}

/* A deploy tool's own command: not Nix's, the host all the same. */
static void
plain_command(void)
{
	const char *argv[] = { "-xal", "deploy", "-oBatchMode=yes", "web1",
	    "/nix/store/y-system/bin/switch-to-configuration", "switch" };
	struct ssh_args a;
	char *bindir, *store, *uri;

	CHECK(ssh_args_parse(&a, ARGC(argv), argv) == 0);
	CHECK_STR(a.user, "deploy");
	CHECK_STR(a.dest, "web1");
	CHECK(a.nlogin == 4);	/* -x -a -o BatchMode=yes */
	CHECK_STR(a.login[3], "BatchMode=yes");
	CHECK_STR(a.command,
	    "/nix/store/y-system/bin/switch-to-configuration switch");
	CHECK(ssh_args_nix(&a, &bindir, &store) == 0);
	CHECK_STR(uri = ssh_args_uri(&a), "ssh-ng://deploy@web1");
	free(uri);
	ssh_args_free(&a);
}

/* Control masters and their commands: no session of their own. */
static void
masters(void)
{
	const char *master[] = { "-M", "-N", "-S", "/tmp/s", "host" };
	const char *check[] = { "-O", "check", "-S", "/tmp/s", "host" };
	const char *via[] = { "-S", "/tmp/s", "host", "nix-daemon", "--stdio" };
	struct ssh_args a;

	CHECK(ssh_args_parse(&a, ARGC(master), master) == 0);
	CHECK(a.master && a.command == NULL);
	CHECK_STR(a.dest, "host");
	CHECK(a.nlogin == 0);	/* -S is no login option */
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(check), check) == 0);
	CHECK(a.master);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(via), via) == 0);
	CHECK(!a.master);
	CHECK_STR(a.command, "nix-daemon --stdio");
	ssh_args_free(&a);
}

/* An ssh:// destination keeps its user and port in the name. */
static void
uri_destination(void)
{
	const char *argv[] = { "ssh://u@h:2200", "true" };
	struct ssh_args a;
	char *uri;

	CHECK(ssh_args_parse(&a, ARGC(argv), argv) == 0);
	CHECK_STR(uri = ssh_args_uri(&a), "ssh-ng://u@h:2200");
	free(uri);
	ssh_args_free(&a);
}

int
main(void)
{
	RUN(nix_ssh_ng);
	RUN(nix_programs);
	RUN(plain_command);
	RUN(masters);
	RUN(uri_destination);
	return UNIT_DONE();
}
