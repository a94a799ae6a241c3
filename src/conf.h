/*
 * conf: keep-paths.conf files, read with inih, into one settings struct.
 * Files are read in order (/etc, then the user's, then --config) and each
 * later value wins; the command line wins over them all.
 */
#ifndef KP_CONF_H
#define KP_CONF_H

#include <stddef.h>

#define CONF_SYSTEM_FILE	"/etc/keep-paths.conf"

struct settings {
	char	*store;		/* "store": auto, daemon, unix://PATH */
	int	 quiet;		/* "quiet": leave out "ok" replies */
	long	 connect_timeout; /* "connect-timeout", in seconds */
	long	 store_timeout;	/* "store-timeout", in seconds; 0: none */
	long	 reconnect;	/* "reconnect": seconds to reconnect to a
				   daemon in; 0: the session ends */
	long	 sweep_min_age;	/* [sweep] "min-age", in seconds */
	long	 capture_max;	/* "capture-max": distinct paths held */
};

/* Default connect-timeout: for the store's handshake, ssh's included. */
#define CONF_CONNECT_TIMEOUT	30

/* Default reconnect window: a daemon restart takes a few seconds. */
#define CONF_RECONNECT		30

/* Default capture-max: a large closure and its builds, not a build log's
 * every mention of a path without end. */
#define CONF_CAPTURE_MAX	100000
/* ... and its range. */
#define CONF_CAPTURE_MAX_MAX	10000000

/* Default [sweep] min-age: a session is made locked, so this only guards
 * against owners that do not follow the layout. */
#define CONF_SWEEP_MIN_AGE	300

/*
 * Parses a duration: N, Ns, Nm, Nh or Nd (N a whole number).  Returns
 * seconds, or -1 if it is not one.
 */
long	conf_parse_duration(const char *);

/* A capture-max: a whole number from 1 to CONF_CAPTURE_MAX_MAX.
 * Returns it, or -1. */
long	conf_parse_capture_max(const char *);

/* yes/true/1 or no/false/0 into *out.  Returns 0, or -1 if neither. */
int	conf_parse_bool(const char *, int *out);

/* A connect-timeout or store-timeout: a duration from 1s to 1d.  Returns
 * seconds, or -1. */
long	conf_parse_timeout(const char *);

/* Sets the defaults.  Returns 0, or -1 (ENOMEM). */
int	conf_defaults(struct settings *);

/*
 * Reads one file into the settings.  A missing file is fine unless
 * must_exist.  Returns 0, or -1 with "FILE:LINE: reason" in err.
 */
int	conf_read(struct settings *, const char *path, int must_exist,
	    char *err, size_t errlen);

/*
 * The defaults, then the system file, the user's file, and extra (NULL
 * for none; it must exist).  Returns 0, or -1 with a message in err.
 */
int	conf_load(struct settings *, const char *extra, char *err,
	    size_t errlen);

/*
 * A per-user file: ${XDG_CONFIG_HOME:-$HOME/.config}/NAME (ours is
 * keep-paths/config, Nix's nix/nix.conf).  New string; NULL with errno 0
 * if neither variable is set, or with ENOMEM.
 */
char	*conf_user_file(const char *name);

void	conf_free(struct settings *);

#endif
