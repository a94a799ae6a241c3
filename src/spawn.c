/*
 * spawn: exec in a forked child, with nothing of the parent's signal
 * handling left over.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "spawn.h"

pid_t
spawn_fork(void)
{
	sigset_t all, saved;
	pid_t pid;
	int saved_errno;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &saved);
	pid = fork();
	if (pid != 0) {
		saved_errno = errno;
		sigprocmask(SIG_SETMASK, &saved, NULL);
		errno = saved_errno;
	}
	return pid;
}

void
spawn_defaults(void)
{
	sigset_t none;
	int signo;

	for (signo = 1; signo < NSIG; signo++)
		if (signo != SIGKILL && signo != SIGSTOP)
			signal(signo, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
spawn_exec(char *const argv[], const int *ignore, size_t nignore,
    int stdio, char *const *env)
{
	size_t i;
	int saved;

	spawn_defaults();
	for (i = 0; i < nignore; i++)
		signal(ignore[i], SIG_IGN);
	if (stdio != -1) {
		if (dup2(stdio, STDIN_FILENO) == -1 ||
		    dup2(stdio, STDOUT_FILENO) == -1)
			_exit(KP_EXIT_OSERR);
		/* A store's child gets stdio and stderr, nothing more: not
		 * the parent's --fd, nor any fd keep-paths inherited. */
		closefrom(STDERR_FILENO + 1);
	}
	for (; env != NULL && *env != NULL; env++)
		if (putenv(*env) != 0)
			_exit(KP_EXIT_OSERR);
	execvp(argv[0], argv);
	saved = errno;
	dprintf(STDERR_FILENO, "%s: %s: %s\n", getprogname(), argv[0],
	    strerror(saved));
	_exit(saved == ENOENT ? KP_EXIT_NOTFOUND : KP_EXIT_NOEXEC);
}
