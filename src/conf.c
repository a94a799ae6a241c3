/*
 * conf: the inih handler and the value parsers.
 *
 * Keys of keep-paths stand before any section or in [keep-paths]; those of
 * keep-paths-sweep in [sweep].  Both programs read, and check, the whole
 * file.  An unknown section, key or value is an error naming file and
 * line: a typo must not silently change how roots are held or swept.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf.h"

struct parse_state {
	struct settings	*settings;
	char		 why[256];	/* the first error */
};

int
conf_parse_bool(const char *value, int *out)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		*out = 1;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

long
conf_parse_duration(const char *value)
{
	static const struct { char suffix; long seconds; } units[] = {
		{ '\0', 1 }, { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
		{ 'd', 86400 },
	};
	const char *errstr;
	char number[32];
	size_t len = strlen(value), i;
	long long n;

	if (len == 0 || len >= sizeof(number))
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].suffix != '\0' && value[len - 1] != units[i].suffix)
			continue;
		memcpy(number, value, len);
		number[units[i].suffix != '\0' ? len - 1 : len] = '\0';
		n = strtonum(number, 0, 3650L * 86400 / units[i].seconds,
		    &errstr);
		if (errstr == NULL)
			return (long)n * units[i].seconds;
	}
	return -1;
}

long
conf_parse_timeout(const char *value)
{
	long t = conf_parse_duration(value);

	return t >= 1 && t <= 86400 ? t : -1;
}

long
conf_parse_capture_max(const char *value)
{
	const char *errstr;
	long long n = strtonum(value, 1, CONF_CAPTURE_MAX_MAX, &errstr);

	return errstr == NULL ? (long)n : -1;
}

static int
sweep_key(struct parse_state *ps, const char *key, const char *value)
{
	long age;

	if (strcmp(key, "min-age") != 0) {
		snprintf(ps->why, sizeof(ps->why), "unknown key '%s' in "
		    "[sweep]", key);
		return 0;
	}
	if ((age = conf_parse_duration(value)) == -1) {
		snprintf(ps->why, sizeof(ps->why), "min-age: '%s' is not a "
		    "duration (30s, 10m, 2h, 1d)", value);
		return 0;
	}
	ps->settings->sweep_min_age = age;
	return 1;
}

/* A timeout key's value into *out; returns 1, or 0 with the reason. */
static int
timeout_value(struct parse_state *ps, const char *key, const char *value,
    long *out)
{
	if ((*out = conf_parse_timeout(value)) != -1)
		return 1;
	snprintf(ps->why, sizeof(ps->why), "%s: '%s' is not a duration from "
	    "1s to 1d", key, value);
	return 0;
}

/* A yes/no key's value into *out; returns 1, or 0 with the reason. */
static int
bool_value(struct parse_state *ps, const char *key, const char *value,
    int *out)
{
	if (conf_parse_bool(value, out) == 0)
		return 1;
	snprintf(ps->why, sizeof(ps->why), "%s: '%s' is not yes or no", key,
	    value);
	return 0;
}

/*
 * "reconnect": yes (the default window), no, or the window itself.
 * Returns 1, or 0 with the reason.
 */
static int
reconnect_value(struct parse_state *ps, const char *value, long *out)
{
	int on;

	if ((*out = conf_parse_timeout(value)) != -1)
		return 1;
	if (conf_parse_bool(value, &on) == 0) {
		*out = on ? CONF_RECONNECT : 0;
		return 1;
	}
	snprintf(ps->why, sizeof(ps->why), "reconnect: '%s' is not yes, no "
	    "or a duration from 1s to 1d", value);
	return 0;
}

