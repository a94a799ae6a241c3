/*
 * keep-paths: hold Nix store paths as temporary GC roots for exactly as
 * long as the parent's pipe is open (or a command runs).
 *
 * main reads options and config files, opens the store, queues the PATH
 * arguments as the first requests, and hands over to loop_run; it alone
 * turns failures into messages and exit statuses.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vis.h>

#include "conf.h"
#include "exitcode.h"
#include "loop.h"
#include "relay.h"
#include "setid.h"
#include "ssh_shim.h"
#include "sshcap.h"
#include "storepath.h"
#include "batch.h"
#include "store_open.h"
#include "xio.h"

struct options {
	const char	*stores[STORE_MAX]; /* --store, in order */
	int		 nstores;	/* 0: the config's store */
	long		 connect_timeout; /* seconds; -1: from the config */
	long		 store_timeout;	/* seconds; -1: from the config */
	const char	*config;	/* --config FILE */
	int		 quiet;		/* -1: from the config */
	long		 reconnect;	/* seconds, 0: off; -1: the config's */
	enum store_barrier barrier;	/* --barrier */
	int		 verbose;
	int		 print_store;
	int		 fd;
	char		**paths;
	int		 npaths;
	char		**command;	/* after "--", or NULL */
	int		 capture;	/* --capture */
	int		 hold;		/* --hold: capture until our fd ends */
	long		 capture_max;	/* -1: from the config */
	int		 print_roots;	/* --print-roots, or --json */
	int		 json;
};

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: %s [-hqvV] [--config FILE] [--connect-timeout TIME] [--fd N]\n"
"                  [--barrier WHEN] [--no-reconnect | --reconnect[=TIME]]\n"
"                  [--store STORE ...] [--store-timeout TIME]\n"
"                  [PATH ...] [-- COMMAND [ARG ...]]\n"
"       %s --capture [-v] [--capture-max N] [--print-roots | --json]\n"
"                  [--store STORE]\n"
"                  [PATH ...] (--hold | -- COMMAND [ARG ...])\n"
"       %s --print-store [--config FILE] [--store STORE ...]\n"
"\n"
"Hold Nix store paths as temporary GC roots until the parent's pipe closes.\n"
"Each PATH, then each line read from stdin (or fd N), gets one reply line:\n"
"  ok STOREPATH         rooted, and valid: not collected until released\n"
"  missing STOREPATH    rooted, but not valid (build it now: it is protected)\n"
"  error INPUT: REASON  nothing rooted for this line\n"
"A line \"drop PATH\" releases that root and keeps the others (daemon and\n"
"ssh-ng stores, make before break); its reply is \"dropped STOREPATH\".\n"
"EOF or hangup on the watched fd, or SIGTERM/SIGINT/SIGHUP, releases them.\n"
"With -- COMMAND, run COMMAND with the PATHs held, release when it exits.\n"
"With --capture, COMMAND's Nix clients reach the store through a private\n"
"daemon socket, and every store path they touch is held until it exits.\n"
"\n"
"  -q, --quiet          do not print \"ok\" and \"dropped\" replies\n"
"  -v, --verbose        say which store is used, and why, on stderr\n"
"      --fd N           read requests from, and watch, fd N instead of stdin\n"
"      --store STORE    auto (default): local if the state directory is\n"
"                       writable, else daemon; daemon; unix:///SOCKET;\n"
"                       local; local?root=/DIR&state=/DIR; /DIR (chroot);\n"
"                       ssh-ng://[USER@]HOST[:PORT][?remote-program=P&\n"
"                       remote-store=S&ssh-key=F&compress=B] (ssh runs\n"
"                       with $NIX_SSHOPTS); gcroots[?dir=/DIR]: also\n"
"                       durable session roots.  Given more than once\n"
"                       (at most 8), each path is rooted on every store\n"
"                       and gets one reply per store, naming it\n"
"      --barrier WHEN   always, auto or never: wait out a running garbage\n"
"                       collection after rooting, before the validity check\n"
"                       (daemon stores; auto: unless the daemon is Nix 2.35\n"
"                       or later, whose collector cannot lose such a root)\n"
"      --connect-timeout TIME\n"
"                       how long the store may take to answer at the\n"
"                       start, ssh's login included: 30s, 2m (default 30s)\n"
"      --reconnect[=TIME]\n"
"                       when a daemon connection drops, connect again,\n"
"                       trying for TIME (default 30s), and register every\n"
"                       root again; only roots collected meanwhile are\n"
"                       lost, each said with \"lost PATH\" (the default)\n"
"      --no-reconnect   a dropped daemon connection ends the session: \"lost\"\n"
"      --store-timeout TIME\n"
"                       end the session if the store stays silent this long\n"
"                       with requests unanswered (default: no limit; a\n"
"                       running garbage collection is waited for silently)\n"
"      --capture        serve COMMAND (NIX_REMOTE=unix://SOCKET) a daemon\n"
"                       socket relayed to the store; hold every store path\n"
"                       in its traffic (not for ssh-ng stores); and run\n"
"                       every ssh it starts here, holding on each host the\n"
"                       paths that cross to it (capture over ssh)\n"
"      --hold           with --capture and no COMMAND: print \"socket PATH\"\n"
"                       first, and capture until stdin (or fd N) closes\n"
"      --capture-max N  with --capture, hold at most N distinct paths\n"
"                       (default 100000); past it, say so and exit 75\n"
"      --print-roots    with --capture, at the end: \"ok PATH\" or\n"
"                       \"missing PATH\" for every path held, sorted; with\n"
"                       ssh hosts each line names its store (\"local\" or\n"
"                       the host), \"error PATH HOST\": not held there\n"
"      --json           the same, as one JSON object per line\n"
"      --print-store    print the store STORE chooses, and why, and exit\n"
"      --config FILE    read FILE after the system and user config files\n"
"  -h, --help           print this help and exit\n"
"  -V, --version        print the version and exit\n"
"\n"
"Exit status: 0 released; 64 usage; 65 a PATH was refused (COMMAND not run);\n"
"69 store unreachable; 71 system error; 74 request/reply channel error;\n"
"75 roots lost (or paths past --capture-max); 76 store protocol error;\n"
"77 run set-user-ID or set-group-ID (refused); 79 capture over ssh held\n"
"only part of what crossed to a host; with COMMAND, its status.\n"
"See keep-paths(1).\n", getprogname(), getprogname(), getprogname());
	exit(status);
}

