/* strict: the strict-mode shell filter on a channel (strict.h): the boot,
 * the markers, the technician's keystrokes and both sides' bytes.  The
 * entry's decisions are in strict_entry.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>
#include <uv.h>

#include "common/buf.h"
#include "policy/policy.h"
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/lineedit.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/strict.h"
#include "proxy/strict_boot.h"
#include "proxy/strict_int.h"
#include "proxy/strict_marker.h"
#include "proxy/timer1.h"

int
px__strict_set(struct px_strict *s, enum strict_state to, const char *why)
{
	return px__strict_set_state(&s->st, to, px__conn_id(s->ch->c), s->ch->id, why);
}

/* ---- lifecycle -------------------------------------------------------------- */

static void
boot_deadline(uv_timer_t *t)
{
	struct px_strict *s = t->data;

	if (s == NULL)
		return;
	s->timed_out = 1;
	px__conn_step(s->ch->c);
}

void
px__strict_free(struct px_chan *ch)
{
	struct px_strict *s = ch->strict;

	if (s == NULL)
		return;
	px__timer1_stop(&s->timer);
	px__strict_approve_drop(s);
	px__strict_entry_clear(s);
	px__le_free(s->le);
	px__sm_free(s->sm);
	buf_free(&s->to_tech);
	buf_free(&s->to_target);
	buf_free(&s->tin);
	buf_free(&s->boot_out);
	buf_free(&s->entry);
	free(s->fail_msg);
	free(s->fail_why);
	free(s);
	ch->strict = NULL;
}

static int
strict_new(struct px_chan *ch)
{
	struct px_strict *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return PX_ENOMEM;
	s->ch = ch;
	s->st = STRICT_BOOT;
	s->cols = 80;
	for (const struct px_req *r = ch->rq; r != NULL; r = r->next)
		if ((r->kind == REQ_PTY || r->kind == REQ_WINCH) && r->cols > 0)
			s->cols = r->cols;	/* the terminal's width, as the pty request gave it */
	buf_init(&s->to_tech, 0);
	buf_init(&s->to_target, 0);
	buf_init(&s->tin, 0);
	buf_init(&s->boot_out, 240);
	buf_init(&s->entry, STRICT_ENTRY_MAX);
	snprintf(s->pwd, sizeof(s->pwd), "~");
	ch->strict = s;
	if ((s->le = px__le_new(SB_LINE_MAX * 4, s->cols)) == NULL || (s->sm = px__sm_new()) == NULL ||
	    px__timer1_start(&s->timer, px__conn_loop(ch->c), boot_deadline, s, STRICT_BOOT_MS) != PX_OK) {
		px__strict_free(ch);
		return PX_ENOMEM;
	}
	return PX_OK;
}

/* Records the decision on the shell request itself. */
static int
record_shell(struct px_chan *ch, const char *verdict, const char *reason)
{
	struct px_conn *c = ch->c;
	const struct pol_session *ps = px__conn_session(c);
	struct buf b;
	int built, rc;

	buf_init(&b, EV_PAYLOAD_MAX);
	built = ev_fields_put_str(&b, EVF_VERDICT, verdict);
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_COMMAND, "(shell)");
	if (built == REC_OK && ps->rule_names != NULL)
		built = ev_fields_put_str(&b, EVF_RULE, ps->rule_names);
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_REASON, reason);
	if (built == REC_OK && px__conn_policy(c) != NULL)
		built = ev_fields_put_str(&b, EVF_POLICY_HASH, policy_hash(px__conn_policy(c)));
	rc = px__conn_record_or_end(c, EV_DECISION, ch->id, buf_ptr(&b), buf_len(&b), built);
	buf_free(&b);
	return rc;
}

