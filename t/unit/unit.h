/*
 * unit: the C unit tests' few checks.  Each test program runs its cases
 * in main and exits 0 if every check held, 1 if not (automake's plain
 * test protocol); a failed check prints its file, line and expression.
 * They need no Nix: they run first in make check, in milliseconds.
 * unit.c has the definitions.
 */
#ifndef KP_UNIT_H
#define KP_UNIT_H

#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "core.h"
#include "store.h"

extern int unit_failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		unit_failures++;					\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *unit_g = (got), *unit_w = (want);			\
	if (unit_g == NULL || strcmp(unit_g, unit_w) != 0) {		\
		fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n",	\
		    __FILE__, __LINE__, #got,				\
		    unit_g != NULL ? unit_g : "(null)", unit_w);	\
		unit_failures++;					\
	}								\
} while (0)

/* Runs one case, naming it on stdout. */
#define RUN(name) do {							\
	int unit_before = unit_failures;				\
	name();								\
	printf("%s %s\n", unit_failures == unit_before ? "ok" :	\
	    "FAILED", #name);						\
} while (0)

#define UNIT_DONE()	(unit_failures == 0 ? 0 : 1)

/*
 * The reply lines of b's requests that have one of their own (reply and
 * why), from store (NULL: none named), in order (static storage).
 */
const char *unit_replies(const struct batch *, const char *store,
	    int quiet);

/* The reply lines of the batch c is done with, in order (static storage). */
const char *unit_core_replies(const struct core *, const struct batch *,
	    int quiet);

/* A core of the one store s, or of stores s[0..n) labelled labels[i]. */
struct core *unit_core(struct store *s);
struct core *unit_cores(struct store **s, const char *const *labels,
	    size_t n);

/*
 * Starts b on c (core_start) and turns its handle, all fds quiet, until
 * it is no longer busy; returns its status (STORE_BUSY after 10 turns).
 */
int	unit_run(struct core *, struct batch *);
/* The same for the batch c has in flight. */
int	unit_finish(struct core *);

#endif