/* The seconds of a --NAME TIME option, or a usage error. */
static long
timeout_arg(const char *name, const char *arg)
{
	long seconds = conf_parse_timeout(arg);

	if (seconds == -1)
		errx(KP_EXIT_USAGE, "--%s %s: not a duration from 1s to 1d",
		    name, arg);
	return seconds;
}

static enum store_barrier
barrier_arg(const char *arg)
{
	if (strcmp(arg, "auto") == 0)
		return STORE_BARRIER_AUTO;
	if (strcmp(arg, "always") == 0)
		return STORE_BARRIER_ALWAYS;
	if (strcmp(arg, "never") == 0)
		return STORE_BARRIER_NEVER;
	errx(KP_EXIT_USAGE, "--barrier %s: not always, auto or never", arg);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "barrier",	required_argument, NULL, 'B' },
		{ "capture",	no_argument,	   NULL, 'C' },
		{ "capture-max", required_argument, NULL, 'M' },
		{ "config",	required_argument, NULL, 'c' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ "fd",		required_argument, NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "hold",	no_argument,	   NULL, 'H' },
		{ "json",	no_argument,	   NULL, 'J' },
		{ "print-roots", no_argument,	   NULL, 'r' },
		{ "print-store", no_argument,	   NULL, 'P' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "no-reconnect", no_argument,	   NULL, 'N' },
		{ "reconnect",	optional_argument, NULL, 'R' },
		{ "store",	required_argument, NULL, 's' },
		{ "store-timeout", required_argument, NULL, 'T' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL,		0,		   NULL, 0 }
	};
	const char *errstr;
	int ch, i;

	memset(o, 0, sizeof(*o));
	o->quiet = -1;
	o->reconnect = -1;
	o->connect_timeout = -1;
	o->store_timeout = -1;
	o->capture_max = -1;
	/* "+": options end at the first PATH, so "--" keeps its place. */
	while ((ch = getopt_long(argc, argv, "+hqvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'B':
			o->barrier = barrier_arg(optarg);
			break;
		case 'C':
			o->capture = 1;
			break;
		case 'M':
			if ((o->capture_max = conf_parse_capture_max(optarg)) ==
			    -1)
				errx(KP_EXIT_USAGE, "--capture-max %s: not a "
				    "number from 1 to %d", optarg,
				    CONF_CAPTURE_MAX_MAX);
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'H':
			o->hold = 1;
			break;
		case 'J':
			o->json = o->print_roots = 1;
			break;
		case 'r':
			o->print_roots = 1;
			break;
		case 'f':
			o->fd = (int)strtonum(optarg, 0, INT_MAX, &errstr);
			if (errstr != NULL)
				errx(KP_EXIT_USAGE, "--fd %s: %s", optarg,
				    errstr);
			break;
		case 'h':
			usage(0);
			break;
		case 'P':
			o->print_store = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'N':
			o->reconnect = 0;
			break;
		case 'R':
			o->reconnect = optarg == NULL ? CONF_RECONNECT :
			    timeout_arg("reconnect", optarg);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 's':
			if (o->nstores == STORE_MAX)
				errx(KP_EXIT_USAGE, "--store: at most %d stores",
				    STORE_MAX);
			o->stores[o->nstores++] = optarg;
			break;
		case 'T':
			o->store_timeout = timeout_arg("store-timeout", optarg);
			break;
		case 't':
			o->connect_timeout = timeout_arg("connect-timeout",
			    optarg);
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
			exit(0);
		default:
			usage(KP_EXIT_USAGE);
		}
	}
	/* optind may sit just past a "--" that ended the options. */
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) {
		o->command = argv + optind;
		if (*o->command == NULL)
			errx(KP_EXIT_USAGE, "-- needs a COMMAND");
		return;
	}
	o->paths = argv + optind;
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			o->command = argv + i + 1;
			if (*o->command == NULL)
				errx(KP_EXIT_USAGE, "-- needs a COMMAND");
			break;
		}
	o->npaths = i - optind;
}

