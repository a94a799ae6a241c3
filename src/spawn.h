/*
 * spawn: the one way keep-paths turns a forked child into a command.
 */
#ifndef KP_SPAWN_H
#define KP_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * fork(2) with every signal blocked across it: the parent's mask is
 * restored at once, the child's stays full until spawn_exec has put the
 * dispositions back to their defaults.  A signal sent to the child before
 * then waits, and is then acted on as a fresh process would (a SIGTERM
 * kills it); the parent's handler never runs in the child.
 */
pid_t	spawn_fork(void);

/*
 * In a child from spawn_fork, first of all: every signal disposition back
 * to its default and the mask emptied, as a fresh process has them.
 */
void	spawn_defaults(void);

/*
 * In a child from spawn_fork, first of all: spawn_defaults (else
 * the parent's handlers would run here until exec, and write into its
 * signal pipe); then the signals in ignore[0..nignore) ignored; then, if
 * stdio is not -1, stdin and stdout made that fd and every fd above
 * stderr closed (a store's child inherits nothing else: the command of
 * "-- COMMAND", stdio -1, keeps what its caller gave it); then env's NAME=VALUE
 * strings (NULL-ended; NULL for none) put in the environment; then argv
 * run from PATH.  If it cannot run, says why on stderr and exits 127 (not
 * found) or 126; 71 if stdio or env cannot be set.  Never returns.
 */
void	spawn_exec(char *const argv[], const int *ignore, size_t nignore,
	    int stdio, char *const *env) __attribute__((noreturn));

#endif
