/*
 * store_daemon_hello: the handshake (version, features, Nix's version)
 * and what follows from it: the protocol version spoken, whether
 * AddTempRoots is used, and whether batches need the barrier.
 */
#include "config.h"

#include <err.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_daemon_int.h"
#include "xio.h"

/* A well-formed path that never exists: the daemon must accept it. */
#define PROBE_NAME	"00000000000000000000000000000000-keep-paths-probe"

/*
 * The daemon's magic and version; queues the rest of our handshake.
 * Returns a wp_result; a refusal is WP_OK with *status set.
 */
int
daemon_parse_hello(struct store_daemon *d, struct wp_reader *r, int *status)
{
	uint64_t magic, v;
	char probe[PATH_MAX];

	if (wp_get_u64(r, &magic) == WP_SHORT || wp_get_u64(r, &v) == WP_SHORT)
		return WP_SHORT;
	*status = STORE_PROTOCOL;
	if (magic != WP_MAGIC_2) {
		store_fail(&d->store, STORE_PROTOCOL, "%s: not a Nix daemon "
		    "(bad magic number)", d->name);
		return WP_OK;
	}
	if (WP_MAJOR(v) != 1 || WP_MINOR(v) >= WP_GUIX_MINOR) {
		store_fail(&d->store, STORE_PROTOCOL, "%s: daemon speaks protocol "
		    "%u.%u, keep-paths speaks 1.%u to 1.%u",
		    d->name, (unsigned)WP_MAJOR(v),
		    (unsigned)WP_MINOR(v), WP_MINOR(WP_MIN_VERSION),
		    WP_MINOR(WP_CLIENT_VERSION));
		return WP_OK;
	}
	if (v < WP_MIN_VERSION) {
		store_fail(&d->store, STORE_PROTOCOL, "%s: daemon protocol 1.%u is "
		    "older than 1.%u, the oldest keep-paths speaks (Nix 2.8)",
		    d->name, (unsigned)WP_MINOR(v),
		    WP_MINOR(WP_MIN_VERSION));
		return WP_OK;
	}
	*status = STORE_BUSY;
	d->offered = (unsigned)v;
	d->version = v < WP_CLIENT_VERSION ? (unsigned)v : WP_CLIENT_VERSION;
	snprintf(probe, sizeof(probe), "%s/%s", d->storedir, PROBE_NAME);
	if (wp_put_hello_rest(&d->out, d->version) == -1 ||
	    daemon_expect_push(d, EXPECT_HELLO_REST, ROOT_NONE) == -1 ||
	    wp_put_set_options(&d->out) == -1 ||
	    daemon_expect_push(d, EXPECT_SET_OPTIONS, ROOT_NONE) == -1 ||
	    wp_put_is_valid_path(&d->out, probe) == -1 ||
	    daemon_expect_push(d, EXPECT_PROBE, ROOT_NONE) == -1)
		*status = store_oom(&d->store);
	return WP_OK;
}

/* Safe to print as it is: short, and visible ASCII only. */
static int
printable(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * The daemon's feature list (1.38): AddTempRoots is used where it lists
 * it, unless it failed once this session.  With -v, the list is said.
 */
static int
parse_features(struct store_daemon *d, struct wp_reader *r, char *list,
    size_t size)
{
	uint64_t n, i;
	const char *s;
	size_t len;
	int rc, offered = 0;

	if ((rc = wp_get_u64(r, &n)) != WP_OK)
		return rc;
	if (n > WP_FEATURES_MAX)
		return WP_BAD;
	for (i = 0; i < n; i++) {
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
		offered |= len == sizeof(WP_FEATURE_ADD_TEMP_ROOTS) - 1 &&
		    memcmp(s, WP_FEATURE_ADD_TEMP_ROOTS, len) == 0;
		if (printable(s, len) && strlen(list) + len + 3 < size) {
			if (list[0] != '\0')
				strlcat(list, ", ", size);
			strncat(list, s, len);
		} else if (list[0] == '\0')
			strlcpy(list, "(not printable)", size);
	}
	d->multi = offered && !d->multi_off;
	return WP_OK;
}

/* Features, nixVersion and trust; the startup stderr loop follows. */
int
daemon_parse_hello_rest(struct store_daemon *d, struct wp_reader *r)
{
	const char *s, *known = NULL;
	char nix_version[64], features[512] = "";
	size_t len;
	uint64_t trust;
	int rc;

	if (WP_MINOR(d->version) >= 38 && (rc = parse_features(d, r,
	    features, sizeof(features))) != WP_OK)
		return rc;
	if (WP_MINOR(d->version) >= 33) {
		if ((rc = wp_get_string(r, &s, &len)) != WP_OK)
			return rc;
		/* Longer than any version: unknown, so the barrier stays. */
		if (len < sizeof(nix_version)) {
			memcpy(nix_version, s, len);
			nix_version[len] = '\0';
			known = nix_version;
		}
	}
	/* Every connection decides anew: a reconnect may meet an upgrade. */
	d->barrier = store_daemon_needs_barrier(d->barrier_mode, d->offered,
	    known);
	if (WP_MINOR(d->version) >= 35 &&
	    (rc = wp_get_u64(r, &trust)) != WP_OK)
		return rc;
	/* Said once it is all read: a part is parsed again with the rest. */
	if (d->verbose && WP_MINOR(d->version) >= 38)
		warnx("%s: daemon features: %s%s", d->name, features[0] ?
		    features : "none", d->multi ? "; roots go in one "
		    "AddTempRoots per 512" : "");
	/* Still at the head: the stderr loop comes next. */
	d->expect[d->ehead].kind = EXPECT_STARTUP;
	return WP_OK;
}

/*
 * Reads "2.M" at the head of v (then ".", "pre", "-rc"... may follow):
 * returns M, or -1 if v is no 2.x version.
 */
static long
nix_minor(const char *v)
{
	long minor = 0;

	if (strncmp(v, "2.", 2) != 0 || v[2] < '0' || v[2] > '9')
		return -1;
	for (v += 2; *v >= '0' && *v <= '9'; v++)
		if ((minor = minor * 10 + (*v - '0')) > 999)
			return -1;
	return minor;
}

int
store_daemon_needs_barrier(enum store_barrier mode, unsigned offered,
    const char *nix_version)
{
	long minor;

	if (mode != STORE_BARRIER_AUTO)
		return mode == STORE_BARRIER_ALWAYS;
	if (nix_version == NULL || WP_MINOR(offered) < 38)
		return 1;
	minor = nix_minor(nix_version);
	return minor < 35 || minor > 89;
}
