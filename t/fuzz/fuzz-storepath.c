/*
 * fuzz-storepath: the store path checks, on any bytes.  Whatever they
 * accept must be what they promise: canonical paths, and base names of
 * hash, dash and name characters only.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storepath.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char HASH_CHARS[] = "0123456789abcdfghijklmnpqrsvwxyz";

static void
check_base(const char *s, size_t len)
{
	char why[STOREPATH_WHY_MAX];
	size_t i;

	if (storepath_check_base(s, len, why, sizeof(why)) == -1)
		return;
	if (len <= STOREPATH_HASH_LEN + 1 || s[STOREPATH_HASH_LEN] != '-')
		abort();
	for (i = 0; i < STOREPATH_HASH_LEN; i++)
		if (strchr(HASH_CHARS, s[i]) == NULL || s[i] == '\0')
			abort();
}

static void
check_canon(const char *s)
{
	char *canon;

	if ((canon = storepath_canon(s)) == NULL)
		return;
	if (canon[0] != '/' || strstr(canon, "//") != NULL ||
	    strstr(canon, "/./") != NULL || strstr(canon, "/../") != NULL ||
	    (strlen(canon) > 1 && canon[strlen(canon) - 1] == '/'))
		abort();
	free(canon);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	check_base((const char *)data, size);
	if ((s = strndup((const char *)data, size)) == NULL)
		return 0;
	check_canon(s);
	free(s);
	return 0;
}
