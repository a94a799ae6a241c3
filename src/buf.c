/*
 * buf: a growable byte queue for the pipes keep-paths multiplexes.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xio.h"

/* Makes room for n more bytes at the end, compacting before growing. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t used = b->len - b->off, cap;
	unsigned char *p;

	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->len = used;
		if (b->cap - b->len >= n)
			return 0;
	}
	if (n > SIZE_MAX / 2 - used) {
		errno = ENOMEM;
		return -1;
	}
	for (cap = b->cap ? b->cap : 4096; cap - used < n; cap *= 2)
		;
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

size_t
buf_used(const struct buf *b)
{
	return b->len - b->off;
}

const unsigned char *
buf_head(const struct buf *b)
{
	/* A freed buffer has no storage: NULL + 0 is undefined in C. */
	return b->data != NULL ? b->data + b->off : NULL;
}

ssize_t
buf_read_fd(struct buf *b, int fd, size_t max)
{
	ssize_t n;

	if (buf_reserve(b, max) == -1)
		return -1;
	if ((n = xio_read(fd, b->data + b->len, max)) > 0)
		b->len += (size_t)n;
	return n;
}

ssize_t
buf_write_fd(struct buf *b, int fd, size_t max)
{
	size_t n = buf_used(b);
	ssize_t w;

	if (n == 0)
		return 0;
	if (n > max)
		n = max;
	if ((w = xio_write(fd, buf_head(b), n)) > 0)
		buf_consume(b, (size_t)w);
	return w;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}
