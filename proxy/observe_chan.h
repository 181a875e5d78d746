/* observe_chan: observe mode on a shell channel (`shell observe`).  Not a
 * boundary: the technician's keystrokes go to the target as typed; the
 * screen model (observe.h) reads each command back at Enter, and the proxy
 * decides it with the session's rules and records what it found.
 *
 * For every command read at an Enter, before that Enter is forwarded:
 *   - a DECISION event with VERDICT, COMMAND (the text read), RULE,
 *     RULE_LINE, REASON, POLICY_HASH, CMD_SEQ (1, 2, ... in the channel)
 *     and SHELL_MODE "observe" (a failed record ends the session, and the
 *     Enter is not forwarded);
 *   - allow: a log line (info);
 *   - deny or approve (no escort can approve in observe mode): a warning on
 *     the technician's terminal, written as CR LF and one line without a
 *     line end, so that the target's own newline for the Enter ends it and
 *     the command's output follows on the next row ("escort: warning: rule
 *     R (line N) denies this command; observe mode does not stop it; it is
 *     recorded"; without a pty, a line on stderr: stdout stays the shell's
 *     data); an alert in the proxy's log (warn) naming user, target,
 *     rule and command; and when the session's `observe-deny end` is set
 *     (pol_session.observe_end_on_deny) the session ends instead, with a
 *     message, before the Enter reaches the target (END kind "policy").
 * The target's output and the proxy's own words on the channel feed the
 * screen model.
 *
 * All functions run on the connection's loop (channel callbacks or
 * px__chan_step). */
#ifndef PX_OBSERVE_CHAN_H
#define PX_OBSERVE_CHAN_H

#include <stddef.h>
#include <stdint.h>

struct px_chan;

/* Spool room kept free for decision records: technician input on an
 * observe channel waits while the recorder cannot take its bytes and this. */
#define PX_OBS_RESERVE (16 * 1024)

/* Starts observe mode on a shell channel whose main request was allowed
 * (screen size from its pty request, 80x24 without one).  Returns PX_OK or
 * PX_ENOMEM. */
int px__observe_start(struct px_chan *ch);

/* The n bytes about to be relayed on ch (from px__chan_room): target output
 * (to_tech) is fed to the model; technician input is read for commands,
 * each decided and recorded (see above).  Returns the bytes that may go
 * now: n, or 0 when the session is ending (a record failed, or
 * `observe-deny end`). */
size_t px__observe_pass(struct px_chan *ch, int to_tech, const uint8_t *d, size_t n);

/* The technician's terminal was resized. */
void px__observe_resize(struct px_chan *ch, int cols, int rows);

/* Frees the channel's observe state (NULL-safe on channels without one). */
void px__observe_free(struct px_chan *ch);

#endif
