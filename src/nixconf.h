/*
 * nixconf: the one Nix setting keep-paths needs, "store", read from the
 * files Nix reads and in Nix's order, so that "auto" means what it means
 * to the user's own nix commands.
 */
#ifndef KP_NIXCONF_H
#define KP_NIXCONF_H

#include <stddef.h>

/*
 * The store setting as Nix's clients see it: the last "store = URI" of
 * $NIX_CONF_DIR/nix.conf (else /etc/nix/nix.conf), then the user's files
 * ($NIX_USER_CONF_FILES, else nix/nix.conf under $XDG_CONFIG_DIRS and
 * $XDG_CONFIG_HOME, the latter last), then $NIX_CONFIG; "include" and
 * "!include" followed.  Returns 1 with the value in value and its origin
 * ("FILE" or "NIX_CONFIG") in from, 0 if no file sets it, or -1 with a
 * message in err (a value that does not fit, an include loop, ENOMEM).
 */
int	nixconf_store(char *value, size_t valuelen, char *from, size_t fromlen,
	    char *err, size_t errlen);

/* An environment variable as keep-paths reads Nix's: NULL if unset or
 * empty. */
const char *nixconf_env(const char *name);

#endif
