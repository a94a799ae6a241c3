/*
 * buf: a growable byte queue.  Bytes are appended at the end and consumed
 * from the front; the live bytes are data[off .. len).
 */
#ifndef KP_BUF_H
#define KP_BUF_H

#include <stddef.h>
#include <sys/types.h>

struct buf {
	unsigned char	*data;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
};

/* Appends n bytes.  Returns 0, or -1 with errno ENOMEM. */
int	buf_append(struct buf *, const void *, size_t);

/* Appends a printf-formatted string.  Returns 0 or -1. */
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Drops n bytes from the front (n <= buf_used). */
void	buf_consume(struct buf *, size_t);

size_t	buf_used(const struct buf *);
/* The first unconsumed byte; NULL for a buffer that has no storage yet. */
const unsigned char *buf_head(const struct buf *);

/* Reads once from fd into the buffer, at most max bytes.  Returns bytes
 * read, 0 at EOF, -1 on error (errno EAGAIN when a non-blocking fd is dry). */
ssize_t	buf_read_fd(struct buf *, int fd, size_t max);

/* Writes once from the front of the buffer, at most max bytes, and consumes
 * what was written.  Returns bytes written (0 for an empty buffer, with
 * no write) or -1. */
ssize_t	buf_write_fd(struct buf *, int fd, size_t max);

void	buf_free(struct buf *);

#endif
