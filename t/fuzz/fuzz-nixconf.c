/*
 * fuzz-nixconf: any bytes as Nix's nix.conf, read as keep-paths reads it
 * for "auto" (store =, include, !include).  It must end, with 1 and a
 * value that fits, 0, or -1 and a message; includes of itself end at the
 * depth limit, and no other file of the machine's is read but what the
 * input names.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nixconf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char dir[] = "/tmp/fuzz-nixconf.XXXXXX", file[64];
	static int ready;
	char value[1024], from[1024], err[1024];
	FILE *f;
	int rc;

	if (!ready) {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(file, sizeof(file), "%s/nix.conf", dir);
		setenv("NIX_CONF_DIR", dir, 1);
		setenv("NIX_USER_CONF_FILES", "", 1);
		unsetenv("NIX_CONFIG");
		ready = 1;
	}
	if ((f = fopen(file, "we")) == NULL)
		abort();
	if (len > 0 && fwrite(data, 1, len, f) != len)
		abort();
	if (fclose(f) != 0)
		abort();
	err[0] = '\0';
	rc = nixconf_store(value, sizeof(value), from, sizeof(from), err,
	    sizeof(err));
	if (rc == 1 && (strlen(value) >= sizeof(value) || from[0] == '\0'))
		abort();
	if (rc == -1 && err[0] == '\0')
		abort();
	if (rc < -1 || rc > 1)
		abort();
	return 0;
}