int
px__strict_decide(struct px_chan *ch, struct px_req *r)
{
	struct px_conn *c = ch->c;

	if (!ch->pty) {
		record_shell(ch, "deny", "shell strict needs a terminal (no pty was requested)");
		px_log(PX_LOG_INFO, px__conn_id(c), "strict shell refused for %s on %s: no pty", px__conn_user(c),
		    px__conn_target(c));
		px__chan_local(ch, "escort: this target allows interactive shells only in strict mode, which "
		    "needs a terminal: connect with ssh -t, or run commands with ssh USER:TARGET@proxy COMMAND\n",
		    0, 1);
		return 0;
	}
	free(r->sent);
	if (strict_new(ch) != PX_OK || (r->sent = px__sb_command()) == NULL) {
		px__chan_local(ch, "escort: out of memory\r\n", 0, 1);
		return 0;
	}
	if (record_shell(ch, "allow", "shell strict: every line is decided before it runs") != PX_OK) {
		px__chan_local(ch, "escort: the decision could not be recorded; the request was not run\r\n", 0, 1);
		return 0;
	}
	px_log(PX_LOG_INFO, px__conn_id(c), "strict shell for %s on %s: starting the bootstrap", px__conn_user(c),
	    px__conn_target(c));
	return 1;
}

/* ---- failures ------------------------------------------------------------------ */

void
px__strict_fail(struct px_strict *s, const char *why, const char *msg)
{
	if (s->fail_msg != NULL)
		return;
	s->fail_why = strdup(why);
	s->fail_msg = strdup(msg);
	if (s->fail_why == NULL || s->fail_msg == NULL) {
		free(s->fail_why);
		free(s->fail_msg);
		s->fail_why = strdup("strict mode failed (out of memory)");
		s->fail_msg = strdup("\r\nescort: strict mode failed; this session is ended\r\n");
	}
	if (s->st != STRICT_ENDED)
		px__strict_set(s, STRICT_ENDED, why);
	buf_reset(&s->to_target);	/* nothing more reaches the loop */
	buf_reset(&s->tin);
	px__timer1_stop(&s->timer);
}

/* Something ran or could run unchecked. */
static void
attack(struct px_strict *s, const char *what)
{
	char why[400], msg[512];

	snprintf(why, sizeof(why), "strict mode: %s; something may have run unchecked", what);
	snprintf(msg, sizeof(msg), "\r\nescort: %s; a command may have run unchecked, so this session is "
	    "ended\r\n", what);
	px__strict_fail(s, why, msg);
}

