/*
 * setid: both programs refuse to run with privileges they were given
 * rather than started with.
 */
#ifndef KP_SETID_H
#define KP_SETID_H

/*
 * Is this process set-user-ID, set-group-ID or otherwise started with
 * more privilege than its caller (AT_SECURE: file capabilities too)?
 * Such a caller chooses the environment (PATH, NIX_SSHOPTS, NIX_CONFIG,
 * XDG_RUNTIME_DIR), and with it the programs keep-paths runs and the
 * directories it removes.  Returns 1 if so, else 0.
 */
int	setid_elevated(void);

#endif
