/*
 * store: choosing a back end from a store URI, as Nix does.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "store.h"
#include "store_daemon.h"
#include "storepath.h"

#define NIX_STATE_DIR_DEFAULT	"/nix/var/nix"
#define NIX_STORE_DIR_DEFAULT	"/nix/store"

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

char *
store_dir_from_env(void)
{
	const char *dir;

	if ((dir = env_nonempty("NIX_STORE_DIR")) == NULL &&
	    (dir = env_nonempty("NIX_STORE")) == NULL)
		dir = NIX_STORE_DIR_DEFAULT;
	return storepath_canon(dir);
}

/* The daemon socket Nix's clients use: NIX_DAEMON_SOCKET_PATH, else in the
 * state directory. */
static char *
daemon_socket_path(void)
{
	const char *p, *state;
	char *out;

	if ((p = env_nonempty("NIX_DAEMON_SOCKET_PATH")) != NULL)
		return strdup(p);
	if ((state = env_nonempty("NIX_STATE_DIR")) == NULL)
		state = NIX_STATE_DIR_DEFAULT;
	if (asprintf(&out, "%s/daemon-socket/socket", state) == -1)
		return NULL;
	return out;
}

struct store *
store_open(const char *uri, const char *storedir, char *err, size_t errlen,
    int *status)
{
	struct store *s;
	char *sock;

	if (strcmp(uri, "auto") == 0) {
		/* Only the daemon back end exists so far: NIX_REMOTE may
		 * still name a daemon socket. */
		uri = env_nonempty("NIX_REMOTE");
		if (uri == NULL || strcmp(uri, "auto") == 0)
			uri = "daemon";
	}
	if (strcmp(uri, "daemon") == 0)
		sock = daemon_socket_path();
	else if (strncmp(uri, "unix://", 7) == 0 && uri[7] == '/' &&
	    strchr(uri, '?') == NULL)
		sock = strdup(uri + 7);
	else {
		snprintf(err, errlen, "%s: unsupported store "
		    "(use auto, daemon or unix:///path/to/socket)", uri);
		*status = EX_USAGE;
		return NULL;
	}
	if (sock == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		*status = EX_OSERR;
		return NULL;
	}
	s = store_daemon_open(sock, storedir, err, errlen);
	free(sock);
	if (s == NULL)
		*status = EX_UNAVAILABLE;
	return s;
}
