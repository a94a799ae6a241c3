/*
 * ssh_command: the command line that reaches a remote Nix daemon for an
 * ssh-ng:// store URI, built as Nix builds it:
 *	ssh [USER@]HOST -x -a $NIX_SSHOPTS [-i KEY] [-C] [-p PORT] --
 *	    'REMOTE-PROGRAM --stdio [--store REMOTE-STORE]'
 * and, as in Nix, "localhost" is no ssh at all: sh -c 'COMMAND'.
 */
#ifndef KP_SSH_COMMAND_H
#define KP_SSH_COMMAND_H

#include <stddef.h>

struct ssh_command {
	char	**argv;		/* NULL-terminated */
	size_t	  argc;
	char	 *host;		/* [USER@]HOST, for messages */
	int	  nomem;	/* building it ran out of memory */
};

/*
 * Parses uri ("ssh-ng://[USER@]HOST[:PORT][?PARAMS]", PARAMS among
 * remote-program=, remote-store=, ssh-key=, compress=) and reads
 * NIX_SSHOPTS, split into words as a shell would (quotes and backslashes,
 * no expansions).  Returns 0, or -1 with a message in err.
 */
int	ssh_command_build(const char *uri, struct ssh_command *, char *err,
	    size_t errlen);

/* A word quoted for sh, if it needs quoting.  New string, or NULL. */
char	*ssh_command_quote(const char *);

/* The command as one line, words quoted where needed.  New string. */
char	*ssh_command_text(const struct ssh_command *);

void	ssh_command_free(struct ssh_command *);

#endif
