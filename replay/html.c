/* html.c: HTML output helpers of escort-replay (html.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "replay/cmdlog.h"
#include "replay/html.h"
#include "replay/replay.h"
#include "replay/xfers.h"

const char html_css[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;"
    "border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;font-size:.9em}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;"
    "vertical-align:top}th{background:#f0f0f0}"
    "body>pre{background:#111;color:#ddd;padding:.8em;overflow-x:auto;"
    "white-space:pre-wrap;word-break:break-all}"
    ".code{font-family:monospace;white-space:pre-wrap;word-break:break-all}"
    ".allow{color:#060}.deny{color:#b00;font-weight:bold}"
    ".approve{color:#a60;font-weight:bold}"
    ".ok{color:#060;font-weight:bold}.bad{color:#b00;font-weight:bold}"
    ".timeline{position:relative;height:2.2em;background:#eee;"
    "border:1px solid #ccc;margin:.5em 0}"
    ".timeline a{position:absolute;top:0;bottom:0;width:5px;"
    "text-decoration:none}"
    ".tscale{display:flex;justify-content:space-between;font-size:.8em;"
    "color:#666}"
    ".cmdlist{font-size:.9em}.cmdlist a{font-family:monospace}"
    "#player{max-width:60em;margin:.5em 0}"
    "#position{font-family:monospace;font-size:.9em;min-height:1.2em}"
    ".timeline a.allow{background:#393}.timeline a.deny{background:#c00}"
    ".timeline a.approve{background:#d80}"
    "h3{font-size:1em;margin-top:1.2em}"
    ".stdin{border-left:3px solid #888;padding-left:.4em;margin-top:.2em}"
    "a.mark{color:#ff0;background:#333;font-size:.8em;"
    "text-decoration:none;padding:0 .3em}";

void
html_bytes(FILE *f, const uint8_t *p, size_t n)
{
	size_t i = 0, l;

	while (i < n) {
		l = replay_utf8_len(p + i, n - i);
		if (l == 0) {
			fputs("&#xfffd;", f);
			i++;
			continue;
		}
		if (l == 1) {
			switch (p[i]) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&#39;", f); break;
			default:
				if (p[i] >= 0x20 ? p[i] != 0x7f :
				    (p[i] == '\n' || p[i] == '\t'))
					fputc(p[i], f);
				break;
			}
		} else if (!(l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			fwrite(p + i, 1, l, f);
		}
		i += l;
	}
}

void
html_str(FILE *f, const char *s)
{
	html_bytes(f, (const uint8_t *)s, strlen(s));
}

const char *
html_verdict_class(const char *v)
{
	if (strcmp(v, "allow") == 0 || strcmp(v, "deny") == 0 ||
	    strcmp(v, "approve") == 0)
		return v;
	return "";
}

/* What an exec request received on stdin (kept by a cmdlog with
 * want_stdin), under its command: the text as it came when it is short
 * text, as the text audit shows it, else its size. */
static void
html_cmd_stdin(FILE *f, const struct replay_cmd_row *d)
{
	if (!replay_cmd_stdin_is_text(d)) {
		fprintf(f, "<br><small>stdin: %" PRIu64 " bytes (%s; export "
		    "--format json has them)</small>", d->in_total,
		    d->in_total > d->in_len ? "more than 4096 bytes" : "not text");
		return;
	}
	fputs("<div class=\"stdin\"><small>stdin:</small><br>", f);
	html_bytes(f, d->in, d->in_len);
	fputs("</div>", f);
}

