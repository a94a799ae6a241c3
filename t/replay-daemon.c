/*
 * replay-daemon: a stand-in Nix daemon for protocol conformance tests.
 *
 *	replay-daemon SOCKET SCRIPT
 *
 * Listens on SOCKET, takes one connection, and plays SCRIPT, one step a
 * line:
 *	< HEX ... [# label]	the bytes the client must send next
 *	> HEX ... [# label]	bytes to send to the client
 *	close			hang up, as a daemon does after some errors
 * Lines starting with '#' and blank lines are ignored.  After the last
 * step it waits for the client to close.  Any difference between what the
 * client sends and what the script expects is printed with the client
 * stream offset, the label of the step, and both byte strings, and the
 * exit status is 1.  It stands in only for daemon versions no real daemon
 * on the test machine provides; the real Nix daemon is the main test peer.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a client may take to send what a step expects. */
#define STEP_TIMEOUT_MS	10000

static size_t client_off;	/* bytes read from the client so far */

static size_t
parse_hex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int byte;
	int used;

	while (n < max && sscanf(s, " %2x%n", &byte, &used) == 1) {
		out[n++] = (unsigned char)byte;
		s += used;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '#' || *s == '\0')
			break;
	}
	return n;
}

static void
hexdump(const char *what, const unsigned char *p, size_t n)
{
	size_t i;

	fprintf(stderr, "replay:   %-8s", what);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\n");
}

/* Reads exactly n bytes, or reports what the client did instead. */
static int
read_expected(int fd, const unsigned char *want, size_t n, const char *label)
{
	unsigned char got[4096];
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		if (poll(&pfd, 1, STEP_TIMEOUT_MS) == 0) {
			fprintf(stderr, "replay: client sent nothing for %d s at "
			    "client offset 0x%zx, expected %s\n",
			    STEP_TIMEOUT_MS / 1000, client_off + have, label);
			hexdump("expected", want, n);
			hexdump("got", got, have);
			return -1;
		}
		if ((r = read(fd, got + have, n - have)) <= 0) {
			fprintf(stderr, "replay: client closed at client offset "
			    "0x%zx, expected %s\n", client_off + have, label);
			hexdump("expected", want, n);
			hexdump("got", got, have);
			return -1;
		}
		have += (size_t)r;
	}
	if (memcmp(got, want, n) != 0) {
		fprintf(stderr, "replay: client bytes differ at client offset "
		    "0x%zx, in %s\n", client_off, label);
		hexdump("expected", want, n);
		hexdump("got", got, n);
		return -1;
	}
	client_off += n;
	return 0;
}

/* After the script: the client may only close. */
static int
expect_eof(int fd)
{
	unsigned char extra[64];
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t r;

	if (poll(&pfd, 1, 60000) == 0) {
		fprintf(stderr, "replay: client did not close after the "
		    "script\n");
		return -1;
	}
	if ((r = read(fd, extra, sizeof(extra))) > 0) {
		fprintf(stderr, "replay: client sent more than the script "
		    "expects, at client offset 0x%zx\n", client_off);
		hexdump("got", extra, (size_t)r);
		return -1;
	}
	return 0;
}

static int
play(int fd, FILE *script)
{
	char line[16384], *label;
	unsigned char bytes[4096];
	size_t n;

	while (fgets(line, sizeof(line), script) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (strcmp(line, "close") == 0)
			return 0;
		if ((line[0] != '<' && line[0] != '>') ||
		    (n = parse_hex(line + 1, bytes, sizeof(bytes))) == 0)
			errx(2, "bad script line: %s", line);
		label = strchr(line, '#');
		label = label ? label + 1 : line;
		while (*label == ' ')
			label++;
		if (line[0] == '<' && read_expected(fd, bytes, n, label) == -1)
			return -1;
		if (line[0] == '>' && write(fd, bytes, n) != (ssize_t)n)
			err(1, "write");
	}
	return expect_eof(fd);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	FILE *script;
	int lfd, fd, rc;

	if (argc != 3)
		errx(2, "usage: replay-daemon SOCKET SCRIPT");
	signal(SIGPIPE, SIG_IGN);
	if ((script = fopen(argv[2], "r")) == NULL)
		err(2, "%s", argv[2]);
	/*
	 * Bound under another name and renamed once listening: the test
	 * connects as soon as SOCKET exists, and a socket bound but not yet
	 * listening refuses it.
	 */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.new",
	    argv[1]) >= (int)sizeof(sun.sun_path))
		errx(2, "%s: socket path too long", argv[1]);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 1) == -1 || rename(sun.sun_path, argv[1]) == -1)
		err(2, "%s", argv[1]);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		err(2, "accept");
	rc = play(fd, script);
	close(fd);
	close(lfd);
	unlink(argv[1]);
	return rc == 0 ? 0 : 1;
}
