/*
 * keep-paths-sweep: remove stale session directories, never the caller's.
 *
 * main reads options and the [sweep] section of the config files, learns
 * the caller's own sessions (--self, KEEP_PATHS_SESSION) by device and
 * inode, sweeps each ROOT (sweep.c), and prints one line or JSON object
 * per entry and a summary.
 */
#include "config.h"

#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <vis.h>

#include "conf.h"
#include "setid.h"
#include "sweep.h"

/* Exit statuses: tell "all fine", "some kept as unknown", "errors". */
#define SWEEP_EXIT_OK		0
#define SWEEP_EXIT_ERRORS	1
#define SWEEP_EXIT_UNKNOWN	2

#define SELF_MAX		64

struct output {
	int			 json;
	int			 verbose;
	unsigned long		 count[SWEEP_NDECISIONS];
	unsigned long long	 bytes;
};

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: %s [-hnvV] [--config FILE] [--json] [--min-age DURATION]\n"
"                        [--self DIR] ROOT ...\n"
"\n"
"Remove the stale session directories under each ROOT: those whose owner\n"
"no longer holds their flock(2) lock.  The caller's own session (--self,\n"
"and KEEP_PATHS_SESSION) is always kept, whatever its lock says.\n"
"\n"
"  -n, --dry-run          change nothing; say what would be deleted\n"
"      --json             one JSON object per entry, then a summary\n"
"      --min-age DURATION never touch younger entries (30s, 10m, 2h, 1d;\n"
"                         default 5m)\n"
"      --self DIR         the caller's own session (repeatable)\n"
"      --config FILE      read FILE after the system and user config files\n"
"  -v, --verbose          also list the sessions kept alive, young or own\n"
"  -h, --help             print this help and exit\n"
"  -V, --version          print the version and exit\n"
"\n"
"Exit status: 0 all fine; 1 errors; 2 some kept because their liveness is\n"
"unknown; 64 usage; 77 run set-user-ID or set-group-ID (refused).\n"
"See keep-paths-sweep(1).\n", getprogname());
	exit(status);
}

/* Paths may hold any byte: shown vis(3)-encoded, one line each. */
static char *
visible(const char *root, const char *name)
{
	char *raw, *out;

	if (asprintf(&raw, "%s%s%s", root, name ? "/" : "", name ? name : "")
	    == -1)
		err(EX_OSERR, NULL);
	if (stravis(&out, raw, VIS_OCTAL | VIS_CSTYLE | VIS_NL | VIS_TAB)
	    == -1)
		err(EX_OSERR, NULL);
	free(raw);
	return out;
}

/* A vis-encoded string is printable ASCII: only \ and " need escaping. */
static void
print_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void
on_entry(const struct sweep_entry *e, void *arg)
{
	struct output *out = arg;
	char *path = visible(e->root, e->name), *reason;

	out->count[e->decision]++;
	if (e->decision == SWEEP_DELETED)
		out->bytes += e->bytes;
	if (stravis(&reason, e->reason, VIS_OCTAL | VIS_CSTYLE | VIS_NL |
	    VIS_TAB) == -1)
		err(EX_OSERR, NULL);
	if (out->json) {
		printf("{\"path\":");
		print_json_string(path);
		printf(",\"decision\":\"%s\",\"reason\":",
		    sweep_decision_name(e->decision));
		print_json_string(reason);
		printf(",\"bytes\":%llu}\n", e->bytes);
	} else if (out->verbose || e->decision == SWEEP_DELETED ||
	    e->decision == SWEEP_KEPT_UNKNOWN ||
	    e->decision == SWEEP_NOT_A_SESSION || e->decision == SWEEP_ERROR) {
		printf("%s %s: %s", sweep_decision_name(e->decision), path,
		    reason);
		if (e->decision == SWEEP_DELETED)
			printf(" (%llu bytes)", e->bytes);
		putchar('\n');
	}
	free(reason);
	free(path);
}

static void
print_summary(const struct output *out)
{
	int d;

	if (out->json) {
		printf("{\"summary\":{");
		for (d = 0; d < SWEEP_NDECISIONS; d++)
			printf("\"%s\":%lu,", sweep_decision_name(d),
			    out->count[d]);
		printf("\"bytes\":%llu}}\n", out->bytes);
		return;
	}
	printf("summary:");
	for (d = 0; d < SWEEP_NDECISIONS; d++)
		printf(" %lu %s%s", out->count[d], sweep_decision_name(d),
		    d + 1 < SWEEP_NDECISIONS ? "," : "");
	printf("; %llu bytes freed\n", out->bytes);
}

/* A session of the caller's, by device and inode (symlinks followed). */
static int
add_self(struct sweep_self *selves, size_t *n, const char *dir, int strict)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		if (strict)
			err(EX_USAGE, "--self %s", dir);
		warn("KEEP_PATHS_SESSION=%s: not kept by identity", dir);
		return 0;
	}
	if (*n == SELF_MAX)
		errx(EX_USAGE, "--self: at most %d", SELF_MAX);
	selves[*n].dev = st.st_dev;
	selves[*n].ino = st.st_ino;
	(*n)++;
	return 0;
}

struct cli {
	const char		*config;
	long			 min_age;	/* -1: from the config */
	struct sweep_self	 selves[SELF_MAX];
	struct sweep_options	 o;
	struct output		 out;
};

static void
parse_options(int argc, char **argv, struct cli *c)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dry-run",	no_argument,	   NULL, 'n' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "min-age",	required_argument, NULL, 'a' },
		{ "self",	required_argument, NULL, 's' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL,		0,		   NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "hnvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if ((c->min_age = conf_parse_duration(optarg)) == -1)
				errx(EX_USAGE, "--min-age %s: not a duration "
				    "(30s, 10m, 2h, 1d)", optarg);
			break;
		case 'c':
			c->config = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'j':
			c->out.json = 1;
			break;
		case 'n':
			c->o.dry_run = 1;
			break;
		case 's':
			add_self(c->selves, &c->o.nselves, optarg, 1);
			break;
		case 'v':
			c->out.verbose = 1;
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
			exit(0);
		default:
			usage(EX_USAGE);
		}
	}
	if (optind == argc)
		usage(EX_USAGE);
}

int
main(int argc, char **argv)
{
	static struct cli c;
	struct settings s;
	const char *env;
	char msg[512];
	int i;

	if (setid_elevated())
		errx(EX_NOPERM, "refusing to run set-user-ID or set-group-ID: "
		    "the caller would choose what root removes");
	c.min_age = -1;
	parse_options(argc, argv, &c);
	if ((env = getenv("KEEP_PATHS_SESSION")) != NULL && *env != '\0')
		add_self(c.selves, &c.o.nselves, env, 0);
	if (conf_load(&s, c.config, msg, sizeof(msg)) == -1)
		errx(EX_USAGE, "%s", msg);
	c.o.min_age = c.min_age != -1 ? c.min_age : s.sweep_min_age;
	c.o.selves = c.selves;
	c.o.report = on_entry;
	c.o.arg = &c.out;
	for (i = optind; i < argc; i++)
		sweep_root(argv[i], &c.o);
	print_summary(&c.out);
	conf_free(&s);
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");
	if (c.out.count[SWEEP_ERROR] > 0)
		return SWEEP_EXIT_ERRORS;
	return c.out.count[SWEEP_KEPT_UNKNOWN] > 0 ? SWEEP_EXIT_UNKNOWN :
	    SWEEP_EXIT_OK;
}
