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
	const char	*user;		/* -l, or NULL */
	const char	*port;		/* -p, or NULL */
	/* The options that say how to log in, each as one or two words,
	 * in order (not the session's mode: no -M, -N, -f, -t, -O, -S,
	 * forwards); copies, NULL-ended. */
	const char	**login;
	size_t		 nlogin;
	/* The command run on the host, its words joined by spaces (as ssh
	 * sends it); NULL: a shell, or none (-N). */
	char		*command;
	int		 master;	/* -M, -N, -O, -W, -G, -V: no command
					   of its own */
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
 * and its --store value, or NULL, into *store; new strings.  Returns 1 for
 * a Nix command (nix-daemon --stdio, nix-store --serve), 0 for another
 * (or none), -1 for ENOMEM.
 */
int	ssh_args_nix(const struct ssh_args *, char **bindir, char **store);

/* The host's name as a store URI would give it: "ssh-ng://[USER@]HOST[:PORT]".
 * New string, or NULL (ENOMEM). */
char	*ssh_args_uri(const struct ssh_args *);

void	ssh_args_free(struct ssh_args *);

#endif
