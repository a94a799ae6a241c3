/*
 * ssh_shim: the command's "ssh", handing itself to the session.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "ssh_shim.h"
#include "xio.h"

extern char **environ;

/* The session's message: the magic, argc, ssh's args, envc, the
 * environment, the working directory; each ends with a NUL. */
static int
message(struct buf *m, int argc, char **argv)
{
	char cwd[PATH_MAX];
	size_t envc = 0;
	uint32_t len;
	int i;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		strlcpy(cwd, "/", sizeof(cwd));
	while (environ[envc] != NULL)
		envc++;
	if (buf_append(m, "\0\0\0\0", 4) == -1 ||
	    buf_append(m, SSH_SHIM_MAGIC, sizeof(SSH_SHIM_MAGIC)) == -1 ||
	    buf_printf(m, "%d%c", argc, '\0') == -1)
		return -1;
	for (i = 0; i < argc; i++)
		if (buf_append(m, argv[i], strlen(argv[i]) + 1) == -1)
			return -1;
	if (buf_printf(m, "%zu%c", envc, '\0') == -1)
		return -1;
	for (i = 0; environ[i] != NULL; i++)
		if (buf_append(m, environ[i], strlen(environ[i]) + 1) == -1)
			return -1;
	if (buf_append(m, cwd, strlen(cwd) + 1) == -1)
		return -1;
	if (buf_used(m) - 4 > SSH_SHIM_MAX) {
		errno = E2BIG;
		return -1;
	}
	len = (uint32_t)(buf_used(m) - 4);
	memcpy(m->data + m->off, &len, 4);
	return 0;
}

/* Sends the message, stdin, stdout and stderr going with its first
 * byte.  Returns 0/-1. */
static int
send_all(int fd, const struct buf *m)
{
	int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(fds))];
	} cm;
	const unsigned char *p = buf_head(m);
	struct iovec iov = { (void *)p, 1 };
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	while ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		continue;
	if (n != 1)
		return -1;
	return xio_write_all(fd, p + 1, buf_used(m) - 1);
}

/* The real ssh: the first in PATH that is not in the shim's directory. */
static void
exec_real_ssh(const char *sockpath, int argc, char **argv)
{
	const char *path = getenv("PATH"), *dirend = strrchr(sockpath, '/');
	size_t dirlen = dirend != NULL ? (size_t)(dirend - sockpath) : 0;
	char *copy, *dir, *next, file[PATH_MAX], **args;

	if (path == NULL || (copy = strdup(path)) == NULL)
		return;
	if ((args = reallocarray(NULL, (size_t)argc + 2,
	    sizeof(*args))) == NULL) {
		free(copy);
		return;
	}
	memcpy(args + 1, argv, ((size_t)argc + 1) * sizeof(*args));
	for (dir = copy; dir != NULL; dir = next) {
		if ((next = strchr(dir, ':')) != NULL)
			*next++ = '\0';
		if (*dir == '\0' || (strlen(dir) == dirlen &&
		    strncmp(dir, sockpath, dirlen) == 0))
			continue;
		if ((size_t)snprintf(file, sizeof(file), "%s/ssh", dir) >=
		    sizeof(file) || access(file, X_OK) == -1)
			continue;
		args[0] = file;
		execv(file, args);
	}
	free(args);
	free(copy);
}

/* Exits as the real ssh did: status, or 256 + the signal that killed it. */
static int
exit_as(uint32_t status)
{
	if (status < 256)
		return (int)status;
	signal((int)(status - 256), SIG_DFL);
	raise((int)(status - 256));
	return 128 + (int)(status - 256);
}

int
ssh_shim_main(const char *sockpath, int argc, char **argv)
{
	struct sockaddr_un sun;
	struct buf m = { NULL, 0, 0, 0 };
	uint32_t status;
	size_t got = 0;
	ssize_t n = 0;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) || (fd = socket(AF_UNIX, SOCK_STREAM |
	    SOCK_CLOEXEC, 0)) == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		warnx("capture over ssh: %s: %s: this ssh runs uncaptured, "
		    "nothing it copies is held", sockpath, strerror(errno));
		exec_real_ssh(sockpath, argc, argv);
		err(KP_EXIT_NOTFOUND, "ssh");
	}
	if (message(&m, argc, argv) == -1 || send_all(fd, &m) == -1)
		err(255, "capture over ssh: %s", sockpath);
	buf_free(&m);
	/* The session ran the real ssh: its status is ours. */
	while (got < sizeof(status) && (n = xio_read(fd, (char *)&status +
	    got, sizeof(status) - got)) > 0)
		got += (size_t)n;
	if (got != sizeof(status))
		errx(255, "capture over ssh: the keep-paths session ended "
		    "before ssh did");
	return exit_as(status);
}
