/*
 * ssh_args: OpenSSH command lines as Nix, deploy tools and control
 * masters write them: the host, the login options, the remote command
 * and the Nix it runs there.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
	CHECK(a.nlogin == 10 && a.nbefore == 0);
	CHECK_STR(a.login[0], "-x");
	CHECK_STR(a.login[2], "-F");
	CHECK_STR(a.login[3], "/dev/null");
	CHECK_STR(a.login[7], "IdentitiesOnly=yes");
	CHECK_STR(a.login[8], "-p");
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
	const char *option[] = { "host", "nix-store", "--serve", "--option",
	    "store", "/s", "--write" };
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
	CHECK(ssh_args_parse(&a, ARGC(option), option) == 0);
	CHECK(ssh_args_nix(&a, &bindir, &store) == 1);
	CHECK_STR(store, "/s");
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
	CHECK(a.nlogin == 6);	/* -x -a -l deploy -o BatchMode=yes */
	CHECK(a.nbefore == 6);
	CHECK_STR(a.login[3], "deploy");
	CHECK_STR(a.login[5], "BatchMode=yes");
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

/* The URI, the user and the port ssh -G gives for argv. */
static void
check_host(const char *const *argv, int argc, const char *uri,
    const char *user, const char *port)
{
	struct ssh_args a;
	char *got;

	CHECK(ssh_args_parse(&a, argc, argv) == 0);
	CHECK_STR(got = ssh_args_uri(&a), uri);
	CHECK(user == NULL ? a.user == NULL : a.user != NULL &&
	    strcmp(a.user, user) == 0);
	CHECK(port == NULL ? a.port == NULL : a.port != NULL &&
	    strcmp(a.port, port) == 0);
	free(got);
	ssh_args_free(&a);
}

/*
 * Of each setting ssh takes the first value, the destination's own user
 * and port where it stands among the options (each case as OpenSSH 9.2's
 * ssh -G resolves it).
 */
static void
first_value_wins(void)
{
	const char *ports[] = { "-p", "1", "-p", "2", "h" };
	const char *o_port[] = { "-o", "Port=7", "-p", "8", "h" };
	const char *p_o[] = { "-p", "8", "-oport 7", "h" };
	const char *l_dest[] = { "-l", "z", "u@h" };
	const char *dest_l[] = { "u@h", "-l", "z", "true" };
	const char *o_user[] = { "-o", "User = y", "-l", "z", "u@h" };
	const char *uri_o[] = { "ssh://u@h:2200", "-o", "Port=9", "true" };
	const char *o_uri[] = { "-o", "Port=9", "ssh://u@h:2200" };
	const char *p_uri[] = { "-p", "5", "-l", "z", "ssh://u@h:2200" };

	check_host(ports, ARGC(ports), "ssh-ng://h:1", NULL, "1");
	check_host(o_port, ARGC(o_port), "ssh-ng://h:7", NULL, "7");
	check_host(p_o, ARGC(p_o), "ssh-ng://h:8", NULL, "8");
	check_host(l_dest, ARGC(l_dest), "ssh-ng://z@h", "z", NULL);
	check_host(dest_l, ARGC(dest_l), "ssh-ng://u@h", NULL, NULL);
	check_host(o_user, ARGC(o_user), "ssh-ng://y@h", "y", NULL);
	check_host(uri_o, ARGC(uri_o), "ssh-ng://u@h:2200", NULL, NULL);
	check_host(o_uri, ARGC(o_uri), "ssh-ng://u@h:9", NULL, "9");
	check_host(p_uri, ARGC(p_uri), "ssh-ng://z@h:5", "z", "5");
}

/*
 * A holding session is the client's ssh again: the same options on the
 * same side of the destination; and clients whose options may choose
 * another host do not share one.
 */
static void
host_keys(void)
{
	const char *one[] = { "-x", "-p", "1", "h", "-o", "User=u", "true" };
	const char *same[] = { "-p", "1", "-a", "h", "-o", "User=u" };
	const char *port[] = { "-p", "2", "h", "-o", "User=u" };
	const char *side[] = { "-p", "1", "-o", "User=u", "h" };
	struct ssh_args a;
	char *k1, *k2, *k3, *k4, *k5;

	CHECK(ssh_args_parse(&a, ARGC(one), one) == 0);
	CHECK(a.nbefore == 3 && a.nlogin == 5);
	CHECK_STR(a.login[3], "-o");
	k1 = ssh_args_host_key(&a, NULL);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(same), same) == 0);
	k2 = ssh_args_host_key(&a, NULL);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(port), port) == 0);
	k3 = ssh_args_host_key(&a, NULL);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(side), side) == 0);
	k4 = ssh_args_host_key(&a, NULL);
	k5 = ssh_args_host_key(&a, "/other");
	CHECK(k4 != NULL && k5 != NULL && strcmp(k4, k5) != 0);
	free(k5);
	ssh_args_free(&a);
	CHECK(k1 != NULL && k2 != NULL && k3 != NULL && k4 != NULL);
	CHECK_STR(k1, k2);		/* flags alone choose no host */
	CHECK(strcmp(k1, k3) != 0);
	CHECK(strcmp(k1, k4) != 0);
	free(k1);
	free(k2);
	free(k3);
	free(k4);
}

/* Whether ssh asks for a terminal: -t and -T, the last one wins; an
 * -o RequestTTY only if none came before it (as ssh -G says). */
static void
terminals(void)
{
	const char *tT[] = { "-t", "-T", "h" };
	const char *Tt[] = { "-T", "-t", "h" };
	const char *o_t[] = { "-o", "RequestTTY=no", "-t", "h" };
	const char *t_o[] = { "-t", "-oRequestTTY=no", "h" };
	const char *o[] = { "-o", "RequestTTY force", "h", "cmd" };
	const char *none[] = { "h", "cmd" };
	struct ssh_args a;

	CHECK(ssh_args_parse(&a, ARGC(tT), tT) == 0 && a.tty == -1);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(Tt), Tt) == 0 && a.tty == 1);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(o_t), o_t) == 0 && a.tty == 1);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(t_o), t_o) == 0 && a.tty == 1);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(o), o) == 0 && a.tty == 1);
	ssh_args_free(&a);
	CHECK(ssh_args_parse(&a, ARGC(none), none) == 0 && a.tty == 0);
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
	RUN(first_value_wins);
	RUN(host_keys);
	RUN(terminals);
	return UNIT_DONE();
}
