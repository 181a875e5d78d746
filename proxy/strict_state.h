/* strict_state: the states of a strict-mode shell channel (strict.h) as an
 * explicit machine, in the manner of chan_state.h: one setter checks every
 * change against a table, logs it (debug level) and refuses any other
 * (error level, naming the channel and both states; the state is kept).
 *
 *   BOOT       the exec of px__sb_command() was sent after pty-req; waiting for
 *              the HELLO marker (at most STRICT_BOOT_MS); technician input
 *              is held
 *   NONCE      the nonce line was sent; waiting for PROMPT seq 0
 *   PROMPT     the proxy's prompt is shown: keystrokes go to the line
 *              editor, never to the target
 *   DECIDING   an entry (one or more lines) was submitted: every line is
 *              decided by the policy before anything of it runs
 *   APPROVING  a one-line entry the policy says `approve` for, in a
 *              supervised session, waits for an escort's approve or deny
 *              (strict_approve.c), a timeout or the technician's Ctrl-C;
 *              other keystrokes are dropped
 *   RECORDING  the decisions go to the recorder; the first line is sent
 *              only once every decision of the entry is recorded
 *   RUNNING    command number seq runs: keystrokes go to it (recorded as
 *              usual), its output goes through the marker scanner; the
 *              PROMPT marker of seq ends it.  A multi-line entry runs its
 *              lines one after the other (RUNNING -> RUNNING)
 *   ENDED      the shell was told to exit (Ctrl-D), or strict mode failed
 *              or detected an attack: nothing more is decided or sent
 *
 *   BOOT -> NONCE | ENDED            NONCE -> PROMPT | ENDED
 *   PROMPT -> DECIDING | ENDED       DECIDING -> RECORDING | PROMPT | APPROVING | ENDED
 *   APPROVING -> RECORDING | ENDED
 *   RECORDING -> RUNNING | PROMPT | ENDED
 *   RUNNING -> RUNNING | PROMPT | ENDED
 * RUNNING is reachable only through RECORDING (or RUNNING): no line reaches
 * the target before its decision is in the recording. */
#ifndef PX_STRICT_STATE_H
#define PX_STRICT_STATE_H

#include <stdint.h>

enum strict_state {
	STRICT_BOOT, STRICT_NONCE, STRICT_PROMPT, STRICT_DECIDING, STRICT_RECORDING,
	STRICT_RUNNING, STRICT_ENDED, STRICT_APPROVING, STRICT_NSTATES
};

/* 1 when the table allows from -> to, else 0 (also out of range). */
int px__strict_state_allowed(enum strict_state from, enum strict_state to);

/* "boot", "nonce", ...; "?" when out of range.  Static strings. */
const char *px__strict_state_name(enum strict_state s);

/* Changes *st to `to` when the table allows it and logs it at debug level
 * under conn_id (may be NULL) and channel chan with why (may be NULL);
 * otherwise logs an error and leaves *st.  Returns PX_OK or PX_EINVAL. */
int px__strict_set_state(enum strict_state *st, enum strict_state to, const char *conn_id,
    uint32_t chan, const char *why);

#endif
