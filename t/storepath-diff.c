/*
 * storepath-diff: keep-paths' store path validation against a real Nix
 * daemon's, input by input (t/keep-paths-validate.bats).
 *
 *	storepath-diff SOCKET STOREDIR <inputs
 *
 * For each input line X, keep-paths' verdict is storepath_resolve(X), which
 * gives the path P it would send; the daemon's is whether IsValidPath(X)
 * parses, asked raw on a connection that is thrown away after every
 * refusal (a daemon hangs up after a path it cannot parse).  Two rules:
 *	keep-paths accepts X  =>  the daemon accepts P  (else a session dies)
 *	the daemon accepts X  =>  keep-paths accepts X  (else a good path is
 *	                          refused), but where a supported Nix
 *	                          version is stricter than this daemon (see
 *	                          stricter_by_design)
 * Prints every breach and a summary line; exits 1 if there was any.
 */
#include "config.h"

#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "storepath.h"
#include "worker_proto.h"
#include "xio.h"

struct conn {
	int		 fd;
	unsigned	 version;
	struct buf	 in;
};

static const char *socket_path;

/* Reads until the reader r can take a whole message; calls parse(r). */
static int
read_message(struct conn *c, int (*parse)(struct conn *, struct wp_reader *,
    void *), void *arg)
{
	struct wp_reader r;
	int rc;

	for (;;) {
		r.p = buf_head(&c->in);
		r.len = buf_used(&c->in);
		r.off = 0;
		if ((rc = parse(c, &r, arg)) != WP_SHORT) {
			if (rc == WP_OK)
				buf_consume(&c->in, r.off);
			return rc;
		}
		if (buf_read_fd(&c->in, c->fd, 65536) <= 0)
			return WP_BAD;
	}
}

static int
parse_hello(struct conn *c, struct wp_reader *r, void *arg)
{
	uint64_t magic, v;
	int rc;

	if ((rc = wp_get_u64(r, &magic)) != WP_OK ||
	    (rc = wp_get_u64(r, &v)) != WP_OK)
		return rc;
	if (magic != WP_MAGIC_2)
		return WP_BAD;
	c->version = v < WP_CLIENT_VERSION ? (unsigned)v : WP_CLIENT_VERSION;
	return WP_OK;
}

/* What the daemon says once it has our side of the handshake. */
static int
parse_hello_rest(struct conn *c, struct wp_reader *r, void *arg)
{
	uint64_t v;
	const char *s;
	size_t len;
	int rc;

	if (WP_MINOR(c->version) >= 38 && (rc = wp_skip_strings(r)) != WP_OK)
		return rc;
	if (WP_MINOR(c->version) >= 33 &&
	    (rc = wp_get_string(r, &s, &len)) != WP_OK)
		return rc;
	if (WP_MINOR(c->version) >= 35)
		return wp_get_u64(r, &v);
	return WP_OK;
}

/* One stderr message; *(int *)arg: 1 at LAST, -1 at ERROR, else 0. */
static int
parse_stderr(struct conn *c, struct wp_reader *r, void *arg)
{
	struct wp_stderr m;
	int rc;

	if ((rc = wp_get_stderr(r, c->version, &m)) != WP_OK)
		return rc;
	*(int *)arg = m.kind == WP_MSG_LAST ? 1 : m.kind == WP_MSG_ERROR ?
	    -1 : 0;
	return WP_OK;
}

static int
parse_u64(struct conn *c, struct wp_reader *r, void *arg)
{
	return wp_get_u64(r, arg);
}

/* Reads the stderr loop: 1 at LAST, -1 at ERROR. */
static int
await_result(struct conn *c)
{
	int end = 0;

	while (end == 0)
		if (read_message(c, parse_stderr, &end) != WP_OK)
			errx(2, "the daemon broke the protocol");
	return end;
}

