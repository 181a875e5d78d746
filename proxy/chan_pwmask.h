/* chan_pwmask: a channel's data recorded through its password-prompt
 * recogniser (pwmask.h).
 *
 * Applies to every channel with a pty that is not a file transfer (plain
 * shell, observe and strict shells, exec with -t), unless the session's
 * policy says `passwords record` (pol_session.record_passwords).  There the
 * keystrokes answering a recognised password prompt are recorded as an
 * INPUT event of the same length in which each masked byte is '*' (the
 * Enter ending the answer is kept), and once the answer ended, an EV_MARKER
 * "input masked at a password prompt (N bytes)" follows, with a log line
 * that names no content.  The bytes sent to the target are never changed.
 * Elsewhere data is recorded as is.
 *
 * The recogniser (ch->pwm) is created on the channel's first data and freed
 * with the channel (px__chan_free). */
#ifndef PX_CHAN_PWMASK_H
#define PX_CHAN_PWMASK_H

#include <stddef.h>
#include <stdint.h>

struct px_chan;

/* Records n bytes of ch as an event of type EV_INPUT, EV_OUTPUT or
 * EV_STDERR, as px__conn_record does (same returns: PX_OK, PX_EFULL,
 * PX_ERECORDER), masking input at password prompts as described above.
 * PX_ENOMEM when the recogniser or a copy could not be allocated (the
 * session is then ended: nothing is recorded unmasked against the
 * policy).  Markers are recorded with px__conn_record_fields (a failure
 * ends the session). */
int px__chan_pwmask_record(struct px_chan *ch, uint16_t type, const uint8_t *data, size_t n);

/* What the channel showed so far is not a prompt: for a caller that draws
 * its own prompt and echo on the technician's terminal without
 * px__chan_emit (strict mode's line editor). */
void px__chan_pwmask_forget(struct px_chan *ch);

#endif
