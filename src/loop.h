/*
 * loop: the one poll() loop that holds the roots.  It watches the parent's
 * fd (requests, and EOF/HUP for the end), the store, stdout for replies,
 * signals through a self-pipe, and the child of "-- COMMAND".  Nothing in
 * it blocks; it knows requests and the store interface, not Nix.
 */
#ifndef KP_LOOP_H
#define KP_LOOP_H

#include "relay.h"
#include "sshcap.h"
#include "batch.h"
#include "core.h"

struct loop_config {
	int		 parent_fd;	/* requests and lifetime; -1: none */
	int		 quiet;		/* leave out "ok" replies */
	char *const	*command;	/* run with the roots held, or NULL */
	const char	*storedir;
	int		 connect_timeout_ms; /* for the store to become ready */
	int		 store_timeout_ms; /* silence with a batch out; 0: none */
	struct relay	*relay;		/* capture mode's, or NULL */
	struct sshcap	*sshcap;	/* capture over ssh, or NULL */
	char *const	*command_env;	/* NAME=VALUE for the command only,
					   or NULL */
	const char	*greeting;	/* the first line on stdout, or NULL */
	int		 print_roots;	/* at the end: what relay saw */
	int		 json;		/* ... as JSON lines */
};

/*
 * Roots the requests of initial (which it empties), then every request
 * line from the parent and every path the relay captures, until the end:
 * EOF/HUP on the parent's fd, a signal, the command's exit, or a failure.
 * With print_roots, a normal end first checks every captured path again
 * and prints them.  Closes the core, whose stores release the roots.
 * Returns the exit status; if a signal ended the session, *signo is set
 * to it so main can die by it.
 */
int	loop_run(struct core *, struct batch *initial,
	    const struct loop_config *, int *signo);

#endif