void
html_cmd_table(FILE *f, uint64_t start, const struct replay_cmdlog *log,
    const char *idp, int links)
{
	const struct replay_cmd_row *d;
	char t[32], ex[40];
	size_t i;

	fputs("<table>\n<tr><th>#</th><th>time</th><th>offset</th>"
	    "<th>mode</th><th>decision</th><th>rule</th><th>approver</th>"
	    "<th>exit</th><th>command</th></tr>\n", f);
	for (i = 0; i < log->n; i++) {
		d = &log->v[i];
		replay_time(start + d->t_ns, t, sizeof(t));
		replay_cmd_exit_str(d, ex, sizeof(ex));
		fputs("<tr", f);
		if (idp != NULL) {
			fputs(" id=\"", f);
			html_str(f, idp);
			fprintf(f, "row-%zu\"", i + 1);
		}
		if (links)
			fprintf(f, "><td><a href=\"#cmd-%zu\" data-t=\"%.6f\">%zu"
			    "</a></td>", i + 1, (double)d->t_ns / 1e9, i + 1);
		else
			fprintf(f, "><td>%zu</td>", i + 1);
		fprintf(f, "<td>%s</td><td>+%.3f</td><td>", t, (double)d->t_ns / 1e9);
		html_str(f, d->mode);
		if (d->cmd_seq != 0)
			fprintf(f, ":%" PRIu64, d->cmd_seq);
		fprintf(f, "</td><td class=\"%s\">", html_verdict_class(d->verdict));
		html_str(f, d->verdict);
		fputs("</td><td>", f);
		html_str(f, d->rule);
		fputs("</td><td>", f);
		html_str(f, d->approver);
		fputs("</td><td>", f);
		html_str(f, ex);
		fputs("</td><td class=\"code\">", f);
		html_str(f, d->command);
		if (d->reason[0] && strcmp(d->verdict, "allow") != 0) {
			fputs("<br><small>", f);
			html_str(f, d->reason);
			fputs("</small>", f);
		}
		if (d->in_exec && d->in_total > 0)
			html_cmd_stdin(f, d);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* "#N +S.SSSs DECISION: COMMAND", escaped for an attribute. */
static void
html_timeline_label(FILE *f, size_t n, const struct replay_cmd_row *d)
{
	fprintf(f, "#%zu +%.3fs ", n, (double)d->t_ns / 1e9);
	html_str(f, d->verdict);
	fputs(": ", f);
	html_str(f, d->command);
}

void
html_timeline(FILE *f, const struct replay_cmdlog *log, uint64_t dur_ns,
    const char *href, int seek)
{
	const struct replay_cmd_row *d;
	size_t i;

	fputs("<div class=\"timeline\">", f);
	for (i = 0; i < log->n; i++) {
		d = &log->v[i];
		fprintf(f, "<a class=\"%s\" href=\"#", html_verdict_class(d->verdict));
		html_str(f, href);
		fprintf(f, "%zu\" style=\"left:%.2f%%\"", i + 1, dur_ns ?
		    99.2 * (double)d->t_ns / (double)dur_ns : 0.0);
		if (seek) {
			fprintf(f, " data-t=\"%.6f\" data-label=\"",
			    (double)d->t_ns / 1e9);
			html_timeline_label(f, i + 1, d);
			fputc('"', f);
		}
		fputs(" title=\"", f);
		html_timeline_label(f, i + 1, d);
		fputs("\"></a>", f);
	}
	fprintf(f, "</div>\n<div class=\"tscale\"><span>+0 s</span><span>+%.3f s"
	    "</span></div>\n", (double)dur_ns / 1e9);
	if (!seek)
		return;
	fputs("<ol class=\"cmdlist\">\n", f);
	for (i = 0; i < log->n; i++) {
		d = &log->v[i];
		fprintf(f, "<li><a href=\"#cmd-%zu\" data-t=\"%.6f\" data-label=\"",
		    i + 1, (double)d->t_ns / 1e9);
		html_timeline_label(f, i + 1, d);
		fprintf(f, "\">+%.3f s</a> <span class=\"%s\">",
		    (double)d->t_ns / 1e9, html_verdict_class(d->verdict));
		html_str(f, d->verdict);
		fputs("</span> <span class=\"code\">", f);
		html_str(f, d->command);
		fputs("</span></li>\n", f);
	}
	fputs("</ol>\n", f);
}

void
html_xfer_table(FILE *f, uint64_t start, const struct replay_xfers *xs)
{
	const struct replay_xfer *x;
	char t[32];
	size_t i, k;

	fputs("<table>\n<tr><th>#</th><th>time</th><th>type</th><th>outcome</th>"
	    "<th>size</th><th>SHA-256</th><th>path</th></tr>\n", f);
	for (i = 0; i < xs->n; i++) {
		x = &xs->v[i];
		replay_time(start + x->t_ns, t, sizeof(t));
		fprintf(f, "<tr><td>%zu</td><td>%s</td><td>", i + 1, t);
		html_str(f, replay_xfer_type(x));
		fputs("</td><td>", f);
		html_str(f, replay_xfer_outcome(x));
		fputs("</td><td>", f);
		if (x->has_size)
			fprintf(f, "%" PRIu64, x->size);
		else
			fputs("-", f);
		fputs("</td><td class=\"code\">", f);
		if (x->has_sha)
			for (k = 0; k < 32; k++)
				fprintf(f, "%02x", x->sha[k]);
		else
			fputs("-", f);
		fputs("</td><td class=\"code\">", f);
		html_str(f, x->path);
		if (x->path2[0]) {
			fputs(" &rarr; ", f);
			html_str(f, x->path2);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}
