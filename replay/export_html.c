/* export_html.c: one self-contained HTML page of a session
 * (export_html.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/export_cast.h"
#include "replay/export_html.h"
#include "replay/export_html_player.h"
#include "replay/html.h"
#include "replay/replay.h"
#include "replay/xfers.h"

#define HTML_LINE_MAX 4096	/* output text held per line */
#define HTML_DIM_MAX 1000	/* window sizes beyond are taken as 80x24 */

/*
 * The page's own script, after the player's: starts the player on the
 * inlined recording with a marker per command, and seeks it where an
 * element with data-t (a timeline mark, a command of the list or of the
 * table) is clicked, saying where in #position.  Reads labels as text
 * (textContent), never as markup.
 */
static const char html_js[] =
    "(function () {\n"
    "  var cast = document.getElementById('escort-cast').textContent;\n"
    "  var el = document.getElementById('player');\n"
    "  var pos = document.getElementById('position');\n"
    "  var marks = [], i;\n"
    "  var ts = document.querySelectorAll('.timeline a[data-t]');\n"
    "  for (i = 0; i < ts.length; i++)\n"
    "    marks.push([parseFloat(ts[i].getAttribute('data-t')),\n"
    "                ts[i].getAttribute('data-label')]);\n"
    "  var player = AsciinemaPlayer.create({ data: cast }, el, {\n"
    "    markers: marks, preload: true, fit: 'width',\n"
    "    terminalFontSize: 'small' });\n"
    "  document.addEventListener('click', function (ev) {\n"
    "    var a = ev.target.closest ? ev.target.closest('[data-t]') : null;\n"
    "    if (!a) return;\n"
    "    ev.preventDefault();\n"
    "    var t = parseFloat(a.getAttribute('data-t'));\n"
    "    var label = a.getAttribute('data-label') || ('+' + t.toFixed(3) + ' s');\n"
    "    player.pause();\n"
    "    player.seek(t).then(function () {\n"
    "      pos.textContent = 'At ' + label;\n"
    "      pos.setAttribute('data-at', String(t));\n"
    "    });\n"
    "    el.scrollIntoView({ block: 'nearest' });\n"
    "  });\n"
    "  pos.textContent = 'Click a command to play from there.';\n"
    "})();\n";

/* The META fields shown, in this order. */
static const struct {
	uint16_t tag;
	const char *label;
} html_meta[] = {
	{ EVF_USER, "user" }, { EVF_ATTR, "attribute" }, { EVF_TARGET, "target" },
	{ EVF_LOGIN, "login" }, { EVF_TARGET_ADDR, "target address" },
	{ EVF_CLIENT_ADDR, "client address" }, { EVF_CLIENT_KEY, "client key" },
	{ EVF_KIND, "kind" }, { EVF_PROXY_ID, "proxy" },
	{ EVF_POLICY_HASH, "policy" },
};

/* What the first pass over the session gathers. */
struct html_pass {
	struct replay_cmdlog log;
	struct replay_xfers xs;
	struct replay_end end;
	uint64_t last_t;	/* time of the last event */
	uint64_t events;
	VTerm *vt;		/* the screen at the end, NULL without output */
	uint64_t cols, rows;
	char *markers;		/* "TIME\tTEXT\n" lines (HTML-escaped later) */
	size_t mlen;
	int mem;
};

static void
html_pass_event(struct html_pass *h, const struct ev *e)
{
	const uint8_t *t;
	size_t tl;
	char line[64];
	char *nm;

	h->events++;
	h->last_t = e->t_ns;
	replay_end_note(&h->end, e);
	h->mem |= replay_cmdlog_add_event(&h->log, e) != 0;
	h->mem |= replay_xfers_add_event(&h->xs, e) != 0;
	if (e->type == EV_RESIZE || e->type == EV_CHANNEL) {
		if (ev_fields_get_u64(e->data, e->len, EVF_COLS, &h->cols) != REC_OK ||
		    ev_fields_get_u64(e->data, e->len, EVF_ROWS, &h->rows) != REC_OK)
			return;
		if (h->cols < 2 || h->rows < 2 || h->cols > HTML_DIM_MAX ||
		    h->rows > HTML_DIM_MAX)
			h->cols = 80, h->rows = 24;
		if (h->vt != NULL)
			vterm_set_size(h->vt, (int)h->rows, (int)h->cols);
	} else if (e->type == EV_OUTPUT || e->type == EV_STDERR) {
		if (h->vt == NULL) {
			h->vt = vterm_new((int)h->rows, (int)h->cols);
			vterm_set_utf8(h->vt, 1);
			vterm_screen_reset(vterm_obtain_screen(h->vt), 1);
		}
		vterm_input_write(h->vt, (const char *)e->data, e->len);
	} else if (e->type == EV_MARKER &&
	    ev_fields_find(e->data, e->len, EVF_TEXT, &t, &tl) == REC_OK) {
		snprintf(line, sizeof(line), "%.3f\t", (double)e->t_ns / 1e9);
		if ((nm = realloc(h->markers, h->mlen + strlen(line) + tl + 2)) == NULL) {
			h->mem = 1;
			return;
		}
		h->markers = nm;
		memcpy(nm + h->mlen, line, strlen(line));
		h->mlen += strlen(line);
		memcpy(nm + h->mlen, t, tl);
		h->mlen += tl;
		nm[h->mlen++] = '\n';
		nm[h->mlen] = '\0';
	}
}

