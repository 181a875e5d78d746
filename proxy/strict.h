/* strict: the filter on a shell channel under `shell strict`.
 *
 * The proxy never opens the target's interactive shell: after the
 * technician's pty-req it sends an exec of px__sb_command() (strict_boot.h),
 * which starts a bootstrap loop that runs only lines carrying this
 * session's nonce and the next command number.  The proxy owns the command
 * line: at the prompt the technician's keystrokes go to the line editor
 * (lineedit.h), never to the target; on Enter every line of the entry is
 * decided by the policy, every decision is recorded (DECISION with
 * CMD_SEQ and SHELL_MODE "strict"), and only when all lines are allowed
 * are they sent, one after the other, as the renderer rebuilt them.  While
 * a command runs the technician's bytes go to it as usual; the loop's
 * PROMPT marker (strict_marker.h) ends it: its EXIT (status, CMD_SEQ,
 * SHELL_MODE) is recorded and the proxy draws its own prompt.  States and
 * their transitions: strict_state.h.
 *
 * What the technician's terminal receives is what the recording's OUTPUT
 * holds: the target's output with the markers taken out, the proxy's echo,
 * prompts and messages.  Keystrokes are recorded as INPUT when taken.  The
 * lines sent to the target (nonce, run lines) are not INPUT: their
 * decisions, with the line sent (RENDERED), are in the recording first.
 *
 * A marker that does not fit (wrong nonce, wrong or repeated number, a
 * PROMPT while no command runs, a malformed marker, the nonce in the
 * output) means something ran or could run unchecked: a MARKER event says
 * what, the technician is told, and the session ends (END_KIND "policy").
 * No HELLO within STRICT_BOOT_MS, or the target closing before the first
 * prompt, refuses the session the same way: never a shell without checks.
 *
 * Ownership: ch->strict belongs to the channel (px__strict_free).  All
 * functions run on the connection's loop: px__strict_take from the channel's
 * data callbacks or px__chan_step, the rest from px__chan_step. */
#ifndef PX_STRICT_H
#define PX_STRICT_H

#include <stddef.h>
#include <stdint.h>

struct px_chan;
struct px_req;

#define STRICT_BOOT_MS 15000	/* HELLO must arrive within this */
#define STRICT_MODE "strict"	/* SHELL_MODE of the events */

/* Decides the shell request r of ch under `shell strict`: without a pty
 * the shell is refused (px__chan_local, recorded as a deny); otherwise the
 * allowed DECISION is recorded, the filter is started and r->sent is set
 * to px__sb_command(), which chan.c sends as an exec.  Returns 1 when the
 * request goes upstream, 0 when it was answered locally. */
int px__strict_decide(struct px_chan *ch, struct px_req *r);

/* Takes up to n bytes from the technician (from_tech) or the target's
 * stdout.  Returns the bytes taken (the rest stays in libssh's buffer);
 * never fewer than px__strict_room said it would take. */
size_t px__strict_take(struct px_chan *ch, int from_tech, const uint8_t *d, size_t n);

/* Bytes px__strict_take would take now from that side. */
size_t px__strict_room(struct px_chan *ch, int from_tech);

/* Does what is due: writes held bytes to both sides, records what waits
 * for the recorder, ends a session whose strict mode failed. */
void px__strict_step(struct px_chan *ch);

/* The technician's terminal is cols wide now (window-change). */
void px__strict_resize(struct px_chan *ch, int cols);

/* Bytes held toward the technician (to_tech) or the target. */
size_t px__strict_held(const struct px_chan *ch, int to_tech);

/* An escort's approve (approve=1) or deny (0, reason may be "") of the
 * command ch holds for approval, already recorded as the ESCORT event
 * (conn_escort.c): records the command's DECISION with APPROVER (allow, or
 * deny with REASON) and then runs it or tells the technician who denied it
 * and why.  Returns PX_OK, or PX_EINVAL when ch holds no such command. */
int px__strict_escort_decide(struct px_chan *ch, int approve, const char *escort, const char *reason);

/* Frees ch->strict (NULL allowed). */
void px__strict_free(struct px_chan *ch);

#endif