/* --capture's options come with it, and it with -- COMMAND or --hold. */
static void
check_capture_options(const struct options *o)
{
	if (!o->capture) {
		if (o->hold || o->print_roots || o->capture_max != -1)
			errx(KP_EXIT_USAGE, "--%s: only with --capture",
			    o->hold ? "hold" : o->json ? "json" :
			    o->print_roots ? "print-roots" : "capture-max");
		return;
	}
	if (o->hold && o->command != NULL)
		errx(KP_EXIT_USAGE, "--capture: --hold or -- COMMAND, not both");
	if (!o->hold && o->command == NULL)
		errx(KP_EXIT_USAGE, "--capture needs -- COMMAND, or --hold");
	if (o->nstores > 1)
		errx(KP_EXIT_USAGE, "--capture: one --store only");
}

/*
 * Opens capture mode's socket, and says how the command finds it: in
 * env (two NAME=VALUE strings, for the command only) and greeting.
 * Exits on failure, having closed the store.
 */
static struct relay *
open_relay(const struct options *o, const struct store_choice *c,
    const char *storedir, struct core *core, long capture_max,
    char *env[4], char **greeting)
{
	struct transport_target up;
	struct relay *relay;
	char msg[1024];

	if (store_choice_upstream(c, &up, msg, sizeof(msg)) == -1) {
		core_close(core);
		errx(errno == ENOMEM ? KP_EXIT_OSERR : KP_EXIT_USAGE,
		    "--capture: %s", msg);
	}
	relay = relay_open(storedir, &up, o->verbose, (size_t)capture_max,
	    msg, sizeof(msg));
	transport_target_free(&up);
	if (relay == NULL) {
		core_close(core);
		errx(KP_EXIT_OSERR, "%s", msg);
	}
	*greeting = NULL;
	if (asprintf(&env[0], "NIX_REMOTE=unix://%s", relay_socket(relay)) ==
	    -1 || asprintf(&env[1], "NIX_DAEMON_SOCKET_PATH=%s",
	    relay_socket(relay)) == -1 || (o->hold &&
	    asprintf(greeting, "socket %s", relay_socket(relay)) == -1))
		err(KP_EXIT_OSERR, NULL);
	if (o->verbose)
		warnx("capture: %s", relay_socket(relay));
	return relay;
}