static void
html_head(FILE *f, struct tr *r, const char *id, const struct replay_player *pl)
{
	struct ev_fields_iter it;
	const uint8_t *meta, *v;
	size_t mlen, used, len, k;
	uint16_t tag;
	struct ev e;
	char t[32];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>Escort session ", f);
	html_str(f, id);
	fprintf(f, "</title>\n<style>%s</style>\n<style>%s</style></head>\n"
	    "<body>\n<h1>Escort session <span class=\"code\">", pl->css,
	    html_css);
	html_str(f, id);
	fputs("</span></h1>\n<h2 id=\"session\">Session</h2>\n<table>\n", f);
	replay_time(tr_start_wall_ns(r), t, sizeof(t));
	fprintf(f, "<tr><th>start</th><td>%s</td></tr>\n", t);
	tr_meta(r, &meta, &mlen);
	if (ev_decode(meta, mlen, &e, &used) != REC_OK || e.type != EV_META)
		goto done;
	for (k = 0; k < sizeof(html_meta) / sizeof(html_meta[0]); k++) {
		ev_fields_begin(&it, e.data, e.len);
		while (ev_fields_next(&it, &tag, &v, &len) == 1) {
			if (tag != html_meta[k].tag)
				continue;
			fprintf(f, "<tr><th>%s</th><td class=\"code\">",
			    html_meta[k].label);
			html_bytes(f, v, len);
			fputs("</td></tr>\n", f);
		}
	}
done:
	;
}

/* The rest of the session table (end, size) and the verification. */
static void
html_status(FILE *f, struct tr *r, const char *id, const struct html_pass *h)
{
	enum replay_vstate vs = replay_check_state(id);
	const char *problem = replay_check_problem(id);
	char t[32];

	if (h->end.has_end) {
		replay_time(tr_start_wall_ns(r) + h->last_t, t, sizeof(t));
		fprintf(f, "<tr><th>end</th><td>%s</td></tr>\n", t);
	}
	fputs("<tr><th>ended</th><td>", f);
	html_str(f, replay_end_label(&h->end));
	if (h->end.has_end && h->end.info.reason[0]) {
		fputs(": ", f);
		html_str(f, h->end.info.reason);
	}
	if (h->end.has_end && h->end.info.by[0]) {
		fputs(" (written by the ", f);
		html_str(f, h->end.info.by);
		fputs(")", f);
	}
	fprintf(f, "</td></tr>\n<tr><th>duration</th><td>%.3f s</td></tr>\n"
	    "<tr><th>events</th><td>%" PRIu64 "</td></tr>\n</table>\n",
	    (double)h->last_t / 1e9, h->events);
	fprintf(f, "<h2 id=\"integrity\">Integrity</h2>\n<p>Verification: "
	    "<span class=\"%s\">%s</span>", vs == REPLAY_V_OK ||
	    vs == REPLAY_V_RECOVERED ? "ok" : "bad", replay_vstate_name(vs));
	if (vs == REPLAY_V_OK)
		fputs(" (every byte, the hash chain and the signatures)", f);
	else if (vs == REPLAY_V_CHAIN)
		fputs(" (no public key: signatures not checked)", f);
	else if (vs == REPLAY_V_SKIPPED)
		fputs(" (not verified)", f);
	if (problem[0]) {
		fputs(": ", f);
		html_str(f, problem);
	}
	fputs(".</p>\n", f);
}

