/*
 * ssh_shim: the "ssh" capture over ssh puts first in the command's PATH
 * (sshcap.h).  It hands its arguments, environment, working directory
 * and stdin, stdout and stderr to the keep-paths session that made it,
 * which runs the real ssh and relays its bytes; then it exits as that
 * ssh did.  Killed (Nix kills its ssh with SIGKILL), it leaves the
 * session's ssh to the session.
 */
#ifndef KP_SSH_SHIM_H
#define KP_SSH_SHIM_H

/* What a shim sends: a 32-bit length, then that many bytes of strings. */
#define SSH_SHIM_MAGIC	"keep-paths ssh 1"
#define SSH_SHIM_MAX	(256 * 1024)

/*
 * keep-paths --ssh-shim SOCKET ARG...: connects to SOCKET and hands it
 * ssh's ARGs (argv[0..argc)), the environment and the three standard
 * fds, then waits.  Returns the real ssh's exit status (or dies of its
 * signal); a session that cannot be reached runs the real ssh from PATH,
 * past the shim's own directory, saying that nothing is held.
 */
int	ssh_shim_main(const char *socket, int argc, char **argv);

#endif
