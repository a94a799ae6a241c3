/*
 * fuzz-storeuri: any bytes as a --store value, and as an ssh-ng:// URI
 * with NIX_SSHOPTS.  store_choose must choose, or refuse with "URI:
 * reason"; ssh_command_build must build a NULL-ended argv whose words are
 * all strings, or refuse with a message; its text form must be one line.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_command.h"
#include "store_open.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_ssh(const char *uri)
{
	struct ssh_command c;
	char err[1024], *text;
	size_t i;

	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	if (ssh_command_build(uri, &c, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		ssh_command_free(&c);
		return;
	}
	if (c.argv == NULL || c.argv[c.argc] != NULL || c.host == NULL)
		abort();
	for (i = 0; i < c.argc; i++)
		if (c.argv[i] == NULL)
			abort();
	if ((text = ssh_command_text(&c)) != NULL &&
	    strchr(text, '\n') != NULL && strchr(uri, '\n') == NULL &&
	    getenv("NIX_SSHOPTS") != NULL &&
	    strchr(getenv("NIX_SSHOPTS"), '\n') == NULL)
		abort();
	free(text);
	ssh_command_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct store_choice choice;
	char *uri, *opts, err[1024], ssh[4096];
	const uint8_t *nul;

	/* URI, then NUL, then NIX_SSHOPTS. */
	nul = memchr(data, '\0', len);
	if ((uri = strndup((const char *)data, nul != NULL ?
	    (size_t)(nul - data) : len)) == NULL)
		abort();
	opts = nul != NULL ? strndup((const char *)nul + 1,
	    len - (size_t)(nul - data) - 1) : NULL;
	if (opts != NULL)
		setenv("NIX_SSHOPTS", opts, 1);
	else
		unsetenv("NIX_SSHOPTS");
	memset(&choice, 0, sizeof(choice));
	err[0] = '\0';
	if (store_choose(uri, &choice, err, sizeof(err)) == -1 &&
	    err[0] == '\0')
		abort();
	snprintf(ssh, sizeof(ssh), "ssh-ng://%s", uri);
	check_ssh(ssh);
	check_ssh(uri);
	free(uri);
	free(opts);
	return 0;
}