/* The player, the timeline of the commands (a bar and a list, each
 * command seeking the player) and the commands table. */
static void
html_commands(FILE *f, struct tr *r, const struct html_pass *h,
    unsigned cast_flags)
{
	fputs("<h2 id=\"playback\">Playback</h2>\n<div id=\"player\"></div>\n"
	    "<p id=\"position\">This page plays the session with a script: "
	    "allow scripts to see it.</p>\n", f);
	if (cast_flags & REPLAY_CAST_NO_INPUT)
		fputs("<p>The keystrokes are left out (--no-input): the "
		    "player shows what the terminal received.</p>\n", f);
	fprintf(f, "<h2 id=\"commands\">Commands (%zu)</h2>\n", h->log.n);
	if (h->log.n == 0) {
		fputs("<p>No command was decided in this session.</p>\n", f);
		return;
	}
	fputs("<p>Click a command, on the bar or in the list, to play the "
	    "session from there.</p>\n<div id=\"timeline\">\n", f);
	html_timeline(f, &h->log, h->last_t, "cmd-", 1);
	fputs("</div>\n", f);
	html_cmd_table(f, tr_start_wall_ns(r), &h->log, "", 1);
}

static void
html_files(FILE *f, struct tr *r, const struct html_pass *h)
{
	fprintf(f, "<h2 id=\"files\">File transfers and operations (%zu)</h2>\n",
	    h->xs.n);
	if (h->xs.n == 0)
		fputs("<p>None recorded.</p>\n", f);
	else
		html_xfer_table(f, tr_start_wall_ns(r), &h->xs);
}

static void
html_markers(FILE *f, const struct html_pass *h)
{
	if (h->mlen == 0)
		return;
	fputs("<h2 id=\"markers\">Markers</h2>\n<p>Offset (seconds) and text of "
	    "each marker the proxy or the recorder wrote.</p>\n<pre>", f);
	html_bytes(f, (const uint8_t *)h->markers, h->mlen);
	fputs("</pre>\n", f);
}

/* The screen as it stood at the end (trailing blanks and rows left out). */
static void
html_screen(FILE *f, const struct html_pass *h)
{
	VTermScreen *s;
	VTermRect rect;
	char *line;
	size_t len, cap;
	int rows, cols, row, last = -1;

	if (h->vt == NULL)
		return;
	s = vterm_obtain_screen(h->vt);
	vterm_get_size(h->vt, &rows, &cols);
	cap = (size_t)cols * 8 + 1;
	if ((line = malloc(cap)) == NULL)
		return;
	fprintf(f, "<h2 id=\"screen\">Final screen (%dx%d)</h2>\n<pre>", cols, rows);
	for (row = 0; row < rows; row++) {
		rect = (VTermRect){ .start_row = row, .end_row = row + 1,
		    .start_col = 0, .end_col = cols };
		if (vterm_screen_get_text(s, line, cap - 1, rect) > 0)
			last = row;
	}
	for (row = 0; row <= last; row++) {
		rect = (VTermRect){ .start_row = row, .end_row = row + 1,
		    .start_col = 0, .end_col = cols };
		len = vterm_screen_get_text(s, line, cap - 1, rect);
		while (len > 0 && line[len - 1] == ' ')
			len--;
		html_bytes(f, (const uint8_t *)line, len);
		fputc('\n', f);
	}
	fputs("</pre>\n", f);
	free(line);
}

/* The output text, one line held at a time (a backspace deletes within
 * it). */
struct html_text {
	int esc;		/* 0 text, 1 ESC, 2 CSI, 3 string, 4 ESC in
				   string, 5 one more byte */
	uint8_t line[HTML_LINE_MAX];
	size_t len;
};

static void
html_text_flush(FILE *f, struct html_text *t)
{
	html_bytes(f, t->line, t->len);
	t->len = 0;
}

