/*
 * fuzz-conf: any bytes as a keep-paths.conf file.  conf_read must end in
 * 0 or -1 with a message naming the file and a line; a file with a line
 * over 198 bytes, or a NUL byte, must be refused (libinih would split or
 * cut it); what it accepts must be in range.
 */
#include "config.h"

#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Lines of over 198 bytes (the last need not end in a newline), or a NUL. */
static int
must_refuse(const uint8_t *d, size_t len)
{
	size_t i, line = 0;

	for (i = 0; i < len; i++) {
		if (d[i] == '\0')
			return 1;
		if (d[i] == '\n') {
			line = 0;
			continue;
		}
		/* A final line of 199 bytes and no newline fits too. */
		if (++line > 198 && (line > 199 || i + 1 < len))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int fd = -1;
	static char path[64];
	struct settings s;
	char err[512];
	int rc;

	if (fd == -1) {
		if ((fd = memfd_create("fuzz-conf", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, len, 0) !=
	    (ssize_t)len)
		abort();
	if (conf_defaults(&s) == -1)
		abort();
	err[0] = '\0';
	rc = conf_read(&s, path, 1, err, sizeof(err));
	if (rc == -1 && strncmp(err, path, strlen(path)) != 0)
		abort();
	if (rc == 0 && must_refuse(data, len))
		abort();
	if (rc == 0 && (s.store == NULL || *s.store == '\0' ||
	    s.connect_timeout < 1 || s.connect_timeout > 86400 ||
	    s.store_timeout < 0 || s.store_timeout > 86400 ||
	    s.reconnect < 0 || s.reconnect > 86400 || s.sweep_min_age < 0 ||
	    s.capture_max < 1 || s.capture_max > CONF_CAPTURE_MAX_MAX))
		abort();
	conf_free(&s);
	return 0;
}
