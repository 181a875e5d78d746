/* chan_pwmask: channel data recorded through the password-prompt
 * recogniser (contract in chan_pwmask.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/policy.h"
#include "recorder/event.h"
#include "proxy/chan.h"
#include "proxy/chan_pwmask.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/pwmask.h"
#include "proxy/px_error.h"

/* Whether input on ch is masked at password prompts. */
static int
pwmask_applies(const struct px_chan *ch)
{
	const struct pol_session *s = px__conn_session(ch->c);

	return ch->pty && ch->sftp == NULL && ch->scp == NULL && ch->kind != KIND_SUBSYSTEM &&
	    s != NULL && !s->record_passwords;
}

/* The end of a masked answer: a marker in the recording, a log line; both
 * name only the number of bytes. */
static void
pwmask_ended(struct px_chan *ch, const struct pwm_event *ev)
{
	char text[96];

	if (ev->ended == PWM_END_NONE || ev->masked == 0)
		return;
	snprintf(text, sizeof(text), "input masked at a password prompt (%" PRIu64 " bytes)", ev->masked);
	px_log(PX_LOG_INFO, px__conn_id(ch->c), "channel %" PRIu32 ": %s; ended by %s", ch->id, text,
	    px__pwm_end_name(ev->ended));
	(void)px__conn_record_fields(ch->c, EV_MARKER, ch->id, EVF_TEXT, text, 0);
}

int
px__chan_pwmask_record(struct px_chan *ch, uint16_t type, const uint8_t *data, size_t n)
{
	static __thread uint8_t tmp[PX_CHUNK];
	struct pwm_event ev;
	uint8_t *rec;
	int rc;

	if (!pwmask_applies(ch))
		return px__conn_record(ch->c, type, ch->id, data, n);
	if (ch->pwm == NULL && (ch->pwm = px__pwm_new()) == NULL) {
		px_log(PX_LOG_ERR, px__conn_id(ch->c), "out of memory for the password-prompt recogniser; ending session");
		px__conn_end(ch->c, "\r\nescort: proxy out of memory\r\n");
		return PX_ENOMEM;
	}
	if (type != EV_INPUT) {
		px__pwm_output(ch->pwm, data, n, &ev);
		pwmask_ended(ch, &ev);
		return px__conn_record(ch->c, type, ch->id, data, n);
	}
	rec = n <= sizeof(tmp) ? tmp : malloc(n);
	if (rec == NULL) {
		px_log(PX_LOG_ERR, px__conn_id(ch->c), "out of memory masking input; ending session");
		px__conn_end(ch->c, "\r\nescort: proxy out of memory\r\n");
		return PX_ENOMEM;
	}
	(void)px__pwm_input(ch->pwm, data, n, rec, &ev);
	rc = px__conn_record(ch->c, type, ch->id, rec, n);
	if (rec != tmp)
		free(rec);
	if (rc == PX_OK)
		pwmask_ended(ch, &ev);
	return rc;
}

void
px__chan_pwmask_forget(struct px_chan *ch)
{
	if (ch->pwm != NULL)
		px__pwm_forget_line(ch->pwm);
}
