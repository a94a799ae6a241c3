/*
 * ssh_args: what an OpenSSH client's command line says, read as ssh reads
 * it: the host it goes to (user, port), the options that say how to log
 * in there, and the command it runs there.  Capture over ssh uses it to
 * open a holding session to the same host, as the same user, the same
 * way, and to find which Nix store the command reaches there.
 */
#ifndef KP_SSH_ARGS_H
#define KP_SSH_ARGS_H

#include <stddef.h>

struct ssh_args {
	const char	*dest;		/* [USER@]HOST as given; NULL: none
					   (ssh -V, -G, -O, or a usage
					   error) */
	/* The user and port ssh takes from -l, -p, -o User, -o Port, the
	 * first given, or NULL: the destination's own (dest_user,
	 * dest_port: it names one, and no option before it did), or
	 * ssh's default. */
	const char	*user;
	const char	*port;
	int		 dest_user, dest_port;
	/* The options that say how to log in (-l and -p too), each as one
	 * or two words, in order (not the session's mode: no -M, -N, -f,
	 * -t, -O, -S, forwards); copies, NULL-ended.  The first nbefore
	 * came before the destination: ssh takes the first value of each
	 * setting, so where the destination stands among them matters. */
	const char	**login;
	size_t		 nlogin, nbefore;
	/* The command run on the host, its words joined by spaces (as ssh
	 * sends it); NULL: a shell, or none (-N). */
	char		*command;
	int		 master;	/* -M, -N, -O, -W, -G, -V: no command
					   of its own */
	int		 tty;		/* 1: a terminal on the host (-t,
					   RequestTTY yes or force); -1: none
					   (-T, RequestTTY no); 0: ssh's
					   default (one for a login shell) */
};

/*
 * Reads argv[0..argc) (ssh's arguments, not its name); the strings stay
 * argv's.  Returns 0, or -1 with errno ENOMEM.
 */
int	ssh_args_parse(struct ssh_args *, int argc,
	    const char *const argv[]);

/*
 * The Nix the command runs on the host, if it is Nix's own: the directory
 * of its nix-daemon or nix-store ("" for one found in PATH) into *bindir,
 * and its --store (or --option store) value, or NULL, into *store; new
 * strings.  Returns 1 for
 * a Nix command (nix-daemon --stdio, nix-store --serve), 0 for another
 * (or none), -1 for ENOMEM.
 */
int	ssh_args_nix(const struct ssh_args *, char **bindir, char **store);

/*
 * The host's name as a store URI would give it: "ssh-ng://[USER@]HOST[:PORT]",
 * the user and port those ssh takes.  New string, or NULL (ENOMEM).
 */
char	*ssh_args_uri(const struct ssh_args *);

/*
 * What tells one host and store from another, for those the command's
 * ssh clients go to: the destination, the remote store, and the login
 * options that can choose where ssh goes (those with a value: -p, -l,
 * -F, -J, -o ...), with where the destination stood among them.  Two
 * clients with the same key go to the same host as the same user.  New
 * string, or NULL (ENOMEM).
 */
char	*ssh_args_host_key(const struct ssh_args *, const char *store);

void	ssh_args_free(struct ssh_args *);

#endif