static void
html_text_bytes(FILE *f, struct html_text *t, const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t c;

	for (i = 0; i < n; i++) {
		c = p[i];
		switch (t->esc) {
		case 0:
			if (c == 0x1b) {
				t->esc = 1;
			} else if (c == '\n') {
				t->line[t->len++] = c;
				html_text_flush(f, t);
			} else if (c == 0x08) {
				while (t->len > 0 && (t->line[--t->len] & 0xc0) == 0x80)
					;
			} else if (c >= 0x20 ? c != 0x7f : c == '\t') {
				if (t->len >= sizeof(t->line) - 1)
					html_text_flush(f, t);
				t->line[t->len++] = c;
			}
			break;
		case 1:
			t->esc = c == '[' ? 2 : (c == ']' || c == 'P' || c == '_' ||
			    c == '^' || c == 'X') ? 3 : (c == '(' || c == ')' ||
			    c == '#' || c == '%' || c == '*' || c == '+') ? 5 : 0;
			break;
		case 2:
			if (c >= 0x40 && c <= 0x7e)
				t->esc = 0;
			break;
		case 3:
			if (c == 0x07)
				t->esc = 0;
			else if (c == 0x1b)
				t->esc = 4;
			break;
		case 4:
			t->esc = c == '\\' ? 0 : 3;
			break;
		default:
			t->esc = 0;
			break;
		}
	}
}

/* Second pass: the output text, an anchor where each command was
 * decided.  Returns 1 at the end, or tr_next's error. */
static int
html_output(FILE *f, struct tr *r)
{
	struct html_text *t;
	struct ev e;
	size_t n = 0;
	int x;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return REC_ENOMEM;
	fputs("<h2 id=\"output\">Terminal output (text)</h2>\n<p>What the "
	    "terminal received, escape sequences and carriage returns removed; "
	    "a yellow mark stands where a command was decided.</p>\n<pre>", f);
	while ((x = tr_next(r, &e)) == 1) {
		if (e.type == EV_OUTPUT || e.type == EV_STDERR) {
			html_text_bytes(f, t, e.data, e.len);
		} else if (e.type == EV_DECISION) {
			n++;
			html_text_flush(f, t);
			fprintf(f, "<a class=\"mark\" id=\"cmd-%zu\" href=\"#row-%zu\">"
			    "#%zu</a>", n, n, n);
		}
	}
	html_text_flush(f, t);
	fputs("</pre>\n", f);
	free(t);
	return x;
}

/* The recording for the player (asciicast, inert inside <script>), the
 * player's script and the page's.  Returns 0 or the error reading r. */
static int
html_scripts(FILE *f, struct tr *r, const struct replay_player *pl,
    unsigned cast_flags)
{
	int x;

	fputs("<script type=\"application/x-asciicast\" id=\"escort-cast\">", f);
	x = replay_cast_write(f, r, cast_flags | REPLAY_CAST_SCRIPT);
	fprintf(f, "</script>\n<script>%s</script>\n<script>%s</script>\n",
	    pl->js, html_js);
	return x;
}

int
replay_export_html(FILE *f, struct tr *r, const char *id,
    const struct replay_player *pl, unsigned cast_flags)
{
	struct html_pass h;
	struct ev e;
	int x, y;

	memset(&h, 0, sizeof(h));
	h.cols = 80;
	h.rows = 24;
	while ((x = tr_next(r, &e)) == 1)
		html_pass_event(&h, &e);
	replay_end_done(&h.end, r);
	if (h.mem && x >= 0)
		x = REC_ENOMEM;
	html_head(f, r, id, pl);
	html_status(f, r, id, &h);
	html_commands(f, r, &h, cast_flags);
	html_files(f, r, &h);
	html_markers(f, &h);
	html_screen(f, &h);
	if (x >= 0 && (y = tr_seek_seq(r, 1)) < 0)
		x = y;
	if (x >= 0 && (y = html_output(f, r)) < 0)
		x = y;
	/* the player plays what could be read, even after an error */
	if ((y = tr_seek_seq(r, 1)) >= 0)
		y = html_scripts(f, r, pl, cast_flags);
	if (x >= 0 && y < 0)
		x = y;
	if (x < 0)
		fprintf(f, "<p class=\"bad\">The session could not be read to its "
		    "end (offset %llu): %s.</p>\n",
		    (unsigned long long)tr_error_offset(r), rec_strerror(x));
	fputs("<p><small>Written by escort-replay " ESCORT_VERSION
	    "; the player is asciinema-player", f);
	if (pl->version[0]) {
		fputc(' ', f);
		html_str(f, pl->version);
	}
	fputs(" (copyright Marcin Kulik, Apache License 2.0), embedded."
	    "</small></p>\n</body></html>\n", f);
	if (h.vt != NULL)
		vterm_free(h.vt);
	free(h.markers);
	replay_cmdlog_free(&h.log);
	replay_xfers_free(&h.xs);
	return x < 0 ? x : 0;
}
