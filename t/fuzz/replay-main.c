/*
 * replay-main: a fuzz target's LLVMFuzzerTestOneInput run on files, with
 * no libFuzzer: make check replays t/fuzz/regress/TARGET/ through each
 * target built this way, under any compiler and sanitizer.
 *
 *	regress-TARGET FILE ...
 */
#include "config.h"

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char **argv)
{
	unsigned char *data;
	size_t len, cap;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rbe")) == NULL)
			err(1, "%s", argv[i]);
		data = NULL;
		len = cap = 0;
		for (;;) {
			if (len == cap) {
				cap = cap ? cap * 2 : 4096;
				if ((data = realloc(data, cap)) == NULL)
					err(1, NULL);
			}
			len += fread(data + len, 1, cap - len, f);
			if (len < cap)
				break;
		}
		if (ferror(f))
			err(1, "%s", argv[i]);
		fclose(f);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		printf("ok %s\n", argv[i]);
	}
	return 0;
}