static void
conn_open(struct conn *c)
{
	struct buf out = { 0 };

	memset(&c->in, 0, sizeof(c->in));
	if ((c->fd = xio_connect_unix(socket_path)) == -1)
		err(2, "%s", socket_path);
	/* Blocking from here: a test tool, one request at a time. */
	if (fcntl(c->fd, F_SETFL, 0) == -1)
		err(2, "fcntl");
	/* The hello waits for the daemon's version to send its rest. */
	if (wp_put_hello(&out) == -1 ||
	    xio_write_all(c->fd, buf_head(&out), buf_used(&out)) == -1)
		err(2, "hello");
	buf_consume(&out, buf_used(&out));
	if (read_message(c, parse_hello, NULL) != WP_OK)
		errx(2, "%s: not a Nix daemon", socket_path);
	if (wp_put_hello_rest(&out, c->version) == -1 ||
	    xio_write_all(c->fd, buf_head(&out), buf_used(&out)) == -1)
		err(2, "hello");
	buf_free(&out);
	if (read_message(c, parse_hello_rest, NULL) != WP_OK ||
	    await_result(c) != 1)
		errx(2, "the daemon refused the connection");
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	buf_free(&c->in);
	c->fd = -1;
}

/* Whether the daemon parses path; a refusal costs the connection. */
static int
daemon_accepts(struct conn *c, const char *path)
{
	struct buf out = { 0 };
	uint64_t valid;

	if (c->fd == -1)
		conn_open(c);
	if (wp_put_is_valid_path(&out, path) == -1 ||
	    xio_write_all(c->fd, buf_head(&out), buf_used(&out)) == -1)
		err(2, "IsValidPath");
	buf_free(&out);
	if (await_result(c) == -1) {
		conn_close(c);
		return 0;
	}
	if (read_message(c, parse_u64, &valid) != WP_OK)
		errx(2, "the daemon broke the protocol");
	return 1;
}

/*
 * Whether keep-paths refuses input on purpose, by the rule of a supported
 * Nix version that is stricter than this daemon: a name starting with "."
 * (refused by some versions), or no "-" after the hash (Nix 2.8 does not
 * check it; later versions refuse it).  Returns the rule, or NULL.
 */
static const char *
stricter_by_design(const char *storedir, const char *input)
{
	size_t n = strlen(storedir);
	const char *rule = NULL, *base;
	char *canon;

	if ((canon = storepath_canon(input)) == NULL)
		return NULL;
	base = canon + n + 1;
	if (strncmp(canon, storedir, n) == 0 && canon[n] == '/' &&
	    strlen(base) > STOREPATH_HASH_LEN) {
		if (base[STOREPATH_HASH_LEN] != '-')
			rule = "no '-' after the hash";
		else if (base[STOREPATH_HASH_LEN + 1] == '.')
			rule = "a name starting with '.'";
	}
	free(canon);
	return rule;
}

int
main(int argc, char **argv)
{
	struct conn c = { -1, 0, { 0 } };
	char *line = NULL, *path, why[STOREPATH_WHY_MAX];
	size_t cap = 0, inputs = 0, accepted = 0, stricter = 0, breaches = 0;
	ssize_t len;
	int kp, daemon;

	if (argc != 3)
		errx(64, "usage: storepath-diff SOCKET STOREDIR <inputs");
	socket_path = argv[1];
	while ((len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (memchr(line, '\0', (size_t)len) != NULL || len == 0)
			continue;	/* no NUL can reach either */
		inputs++;
		path = NULL;
		kp = storepath_resolve(argv[2], line, &path, why,
		    sizeof(why)) == 0;
		daemon = daemon_accepts(&c, line);
		accepted += kp;
		if (kp && !daemon_accepts(&c, path)) {
			printf("BREACH: keep-paths sends %s for \"%s\", "
			    "the daemon refuses it\n", path, line);
			breaches++;
		}
		if (daemon && !kp) {
			if (stricter_by_design(argv[2], line) != NULL)
				stricter++;
			else {
				printf("BREACH: the daemon takes \"%s\", "
				    "keep-paths refuses it: %s\n", line, why);
				breaches++;
			}
		}
		free(path);
	}
	free(line);
	if (c.fd != -1)
		conn_close(&c);
	printf("inputs %zu, keep-paths accepted %zu, refused by keep-paths "
	    "by a later Nix's rule %zu, breaches %zu\n", inputs, accepted,
	    stricter, breaches);
	return breaches > 0;
}
