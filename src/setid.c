/*
 * setid: telling a set-ID start from a plain one.
 */
#include "config.h"

#include <unistd.h>
#ifdef HAVE_SYS_AUXV_H
#include <sys/auxv.h>
#endif

#include "setid.h"

int
setid_elevated(void)
{
#if defined(HAVE_SYS_AUXV_H) && defined(AT_SECURE)
	/* The kernel's own verdict: set-ID bits, file capabilities, LSMs. */
	if (getauxval(AT_SECURE) != 0)
		return 1;
#endif
	return getuid() != geteuid() || getgid() != getegid();
}