/* inih calls this per key; it returns nonzero on success. */
static int
conf_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct parse_state *ps = user;
	struct settings *s = ps->settings;
	char *copy;

	if (strcmp(section, "sweep") == 0)
		return sweep_key(ps, key, value);
	if (*section != '\0' && strcmp(section, "keep-paths") != 0) {
		snprintf(ps->why, sizeof(ps->why), "unknown section [%s]",
		    section);
		return 0;
	}
	if (strcmp(key, "store") == 0) {
		if (*value == '\0' || (copy = strdup(value)) == NULL) {
			snprintf(ps->why, sizeof(ps->why), "store: %s",
			    *value ? strerror(errno) : "empty value");
			return 0;
		}
		free(s->store);
		s->store = copy;
	} else if (strcmp(key, "connect-timeout") == 0)
		return timeout_value(ps, key, value, &s->connect_timeout);
	else if (strcmp(key, "store-timeout") == 0)
		return timeout_value(ps, key, value, &s->store_timeout);
	else if (strcmp(key, "reconnect") == 0)
		return reconnect_value(ps, value, &s->reconnect);
	else if (strcmp(key, "quiet") == 0)
		return bool_value(ps, key, value, &s->quiet);
	else if (strcmp(key, "capture-max") == 0) {
		if ((s->capture_max = conf_parse_capture_max(value)) == -1) {
			snprintf(ps->why, sizeof(ps->why), "capture-max: '%s' "
			    "is not a number from 1 to %d", value,
			    CONF_CAPTURE_MAX_MAX);
			return 0;
		}
	}
	else {
		snprintf(ps->why, sizeof(ps->why), "unknown key '%s'", key);
		return 0;
	}
	return 1;
}

int
conf_defaults(struct settings *s)
{
	s->quiet = 0;
	s->connect_timeout = CONF_CONNECT_TIMEOUT;
	s->store_timeout = 0;
	s->reconnect = CONF_RECONNECT;
	s->sweep_min_age = CONF_SWEEP_MIN_AGE;
	s->capture_max = CONF_CAPTURE_MAX;
	return (s->store = strdup("auto")) == NULL ? -1 : 0;
}

/* What conf_line reads from, and why it stopped early. */
struct line_source {
	FILE		*f;
	int		 line;		/* lines read */
	const char	*bad;		/* why the last line was refused */
	char		 too_long[48];
};

/*
 * inih's reader (fgets's contract): the next line into str, at most
 * num - 1 bytes with its newline.  libinih splits a longer line and
 * parses its tail as a line of its own, so a long "store =" would go
 * silently wrong: such a line, or one with a NUL byte, ends the parse
 * instead, with NULL and src->bad set.  Bounded: a file of zeros or an
 * endless FIFO is read no further than one buffer.
 */
static char *
conf_line(char *str, int num, void *stream)
{
	struct line_source *src = stream;
	int c, n = 0;

	if (num < 2)
		return NULL;
	while ((c = getc(src->f)) != EOF) {
		if (c == '\0') {
			src->bad = "a NUL byte in a line";
			break;
		}
		if (n == num - 1) {
			snprintf(src->too_long, sizeof(src->too_long),
			    "line too long (at most %d bytes)", num - 2);
			src->bad = src->too_long;
			break;
		}
		str[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0 && src->bad == NULL)
		return NULL;		/* end of file */
	src->line++;
	str[n] = '\0';
	return src->bad == NULL ? str : NULL;
}

int
conf_read(struct settings *s, const char *path, int must_exist, char *err,
    size_t errlen)
{
	struct parse_state ps = { s, "" };
	struct line_source src = { NULL, 0, NULL, "" };
	FILE *f;
	int line;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	src.f = f;
	line = ini_parse_stream(conf_line, &src, conf_handler, &ps);
	fclose(f);
	if (line == 0 && src.bad != NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, src.line, src.bad);
		return -1;
	}
	if (line == 0)
		return 0;
	if (line < 0)
		snprintf(err, errlen, "%s: cannot parse", path);
	else if (ps.why[0] != '\0')
		snprintf(err, errlen, "%s:%d: %s", path, line, ps.why);
	else
		snprintf(err, errlen, "%s:%d: syntax error", path, line);
	return -1;
}

char *
conf_user_file(const char *name)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *path;
	int n;

	if (xdg != NULL && *xdg != '\0')
		n = asprintf(&path, "%s/%s", xdg, name);
	else if (home != NULL && *home != '\0')
		n = asprintf(&path, "%s/.config/%s", home, name);
	else {
		errno = 0;
		return NULL;
	}
	return n == -1 ? NULL : path;
}

int
conf_load(struct settings *s, const char *extra, char *err, size_t errlen)
{
	char *user;
	int rc;

	if (conf_defaults(s) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (conf_read(s, CONF_SYSTEM_FILE, 0, err, errlen) == -1)
		return -1;
	user = conf_user_file("keep-paths/config");
	rc = user != NULL ? conf_read(s, user, 0, err, errlen) : 0;
	free(user);
	if (rc == -1)
		return -1;
	return extra != NULL ? conf_read(s, extra, 1, err, errlen) : 0;
}

void
conf_free(struct settings *s)
{
	free(s->store);
	s->store = NULL;
}