/* The output before HELLO, printable, for a refusal message. */
static void
boot_detail(struct px_strict *s, char *out, size_t cap)
{
	size_t len, n = 0, i;
	const uint8_t *p = buf_peek(&s->boot_out, &len);

	for (i = 0; i < len && n + 1 < cap; i++) {
		uint8_t b = p[i];
		if (b == '\r' || b == '\n' || b == '\t')
			b = ' ';
		if (b < 0x20 || b == 0x7f)
			continue;
		if (b == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = (char)b;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static void
boot_fail(struct px_strict *s, const char *what)
{
	char detail[240], why[600], msg[800];
	const char *target = px__conn_target(s->ch->c);

	boot_detail(s, detail, sizeof(detail));
	snprintf(why, sizeof(why), "strict mode could not be set up on %s (%s%s%s)", target ? target : "?",
	    what, detail[0] ? "; the target said: " : "", detail);
	snprintf(msg, sizeof(msg), "\r\nescort: %s; this session is refused\r\n", why);
	px__strict_fail(s, why, msg);
}

/* Ends the session after a failure: MARKER, END cause, message. */
static void
fail_now(struct px_strict *s)
{
	struct px_chan *ch = s->ch;
	struct px_conn *c = ch->c;

	s->fail_done = 1;
	px_log(PX_LOG_WARN, px__conn_id(c), "%s; ending session", s->fail_why);
	(void)px__conn_record_fields(c, EV_MARKER, ch->id, EVF_TEXT, s->fail_why, 0);
	px__conn_set_end(c, EV_END_POLICY, s->fail_why);
	px__chan_abort(ch, s->fail_msg);
	px__conn_end(c, s->fail_msg);
}

/* ---- writes ------------------------------------------------------------------- */

/* Appends text for the technician. */
int
px__strict_say(struct px_strict *s, const char *text)
{
	if (buf_put(&s->to_tech, text, strlen(text)) != 0) {
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return PX_ENOMEM;
	}
	return PX_OK;
}

/* Writes what the technician's window takes now, recorded as OUTPUT. */
void
px__strict_flush_tech(struct px_strict *s)
{
	size_t len, k;
	const uint8_t *p;

	while ((p = buf_peek(&s->to_tech, &len)), len > 0) {
		if ((k = px__chan_room(s->ch, 1, len)) == 0)
			return;
		px__chan_emit(s->ch, 1, p, k, 0);
		buf_consume(&s->to_tech, k);
	}
	buf_reset(&s->to_tech);
}

/* Writes the loop's lines as far as the target's window takes them. */
static void
flush_target(struct px_strict *s)
{
	struct px_chan *ch = s->ch;
	size_t len, k;
	const uint8_t *p;
	int rc;

	while ((p = buf_peek(&s->to_target, &len)), len > 0) {
		if ((k = px__chan_room(ch, 0, len)) == 0)
			return;
		rc = ssh_channel_write(ch->uc, p, (uint32_t)k);
		px__sshpoll_update(px__conn_poll(ch->c, 0));
		if (rc < 0) {
			px_log(PX_LOG_INFO, px__conn_id(ch->c), "write to the target failed: %s",
			    ssh_get_error(px__conn_ssh(ch->c, 0)));
			buf_reset(&s->to_target);
			return;
		}
		if (rc == 0)
			return;
		buf_consume(&s->to_target, (size_t)rc);
	}
}

/* ---- the prompt --------------------------------------------------------------- */

static void
printable(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < cap; in++)
		out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '?' : *in;
	out[n] = '\0';
}

static void drain_tin(struct px_strict *s);

void
px__strict_show_prompt(struct px_strict *s)
{
	struct px_conn *c = s->ch->c;
	const struct pol_session *ps = px__conn_session(c);
	const char *login = ps != NULL && ps->target != NULL && ps->target->login != NULL ?
	    ps->target->login : px__conn_user(c);
	char pwd[sizeof(s->pwd)], prompt[sizeof(s->pwd) + 300];

	if (s->st != STRICT_PROMPT && px__strict_set(s, STRICT_PROMPT, "prompt shown") != PX_OK)
		return;
	buf_reset(&s->entry);
	printable(pwd, sizeof(pwd), s->pwd);
	snprintf(prompt, sizeof(prompt), "%s@%s:%s$ ", login ? login : "?",
	    px__conn_target(c) ? px__conn_target(c) : "?", pwd);
	if (px__strict_say(s, LE_PASTE_ON) != PX_OK)
		return;
	if (px__le_begin(s->le, prompt, &s->to_tech) != LE_OK) {
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	drain_tin(s);
}

/* An entry line is in; more bytes of the same input follow (a paste
 * without brackets) or the entry is complete. */
static void
on_entry(struct px_strict *s)
{
	size_t len, nl;
	const char *text = px__le_entry(s->le, &len, &nl);

	(void)nl;
	if ((buf_len(&s->entry) > 0 && buf_put_u8(&s->entry, '\n') != 0) || buf_put(&s->entry, text, len) != 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "escort: the entry is longer than %u bytes; nothing of it was run\r\n",
		    (unsigned)STRICT_ENTRY_MAX);
		buf_reset(&s->entry);
		buf_reset(&s->tin);
		if (px__strict_say(s, LE_PASTE_OFF) == PX_OK && px__strict_say(s, msg) == PX_OK)
			px__strict_show_prompt(s);
		return;
	}
	if (buf_len(&s->tin) > 0) {
		/* more typed in the same breath: a line of the same entry */
		if (px__le_begin(s->le, "> ", &s->to_tech) != LE_OK)
			px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	if (px__strict_say(s, LE_PASTE_OFF) == PX_OK)
		px__strict_entry_submit(s);
}

/* Ctrl-D on an empty line (the editor moved to a new line): the loop
 * exits with the last status. */
static void
on_eof(struct px_strict *s)
{
	if (buf_len(&s->entry) > 0) {	/* at a continuation line: abandon the entry */
		px__strict_show_prompt(s);
		return;
	}
	buf_reset(&s->tin);
	if (px__strict_say(s, LE_PASTE_OFF) != PX_OK)
		return;
	if (px__sb_exit_line(s->nonce, s->run_seq + 1, &s->to_target) != SB_OK) {
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	px__strict_set(s, STRICT_ENDED, "Ctrl-D: the shell exits");
	px_log(PX_LOG_INFO, px__conn_id(s->ch->c), "strict shell: Ctrl-D, the shell exits");
}

/* Feeds the held keystrokes to the line editor while the prompt shows. */
static void
drain_tin(struct px_strict *s)
{
	for (int i = 0; i < 100000 && s->st == STRICT_PROMPT && buf_len(&s->tin) > 0; i++) {
		enum le_event ev = LE_NONE;
		long k = px__le_feed(s->le, buf_ptr(&s->tin), buf_len(&s->tin), &s->to_tech, &ev);

		if (k < 0) {
			px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
			return;
		}
		buf_consume(&s->tin, (size_t)k);
		switch (ev) {
		case LE_NONE:
			if (k == 0)
				return;
			break;
		case LE_CANCEL:
			px__strict_show_prompt(s);
			return;		/* show_prompt drained the rest */
		case LE_EOF:
			on_eof(s);
			return;
		case LE_ENTRY:
			on_entry(s);
			if (s->st != STRICT_PROMPT)
				return;
			break;
		}
	}
	if (buf_len(&s->tin) == 0)
		buf_reset(&s->tin);
}

/* ---- the target's output: markers ----------------------------------------------- */

static int
nonce_ok(const struct px_strict *s, const struct sm_marker *m)
{
	return s->nonce[0] != '\0' && strcmp(m->nonce, s->nonce) == 0;
}

static void
on_hello(struct px_strict *s, const struct sm_marker *m)
{
	char what[80];

	if (s->st != STRICT_BOOT) {
		attack(s, "a second strict-mode HELLO marker came from the target");
		return;
	}
	if (m->version != 1) {
		snprintf(what, sizeof(what), "its strict-mode shell speaks version %d, not 1", m->version);
		boot_fail(s, what);
		return;
	}
	px__timer1_stop(&s->timer);
	if (px__sb_nonce_new(s->nonce) != SB_OK) {
		boot_fail(s, "no randomness for the session's nonce");
		return;
	}
	if (px__sb_nonce_line(s->nonce, &s->to_target) != SB_OK) {
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	px__sm_set_nonce(s->sm, s->nonce);
	px__strict_set(s, STRICT_NONCE, "HELLO received; nonce sent");
}

static void
on_prompt(struct px_strict *s, const struct sm_marker *m)
{
	char what[200];

	if (s->st == STRICT_BOOT) {
		attack(s, "a prompt marker came before the strict-mode shell started");
		return;
	}
	if (!nonce_ok(s, m)) {
		attack(s, "a prompt marker with a wrong nonce came from the target");
		return;
	}
	snprintf(s->pwd, sizeof(s->pwd), "%s", m->pwd);
	if (s->st == STRICT_NONCE && m->seq == 0) {
		s->done_seq = 0;
		px_log(PX_LOG_INFO, px__conn_id(s->ch->c), "strict shell ready");
		px__strict_show_prompt(s);
		return;
	}
	if (s->st == STRICT_RUNNING && m->seq == s->run_seq) {
		s->done_seq = m->seq;
		px__strict_entry_done(s, m->status);
		return;
	}
	if (s->st == STRICT_RUNNING)
		snprintf(what, sizeof(what), "a prompt marker numbered %llu came while command %llu ran",
		    (unsigned long long)m->seq, (unsigned long long)s->run_seq);
	else
		snprintf(what, sizeof(what), "a prompt marker numbered %llu came while no command ran",
		    (unsigned long long)m->seq);
	attack(s, what);
}

static void
on_discard(struct px_strict *s, const struct sm_marker *m)
{
	char text[200];

	if (s->st == STRICT_BOOT || !nonce_ok(s, m)) {
		attack(s, "a discard marker with a wrong nonce came from the target");
		return;
	}
	snprintf(text, sizeof(text), "strict mode: %llu bytes typed while command %llu ran were discarded by "
	    "the target's shell", (unsigned long long)m->nbytes,
	    (unsigned long long)(s->st == STRICT_RUNNING && s->next_run < s->nlines ?
	    s->lines[s->next_run].cmd_no : s->cmd_no));
	(void)px__conn_record_fields(s->ch->c, EV_MARKER, s->ch->id, EVF_TEXT, text, 0);
	px_log(PX_LOG_INFO, px__conn_id(s->ch->c), "%s", text);
	snprintf(text, sizeof(text), "%sescort: %llu bytes typed while the last command ran were discarded\r\n",
	    s->st == STRICT_PROMPT ? "\r\n" : "", (unsigned long long)m->nbytes);
	if (px__strict_say(s, text) == PX_OK && s->st == STRICT_PROMPT &&
	    px__le_redraw(s->le, &s->to_tech) != LE_OK)
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
}

static void
on_marker(struct px_strict *s, const struct sm_marker *m)
{
	if (s->fail_msg != NULL)
		return;
	switch (m->kind) {
	case SM_NONE:
		break;
	case SM_HELLO:
		on_hello(s, m);
		break;
	case SM_PROMPT:
		on_prompt(s, m);
		break;
	case SM_DISCARD:
		on_discard(s, m);
		break;
	case SM_BAD:
		attack(s, "a malformed strict-mode marker came from the target");
		break;
	case SM_LEAK:
		attack(s, "the session's secret nonce appeared in the target's output");
		break;
	}
}

/* Output that is not a marker: before HELLO kept for a refusal message,
 * after a failure dropped, else shown (the prompt drawn again after it). */
static void
route_output(struct px_strict *s, struct buf *pass)
{
	size_t len;
	const uint8_t *p = buf_peek(pass, &len);

	if (len == 0 || s->fail_msg != NULL)
		return;
	if (s->st == STRICT_BOOT || s->st == STRICT_NONCE) {
		size_t room = buf_room(&s->boot_out);
		(void)buf_put(&s->boot_out, p, len < room ? len : room);
		return;
	}
	if (buf_put(&s->to_tech, p, len) != 0) {
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	if (s->st == STRICT_PROMPT && px__le_redraw(s->le, &s->to_tech) != LE_OK)
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
}

static size_t
target_take(struct px_strict *s, const uint8_t *d, size_t n)
{
	struct buf pass;
	size_t off = 0, room = px__strict_room(s->ch, 0);

	if (s->fail_msg != NULL)
		return n;	/* after a failure nothing more is shown */
	if (n > room)
		n = room;
	buf_init(&pass, 0);
	while (off < n && s->fail_msg == NULL) {
		struct sm_marker m;
		long k;

		memset(&m, 0, sizeof(m));
		k = px__sm_feed(s->sm, d + off, n - off, &pass, &m);
		if (k < 0) {
			px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
			break;
		}
		off += (size_t)k;
		route_output(s, &pass);
		buf_reset(&pass);
		on_marker(s, &m);
		if (k == 0 && m.kind == SM_NONE)
			break;
	}
	buf_free(&pass);
	flush_target(s);
	px__strict_flush_tech(s);
	return n;		/* after a failure in this chunk its rest is dropped */
}

/* ---- the technician's bytes ------------------------------------------------------- */

static size_t
tech_room(struct px_strict *s, size_t want)
{
	struct px_conn *c = s->ch->c;
	size_t room;

	switch (s->st) {
	case STRICT_RUNNING:
		return buf_len(&s->to_target) == 0 ? px__chan_room(s->ch, 0, want) : 0;
	case STRICT_ENDED:
		return want;	/* nobody to give it to: dropped */
	case STRICT_APPROVING:	/* recorded, then dropped but for Ctrl-C */
		if (buf_len(&s->to_tech) >= STRICT_OUT_HIGH || px__conn_rec_stalled(c))
			return 0;
		room = want < STRICT_TIN_MAX ? want : STRICT_TIN_MAX;
		return px__conn_rec_can_take(c, room) ? room : 0;
	default:
		if (buf_len(&s->to_tech) >= STRICT_OUT_HIGH || buf_len(&s->tin) >= STRICT_TIN_MAX ||
		    px__conn_rec_stalled(c))
			return 0;
		room = STRICT_TIN_MAX - buf_len(&s->tin);
		if (want < room)
			room = want;
		return px__conn_rec_can_take(c, room) ? room : 0;
	}
}

static size_t
tech_take(struct px_strict *s, const uint8_t *d, size_t n)
{
	struct px_chan *ch = s->ch;
	size_t k = tech_room(s, n);

	if (k == 0)
		return 0;
	switch (s->st) {
	case STRICT_RUNNING:
		px__chan_emit(ch, 0, d, k, 0);	/* to the running program, recorded */
		return k;
	case STRICT_ENDED:
		return k;
	case STRICT_APPROVING:
		if (px__conn_record(ch->c, EV_INPUT, ch->id, d, k) != PX_OK)
			return 0;
		px__strict_approve_keys(s, d, k);
		flush_target(s);
		px__strict_flush_tech(s);
		return k;
	default:
		if (px__conn_record(ch->c, EV_INPUT, ch->id, d, k) != PX_OK)
			return 0;
		if (buf_put(&s->tin, d, k) != 0) {
			px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
			return k;
		}
		drain_tin(s);
		flush_target(s);
		px__strict_flush_tech(s);
		return k;
	}
}

size_t
px__strict_take(struct px_chan *ch, int from_tech, const uint8_t *d, size_t n)
{
	struct px_strict *s = ch->strict;

	if (s == NULL)
		return 0;
	return from_tech ? tech_take(s, d, n) : target_take(s, d, n);
}

size_t
px__strict_room(struct px_chan *ch, int from_tech)
{
	struct px_strict *s = ch->strict;

	if (s == NULL)
		return 0;
	if (from_tech)
		return tech_room(s, PX_CHUNK);
	if (buf_len(&s->to_tech) >= STRICT_OUT_HIGH || px__conn_rec_stalled(ch->c) ||
	    !px__conn_rec_can_take(ch->c, 64 * 1024))
		return 0;
	return PX_CHUNK;
}

void
px__strict_resize(struct px_chan *ch, int cols)
{
	if (ch->strict != NULL && cols > 0)
		ch->strict->new_cols = cols;
}

size_t
px__strict_held(const struct px_chan *ch, int to_tech)
{
	const struct px_strict *s = ch->strict;

	if (s == NULL)
		return 0;
	return to_tech ? buf_len(&s->to_tech) : buf_len(&s->to_target);
}

void
px__strict_step(struct px_chan *ch)
{
	struct px_strict *s = ch->strict;
	int booting;

	if (s == NULL || s->fail_done)
		return;
	booting = s->st == STRICT_BOOT || s->st == STRICT_NONCE;
	if (booting && s->fail_msg == NULL && s->timed_out)
		boot_fail(s, "no answer from its shell within 15 seconds");
	if (booting && s->fail_msg == NULL && ch->u_pend[0] == 0 &&
	    (px_half_got_eof(ch->half[HALF_U_IN]) || px_half_closed(ch->half[HALF_U_IN])))
		boot_fail(s, "the target ended the shell before it started");
	if (s->new_cols > 0 && s->fail_msg == NULL) {
		struct buf scratch;

		s->cols = s->new_cols;
		s->new_cols = 0;
		buf_init(&scratch, 0);
		if (px__le_resize(s->le, s->cols, s->st == STRICT_PROMPT ? &s->to_tech : &scratch) != LE_OK)
			px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		buf_free(&scratch);
	}
	if (s->st == STRICT_APPROVING)
		px__strict_approve_step(s);
	if (s->st == STRICT_RECORDING)
		px__strict_entry_record(s);
	if (s->st == STRICT_PROMPT && buf_len(&s->tin) > 0)
		drain_tin(s);
	flush_target(s);
	px__strict_flush_tech(s);
	if (s->fail_msg != NULL)
		fail_now(s);
}
