/*
 * sshcap_shim: capture over ssh's side of the shims: the capture
 * directory's "ssh" and the socket it reaches us on; a shim's message and
 * descriptors in, the real ssh's exit status out.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssh_shim.h"
#include "sshcap_int.h"
#include "xio.h"

/* Read a shim's message this much at a time. */
#define MSG_CHUNK	65536

/* The "ssh" a command finds first in its PATH. */
int
sshcap_write_shim(struct sshcap *cap, char *err, size_t errlen)
{
	char *q_self = NULL, *q_sock = NULL;
	FILE *f;
	int fd;

	if (asprintf(&q_self, "'%s'", cap->cfg.self) == -1 ||
	    asprintf(&q_sock, "'%s'", cap->sock) == -1 ||
	    strchr(cap->cfg.self, '\'') != NULL ||
	    strchr(cap->sock, '\'') != NULL) {
		snprintf(err, errlen, "capture over ssh: %s: cannot be "
		    "quoted", cap->shim);
		free(q_self);
		free(q_sock);
		return -1;
	}
	if ((fd = openat(cap->cfg.dir_fd, "ssh", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0700)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", cap->shim, strerror(errno));
		if (fd != -1)
			close(fd);
		free(q_self);
		free(q_sock);
		return -1;
	}
	fprintf(f, "#!/bin/sh\n# keep-paths --capture: this ssh runs in "
	    "its session (keep-paths(1))\nexec %s --ssh-shim %s \"$@\"\n",
	    q_self, q_sock);
	free(q_self);
	free(q_sock);
	if (fclose(f) == EOF) {
		snprintf(err, errlen, "%s: %s", cap->shim, strerror(errno));
		return -1;
	}
	return 0;
}

int
sshcap_listen(struct sshcap *cap, char *err, size_t errlen)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, cap->sock, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: too long for a socket", cap->sock);
		return -1;
	}
	if ((cap->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 || bind(cap->listen_fd,
	    (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(cap->listen_fd, 16) == -1) {
		snprintf(err, errlen, "%s: %s", cap->sock, strerror(errno));
		return -1;
	}
	return 0;
}

/* Takes the fds that came with the message's first byte. */
static void
take_fds(struct sshc *c, struct msghdr *msg)
{
	struct cmsghdr *cm;
	int fds[3];
	size_t i;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(fds))) {
			memcpy(fds, CMSG_DATA(cm), sizeof(fds));
			for (i = 0; i < 3; i++) {
				sshcap_close_fd(&c->fds[i]);
				c->fds[i] = fds[i];
			}
		}
}

/* Reads more of the message.  Returns 1 once it is whole, 0, or -1 (its
 * end or an error: the shim is dropped). */
int
sshcap_read_message(struct sshc *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} cm;
	unsigned char chunk[MSG_CHUNK];
	struct iovec iov = { chunk, sizeof(chunk) };
	struct msghdr msg;
	uint32_t len;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	while ((n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		continue;
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	take_fds(c, &msg);
	if (buf_append(&c->msg, chunk, (size_t)n) == -1)
		return -1;
	if (buf_used(&c->msg) < 4)
		return 0;
	memcpy(&len, buf_head(&c->msg), 4);
	if (len > SSH_SHIM_MAX || buf_used(&c->msg) > 4 + (size_t)len)
		return -1;
	return buf_used(&c->msg) == 4 + (size_t)len;
}

/*
 * The next NUL-ended string of the message at *p, or NULL past its end.
 */
static char *
next_string(char **p, char *end)
{
	char *s = *p, *nul;

	if (s >= end || (nul = memchr(s, '\0', (size_t)(end - s))) == NULL)
		return NULL;
	*p = nul + 1;
	return s;
}

/* A count, then that many strings, as a NULL-ended array into the
 * message; argv gets "ssh" first.  Returns the array, or NULL. */
static char **
strings(char **p, char *end, int is_argv, size_t *count)
{
	const char *errstr;
	char *num, **v;
	size_t n, i, k = 0;

	if ((num = next_string(p, end)) == NULL)
		return NULL;
	n = (size_t)strtonum(num, 0, SSH_SHIM_MAX, &errstr);
	if (errstr != NULL || (v = calloc(n + 2, sizeof(*v))) == NULL)
		return NULL;
	if (is_argv)
		v[k++] = (char *)"ssh";
	for (i = 0; i < n; i++)
		if ((v[k++] = next_string(p, end)) == NULL) {
			free(v);
			return NULL;
		}
	*count = n;
	return v;
}

/*
 * The client's PATH, without the capture directory, and no other PATH:
 * the real ssh's own children (a ProxyCommand) are not the command's.
 * Returns 0/-1.
 */
static int
path_without_us(struct sshc *c)
{
	const char *dir = c->cap->cfg.dir, *old, *p, *end;
	size_t dirlen = strlen(dir), i, k;
	struct buf path = { NULL, 0, 0, 0 };
	int first = 1;

	for (i = 0; c->env[i] != NULL; i++)
		if (strncmp(c->env[i], "PATH=", 5) == 0)
			break;
	if (c->env[i] == NULL)
		return 0;
	old = c->env[i] + 5;
	if (buf_append(&path, "PATH=", 5) == -1)
		return -1;
	for (p = old; ; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) != dirlen || memcmp(p, dir, dirlen) != 0) {
			if ((!first && buf_append(&path, ":", 1) == -1) ||
			    buf_append(&path, p, (size_t)(end - p)) == -1) {
				buf_free(&path);
				return -1;
			}
			first = 0;
		}
		if (*end == '\0')
			break;
	}
	if (buf_append(&path, "", 1) == -1) {
		buf_free(&path);
		return -1;
	}
	/* Kept in c->path, freed with c. */
	c->path = path;
	c->env[i] = (char *)buf_head(&c->path);
	/* A second PATH would go to ssh's children as it came: none. */
	for (k = ++i; c->env[i] != NULL; i++)
		if (strncmp(c->env[i], "PATH=", 5) != 0)
			c->env[k++] = c->env[i];
	c->env[k] = NULL;
	return 0;
}

/* Reads the whole message: the real ssh's argv, env and cwd. */
int
sshcap_parse_message(struct sshc *c)
{
	char *p, *end;
	const char *magic;
	size_t argc, envc;

	if (buf_used(&c->msg) < 4)
		return -1;
	p = (char *)buf_head(&c->msg) + 4;
	end = (char *)buf_head(&c->msg) + buf_used(&c->msg);
	if ((magic = next_string(&p, end)) == NULL ||
	    strcmp(magic, SSH_SHIM_MAGIC) != 0 ||
	    (c->argv = strings(&p, end, 1, &argc)) == NULL ||
	    (c->env = strings(&p, end, 0, &envc)) == NULL ||
	    (c->cwd = next_string(&p, end)) == NULL ||
	    c->fds[0] == -1 || c->fds[1] == -1 || c->fds[2] == -1 ||
	    path_without_us(c) == -1)
		return -1;
	return ssh_args_parse(&c->args, (int)argc,
	    (const char *const *)c->argv + 1);
}

/* Tells the shim how ssh ended, once its output is out, and lets it go. */
void
sshcap_tell_status(struct sshc *c)
{
	uint32_t status;

	if (c->sock == -1)
		return;
	status = WIFSIGNALED(c->wstatus) ?
	    256 + (uint32_t)WTERMSIG(c->wstatus) :
	    (uint32_t)WEXITSTATUS(c->wstatus);
	(void)xio_write(c->sock, &status, sizeof(status));
	sshcap_close_fd(&c->sock);
}
