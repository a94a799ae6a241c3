/*
 * fuzz-sshargs: capture over ssh's inputs from the command's side.  With
 * the first byte even, the rest is an ssh command line (words split at
 * NUL bytes) for ssh_args_parse: whatever it is, the destination is one
 * of the words, a control master has no command, the Nix the command
 * runs has a directory that begins it, and everything is freed.  Odd, the
 * rest is a shim's message (sshcap_parse_message): it is taken whole,
 * with every string inside it, or refused.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_args.h"
#include "sshcap_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define WORDS_MAX	64

static void
check_args(const char *data, size_t size)
{
	const char *argv[WORDS_MAX] = { NULL };
	char *copy, *p, *end, *bindir, *store, *uri;
	struct ssh_args a;
	int argc = 0, i, found = 0;

	if ((copy = malloc(size + 1)) == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy, end = copy + size; p <= end && argc < WORDS_MAX;
	    p += strlen(p) + 1)
		argv[argc++] = p;
	if (ssh_args_parse(&a, argc, argv) == -1) {
		free(copy);
		return;
	}
	for (i = 0; i < argc; i++)
		found |= a.dest == argv[i];
	if ((a.dest != NULL && !found) || (a.master && a.command != NULL) ||
	    (a.login == NULL) != (a.nlogin == 0))
		abort();
	switch (ssh_args_nix(&a, &bindir, &store)) {
	case 1:
		if (strstr(a.command, bindir) == NULL)
			abort();
		free(bindir);
		free(store);
		break;
	case 0:
		if (bindir != NULL || store != NULL)
			abort();
		break;
	}
	if (a.nbefore > a.nlogin || (a.user != NULL && a.dest_user) ||
	    (a.port != NULL && a.dest_port))
		abort();
	if (a.dest != NULL && (uri = ssh_args_uri(&a)) != NULL) {
		if (strncmp(uri, "ssh-ng://", 9) != 0)
			abort();
		free(uri);
	}
	if (a.dest != NULL)
		free(ssh_args_host_key(&a, NULL));
	ssh_args_free(&a);
	free(copy);
}

/* Whether PATH still has dir as one of its directories. */
static int
leads_to_us(const char *path, const char *dir)
{
	size_t len = strlen(dir);
	const char *p = path, *colon;

	for (;;) {
		colon = strchr(p, ':');
		if ((colon != NULL ? (size_t)(colon - p) : strlen(p)) == len &&
		    strncmp(p, dir, len) == 0)
			return 1;
		if (colon == NULL)
			return 0;
		p = colon + 1;
	}
}

static void
check_message(const uint8_t *data, size_t size)
{
	struct sshcap cap;
	struct sshc c;
	size_t i;

	memset(&cap, 0, sizeof(cap));
	cap.cfg.dir = "/run/user/0/keep-paths.00000000";
	memset(&c, 0, sizeof(c));
	c.cap = &cap;
	c.fds[0] = 0, c.fds[1] = 1, c.fds[2] = 2;	/* never closed here */
	if (buf_append(&c.msg, data, size) == -1)
		return;
	if (sshcap_parse_message(&c) == 0) {
		if (c.argv == NULL || c.env == NULL || c.cwd == NULL ||
		    strcmp(c.argv[0], "ssh") != 0)
			abort();
		for (i = 0; c.env[i] != NULL; i++)
			if (strncmp(c.env[i], "PATH=", 5) == 0 &&
			    leads_to_us(c.env[i] + 5, cap.cfg.dir))
				abort();
	}
	ssh_args_free(&c.args);
	free(c.argv);
	free(c.env);
	buf_free(&c.path);
	buf_free(&c.msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		check_args((const char *)data + 1, size - 1);
	else
		check_message(data + 1, size - 1);
	return 0;
}
