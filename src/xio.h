/*
 * xio: the I/O primitives, written once.
 * Every call retries EINTR; nothing else is retried.  errno is preserved
 * from the failing call.
 */
#ifndef KP_XIO_H
#define KP_XIO_H

#include <stddef.h>
#include <sys/types.h>

/* One read(2), retried on EINTR.  Returns bytes read, 0 at EOF, -1 on error. */
ssize_t	xio_read(int fd, void *buf, size_t len);

/* One write(2), retried on EINTR.  Returns bytes written or -1. */
ssize_t	xio_write(int fd, const void *buf, size_t len);

/* Writes all of buf, finishing short writes.  Returns 0 or -1. */
int	xio_write_all(int fd, const void *buf, size_t len);

/* Sets O_NONBLOCK on fd (only on fds this process created).  Returns 0 or -1. */
int	xio_set_nonblock(int fd);

/*
 * Connects a close-on-exec, non-blocking stream socket to the unix socket
 * at path, without waiting.  Returns the fd, or -1 with errno (EAGAIN: the
 * listener's backlog is full; ENAMETOOLONG: path does not fit).
 */
int	xio_connect_unix(const char *path);

/* Milliseconds on the monotonic clock, for poll() deadlines. */
long	xio_now_ms(void);

/* The earlier of two times on that clock, where -1 means never. */
long	xio_earliest(long a, long b);

/* Returns 1 if fd is open, 0 if not. */
int	xio_fd_is_open(int fd);

#endif
