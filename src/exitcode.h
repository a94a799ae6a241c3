/*
 * exitcode: keep-paths' exit statuses, as listed in keep-paths(1) EXIT
 * STATUS.  Where sysexits(3) has a fitting value, it is used.
 */
#ifndef KP_EXITCODE_H
#define KP_EXITCODE_H

#include <sysexits.h>

#define KP_EXIT_OK		0
#define KP_EXIT_USAGE		EX_USAGE	/* 64: bad option or config */
#define KP_EXIT_REFUSED		EX_DATAERR	/* 65: -- COMMAND not run */
#define KP_EXIT_UNREACHABLE	EX_UNAVAILABLE	/* 69: store unreachable */
#define KP_EXIT_OSERR		EX_OSERR	/* 71: out of memory, fork */
#define KP_EXIT_IO		EX_IOERR	/* 74: request or reply channel */
#define KP_EXIT_LOST		EX_TEMPFAIL	/* 75: roots lost */
#define KP_EXIT_PROTOCOL	EX_PROTOCOL	/* 76: the store broke protocol */
#define KP_EXIT_NOPERM		EX_NOPERM	/* 77: run set-user/group-ID */
#define KP_EXIT_PARTIAL		79		/* capture over ssh held only
						   part of what crossed */
#define KP_EXIT_NOEXEC		126		/* COMMAND cannot run */
#define KP_EXIT_NOTFOUND	127		/* COMMAND not found */

#endif
