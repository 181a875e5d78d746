/* pwmask: password prompts on an interactive terminal (contract in pwmask.h). */
#include <stdlib.h>
#include <string.h>

#include "proxy/pwmask.h"

/* A prompt is KEYWORD TAIL ':' at the end of the line (px__pwm_is_prompt). */
static const char *const pwm_keywords[] = { "password", "passphrase", "passcode", "pin" };
/* Tails are globs: '*' is any run of bytes. */
static const char *const pwm_tails[] = { "", " for *", " (*)", " again", ", try again*" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const pwm_end_names[] = {
	[PWM_END_NONE] = "none", [PWM_END_ENTER] = "enter", [PWM_END_CANCEL] = "ctrl-c",
	[PWM_END_EOF] = "ctrl-d", [PWM_END_ECHO] = "input echoed",
};

const char *
px__pwm_end_name(enum pwm_end e)
{
	return (size_t)e < NELEM(pwm_end_names) ? pwm_end_names[e] : "?";
}

void
px__pwm_init(struct pwm *m)
{
	memset(m, 0, sizeof(*m));
	m->ansi = PWM_A_TEXT;
}

struct pwm *
px__pwm_new(void)
{
	struct pwm *m = malloc(sizeof(*m));

	if (m != NULL)
		px__pwm_init(m);
	return m;
}

void
px__pwm_free(struct pwm *m)
{
	free(m);
}

void
px__pwm_forget_line(struct pwm *m)
{
	m->line_len = 0;
	m->fresh = 0;
}

/* ---- prompt text ------------------------------------------------------------- */

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether s[0..n) matches the glob pat ('*' any run); s is lower case. */
static int
glob_match(const char *pat, const char *s, size_t n)
{
	const char *star = NULL;
	size_t i = 0, star_i = 0;

	while (i < n) {
		if (*pat == '*') {
			star = pat++;
			star_i = i;
		} else if (*pat != '\0' && *pat == s[i]) {
			pat++;
			i++;
		} else if (star != NULL) {
			pat = star + 1;
			i = ++star_i;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Whether some tail of pwm_tails matches s[0..n). */
static int
tail_match(const char *s, size_t n)
{
	for (size_t t = 0; t < NELEM(pwm_tails); t++)
		if (glob_match(pwm_tails[t], s, n))
			return 1;
	return 0;
}

int
px__pwm_is_prompt(const char *text, size_t len)
{
	char s[PWM_LINE_MAX];
	size_t n;

	if (len > PWM_LINE_MAX)
		text += len - PWM_LINE_MAX, len = PWM_LINE_MAX;
	for (n = 0; n < len; n++)
		s[n] = (char)lower((unsigned char)text[n]);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || s[n - 1] != ':')
		return 0;
	n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (size_t k = 0; k < NELEM(pwm_keywords); k++) {
		size_t kl = strlen(pwm_keywords[k]);

		for (size_t p = 0; p + kl <= n; p++) {
			if (memcmp(s + p, pwm_keywords[k], kl) != 0)
				continue;
			if ((p > 0 && is_alpha((unsigned char)s[p - 1])) ||
			    (p + kl < n && is_alpha((unsigned char)s[p + kl])))
				continue;
			if (tail_match(s + p + kl, n - p - kl))
				return 1;
		}
	}
	return 0;
}

int
px__pwm_armed(const struct pwm *m)
{
	return !m->masking && m->fresh && px__pwm_is_prompt(m->line, m->line_len);
}

/* ---- echo check ---------------------------------------------------------------- */

#define ECHO_LOOKAHEAD 8	/* typed bytes skipped to find an echo (keys never echoed) */

static void
echo_push(struct pwm *m, uint8_t b)
{
	if (m->echo_len == PWM_ECHO_MAX) {
		memmove(m->echo, m->echo + 1, PWM_ECHO_MAX - 1);
		m->echo_len--;
	}
	m->echo[m->echo_len++] = b;
}

/* Whether the visible output byte b is the echo of a typed byte (which is
 * then taken off the queue with any older bytes never echoed). */
static int
echo_take(struct pwm *m, uint8_t b)
{
	size_t lim = m->echo_len < ECHO_LOOKAHEAD ? m->echo_len : ECHO_LOOKAHEAD;

	for (size_t i = 0; i < lim; i++) {
		if (m->echo[i] != b)
			continue;
		memmove(m->echo, m->echo + i + 1, m->echo_len - i - 1);
		m->echo_len -= i + 1;
		return 1;
	}
	return 0;
}

/* ---- output ---------------------------------------------------------------------- */

/* Appends k visible bytes to the line, which keeps the last PWM_LINE_MAX
 * (dropping at least half of it at a time, so long lines cost little). */
static void
line_append(struct pwm *m, const uint8_t *p, size_t k)
{
	if (k > PWM_LINE_MAX) {
		p += k - PWM_LINE_MAX;
		k = PWM_LINE_MAX;
	}
	if (m->line_len + k > PWM_LINE_MAX) {
		size_t drop = m->line_len + k - PWM_LINE_MAX;

		if (drop < PWM_LINE_MAX / 2)
			drop = PWM_LINE_MAX / 2;
		if (drop > m->line_len)
			drop = m->line_len;
		memmove(m->line, m->line + drop, m->line_len - drop);
		m->line_len -= drop;
	}
	memcpy(m->line + m->line_len, p, k);
	m->line_len += k;
}

static int
is_visible(uint8_t b)
{
	return b >= 0x20 && b != 0x7f;
}

/* One byte of output in the text state.  *changed: the line changed;
 * *other: a visible byte that is not an echo. */
static void
out_text(struct pwm *m, uint8_t b, int *changed, int *other)
{
	switch (b) {
	case 0x1b:
		m->ansi = PWM_A_ESC;
		return;
	case '\r':
	case '\n':
		/* a new line: the echo of what was typed before it is complete */
		m->line_len = 0;
		m->echo_len = 0;
		*changed = 1;
		return;
	case '\b':
		if (m->line_len > 0)
			m->line_len--;
		*changed = 1;
		return;
	case '\t':
		b = ' ';
		break;
	default:
		if (b < 0x20 || b == 0x7f)
			return;		/* BEL and other controls show nothing */
	}
	*changed = 1;
	if (echo_take(m, b)) {
		m->echoed++;
	} else {
		m->echoed = 0;
		*other = 1;
	}
	line_append(m, &b, 1);
}

/* One byte inside an escape sequence: ECMA-48 CSI, strings (OSC, DCS, APC,
 * PM, SOS) ended by BEL or ST, nF sequences, and two-byte ESC sequences. */
static void
out_escape(struct pwm *m, uint8_t b)
{
	switch (m->ansi) {
	case PWM_A_ESC:
		if (b == '[')
			m->ansi = PWM_A_CSI;
		else if (b == ']' || b == 'P' || b == '_' || b == '^' || b == 'X')
			m->ansi = PWM_A_STR;
		else if (b >= 0x20 && b <= 0x2f)
			m->ansi = PWM_A_NF;
		else if (b != 0x1b)
			m->ansi = PWM_A_TEXT;
		return;
	case PWM_A_CSI:
		if (b >= 0x40 && b <= 0x7e)
			m->ansi = PWM_A_TEXT;
		else if (b == 0x1b)
			m->ansi = PWM_A_ESC;
		return;
	case PWM_A_STR:
		if (b == 0x07)
			m->ansi = PWM_A_TEXT;
		else if (b == 0x1b)
			m->ansi = PWM_A_STR_ESC;
		return;
	case PWM_A_STR_ESC:
		m->ansi = b == '\\' ? PWM_A_TEXT : b == 0x1b ? PWM_A_STR_ESC : PWM_A_STR;
		return;
	case PWM_A_NF:
		if (b >= 0x30 && b <= 0x7e)
			m->ansi = PWM_A_TEXT;
		return;
	case PWM_A_TEXT:
		return;
	}
}

static void
stretch_end(struct pwm *m, enum pwm_end why, struct pwm_event *ev)
{
	ev->ended = why;
	ev->masked = m->masked;
	m->masking = 0;
	m->masked = 0;
	m->typed_len = 0;
	m->echoed = 0;
	m->echo_len = 0;
	/* the prompt answered arms nothing more */
	m->line_len = 0;
	m->fresh = 0;
}

void
px__pwm_output(struct pwm *m, const uint8_t *d, size_t n, struct pwm_event *ev)
{
	struct pwm_event dummy;
	int changed = 0, other = 0;

	if (ev == NULL)
		ev = &dummy;
	memset(ev, 0, sizeof(*ev));
	for (size_t i = 0; i < n;) {
		size_t k = 0;

		if (m->ansi != PWM_A_TEXT) {
			out_escape(m, d[i++]);
			continue;
		}
		if (m->echo_len > 0) {
			out_text(m, d[i++], &changed, &other);
			continue;
		}
		/* nothing typed awaits its echo: a run of text at once */
		while (i + k < n && is_visible(d[i + k]))
			k++;
		if (k == 0) {
			out_text(m, d[i++], &changed, &other);
			continue;
		}
		line_append(m, d + i, k);
		m->echoed = 0;
		changed = other = 1;
		i += k;
	}
	if (changed)
		m->fresh = other;
	if (m->masking && m->echoed >= PWM_ECHO_MIN) {
		stretch_end(m, PWM_END_ECHO, ev);
		m->fresh = 0;
	}
}

/* ---- input ------------------------------------------------------------------------ */

/* One typed byte inside a stretch: the recognised line's bookkeeping. */
static void
in_masked(struct pwm *m, uint8_t b)
{
	m->masked++;
	switch (b) {
	case 0x15:		/* Ctrl-U: the line is erased */
		m->typed_len = 0;
		m->echo_len = 0;
		return;
	case 0x7f:
	case 0x08:		/* Backspace */
		if (m->typed_len > 0)
			m->typed_len--;
		if (m->echo_len > 0)
			m->echo_len--;
		return;
	default:
		m->typed_len++;
		if (b >= 0x20 && b != 0x7f)
			echo_push(m, b);
	}
}

size_t
px__pwm_input(struct pwm *m, const uint8_t *d, size_t n, uint8_t *out, struct pwm_event *ev)
{
	struct pwm_event dummy;
	size_t nmasked = 0;

	if (ev == NULL)
		ev = &dummy;
	memset(ev, 0, sizeof(*ev));
	for (size_t i = 0; i < n; i++) {
		uint8_t b = d[i];

		if (!m->masking && ev->ended == PWM_END_NONE && px__pwm_armed(m)) {
			m->masking = 1;
			m->masked = m->typed_len = m->echoed = m->echo_len = 0;
			m->line_len = 0;
			m->fresh = 0;
			ev->started = 1;
		}
		if (!m->masking) {
			if (b >= 0x20 && b != 0x7f)
				echo_push(m, b);
			out[i] = b;
			continue;
		}
		if (b == '\r' || b == '\n') {
			out[i] = b;
			stretch_end(m, PWM_END_ENTER, ev);
		} else if (b == 0x03) {
			out[i] = b;
			stretch_end(m, PWM_END_CANCEL, ev);
		} else if (b == 0x04 && m->typed_len == 0) {
			out[i] = b;
			stretch_end(m, PWM_END_EOF, ev);
		} else {
			in_masked(m, b);
			out[i] = PWM_MASK_CHAR;
			nmasked++;
		}
	}
	return nmasked;
}