/* The first "ssh" in PATH, absolute; NULL if none. */
static char *
find_ssh(void)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *next, file[PATH_MAX], *found = NULL;

	if (path == NULL || (copy = strdup(path)) == NULL)
		return NULL;
	for (dir = copy; dir != NULL && found == NULL; dir = next) {
		if ((next = strchr(dir, ':')) != NULL)
			*next++ = '\0';
		if (*dir == '/' && (size_t)snprintf(file, sizeof(file),
		    "%s/ssh", dir) < sizeof(file) && access(file, X_OK) == 0)
			found = strdup(file);
	}
	free(copy);
	return found;
}

/*
 * Capture over ssh: the command's PATH starts with the capture directory,
 * whose "ssh" leads back here (env[2]).  Without an ssh in PATH there is
 * nothing to capture.  Exits on failure.
 */
static struct sshcap *
open_sshcap(const struct options *o, const char *storedir, struct core *core,
    struct relay *relay, const struct settings *s, char *env[4])
{
	struct sshcap_config cfg;
	struct sshcap *cap;
	char self[PATH_MAX], msg[1024], *real_ssh;
	const char *path = getenv("PATH");
	ssize_t n;

	if ((real_ssh = find_ssh()) == NULL) {
		if (o->verbose)
			warnx("capture over ssh: no ssh in PATH");
		return NULL;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		err(KP_EXIT_OSERR, "/proc/self/exe");
	self[n] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	cfg.storedir = storedir;
	cfg.dir = relay_directory(relay, &cfg.dir_fd);
	cfg.real_ssh = real_ssh;
	cfg.self = self;
	cfg.core = core;
	cfg.reconnect_ms = s->reconnect * 1000;
	cfg.max_seen = (size_t)s->capture_max;
	cfg.verbose = o->verbose;
	cap = sshcap_open(&cfg, msg, sizeof(msg));
	free(real_ssh);
	if (cap == NULL)
		errx(KP_EXIT_OSERR, "capture over ssh: %s", msg);
	if (asprintf(&env[2], "PATH=%s%s%s", cfg.dir, path != NULL ? ":" : "",
	    path != NULL ? path : "") == -1)
		err(KP_EXIT_OSERR, NULL);
	return cap;
}

/*
 * A closed stdin, stdout or stderr would be reused by the next open():
 * replies could go to the daemon socket.  Park /dev/null there instead.
 */
static void
std_fds_open(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (!xio_fd_is_open(fd) &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(KP_EXIT_OSERR);
}

/* System file, user file, --config FILE; then the command line wins. */
static void
load_settings(const struct options *o, struct settings *s)
{
	char msg[512];

	if (conf_load(s, o->config, msg, sizeof(msg)) == -1)
		errx(KP_EXIT_USAGE, "%s", msg);
	if (o->quiet != -1)
		s->quiet = o->quiet;
	if (o->reconnect != -1)
		s->reconnect = o->reconnect;
	if (o->connect_timeout != -1)
		s->connect_timeout = o->connect_timeout;
	if (o->store_timeout != -1)
		s->store_timeout = o->store_timeout;
	if (o->capture_max != -1)
		s->capture_max = o->capture_max;
}

/* The stores: every --store, else the config's one. */
static int
choose_stores(struct options *o, const struct settings *s,
    struct store_choice *choices)
{
	char msg[STORE_ERROR_MAX];
	int i, gcroots = 0;

	if (o->nstores == 0)
		o->stores[o->nstores++] = s->store;
	for (i = 0; i < o->nstores; i++) {
		if (store_choose(o->stores[i], &choices[i], msg,
		    sizeof(msg)) == -1)
			errx(KP_EXIT_USAGE, "%s", msg);
		choices[i].barrier = o->barrier;
		if ((gcroots += choices[i].gcroots) > 1)
			errx(KP_EXIT_USAGE, "--store gcroots: only one per "
			    "session");
	}
	return o->nstores;
}

/* Opens every store; exits if any cannot be opened. */
static struct core *
open_stores(const struct options *o, const struct store_choice *choices,
    const char *storedir, const struct settings *s)
{
	struct store_open_opts so;
	struct core *core;
	char msg[STORE_ERROR_MAX];
	int status;

	so.reconnect_ms = s->reconnect * 1000;
	so.sweep_min_age = s->sweep_min_age;
	so.verbose = o->verbose;
	if ((core = store_open_all(choices, (char *const *)o->stores,
	    (size_t)o->nstores, storedir, &so, msg, sizeof(msg),
	    &status)) == NULL)
		errx(status, "%s", msg);
	return core;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct settings s;
	struct loop_config lc;
	struct batch initial = { NULL, 0, 0 };
	struct store_choice choices[STORE_MAX];
	struct core *core;
	struct relay *relay = NULL;
	struct sshcap *sshcap = NULL;
	char *storedir, *shown, *env[4] = { NULL, NULL, NULL, NULL };
	char *greeting = NULL;
	int i, n, status, signo = 0;

	std_fds_open();
	if (setid_elevated())
		errx(KP_EXIT_NOPERM, "refusing to run set-user-ID or "
		    "set-group-ID: the caller's environment would choose the "
		    "programs run and the directories removed");
	/* The capture directory's "ssh" (sshcap.h), not a user's call. */
	if (argc >= 3 && strcmp(argv[1], "--ssh-shim") == 0)
		return ssh_shim_main(argv[2], argc - 3, argv + 3);
	/* A reader that goes away is an error we report, not a death. */
	signal(SIGPIPE, SIG_IGN);
	parse_options(argc, argv, &o);
	check_capture_options(&o);
	load_settings(&o, &s);
	n = choose_stores(&o, &s, choices);
	if (o.print_store) {
		for (i = 0; i < n; i++)
			store_choice_print(stdout, &choices[i]);
		conf_free(&s);
		return fflush(stdout) == 0 ? KP_EXIT_OK : KP_EXIT_IO;
	}
	for (i = 0; i < n && o.verbose; i++) {
		fprintf(stderr, "%s: store: ", getprogname());
		store_choice_print(stderr, &choices[i]);
	}
	if (o.command == NULL && !xio_fd_is_open(o.fd))
		errx(KP_EXIT_USAGE, "fd %d is not open", o.fd);
	if ((storedir = store_dir_from_env()) == NULL)
		errx(KP_EXIT_USAGE, "NIX_STORE_DIR must be an absolute path");
	if (!storepath_dir_printable(storedir)) {
		if (stravis(&shown, storedir, VIS_OCTAL | VIS_CSTYLE |
		    VIS_NL | VIS_TAB | VIS_DQ) == -1)
			err(KP_EXIT_OSERR, NULL);
		errx(KP_EXIT_USAGE, "NIX_STORE_DIR %s: a control character, "
		    "'\"' or '\\' would break reply lines and JSON", shown);
	}
	for (i = 0; i < o.npaths; i++)
		if (batch_add(&initial, storedir, o.paths[i],
		    strlen(o.paths[i])) == -1)
			err(KP_EXIT_OSERR, NULL);
	core = open_stores(&o, choices, storedir, &s);
	if (o.capture)
		relay = open_relay(&o, &choices[0], storedir, core,
		    s.capture_max, env, &greeting);
	if (o.capture && o.command != NULL)
		sshcap = open_sshcap(&o, storedir, core, relay, &s, env);

	memset(&lc, 0, sizeof(lc));
	lc.relay = relay;
	lc.sshcap = sshcap;
	lc.command_env = relay != NULL ? env : NULL;
	lc.greeting = greeting;
	lc.print_roots = o.print_roots;
	lc.json = o.json;
	lc.parent_fd = o.fd;
	lc.quiet = s.quiet;
	lc.command = o.command;
	lc.storedir = storedir;
	lc.connect_timeout_ms = (int)s.connect_timeout * 1000;
	lc.store_timeout_ms = (int)s.store_timeout * 1000;
	status = loop_run(core, &initial, &lc, &signo);
	sshcap_close(sshcap);	/* its files are in the relay's directory */
	relay_close(relay);

	free(env[0]);
	free(env[1]);
	free(env[2]);
	free(greeting);
	batch_free(&initial);
	conf_free(&s);
	free(storedir);
	if (signo != 0) {
		/* Released; now end the way the signal asked. */
		signal(signo, SIG_DFL);
		raise(signo);
		status = 128 + signo;
	}
	return status;
}
