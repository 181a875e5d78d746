/* pol-parse-dump: prints how the policy's shell parser (pol_cmdline_parse)
 * reads each of a series of command lines, as one JSON object per line, for
 * the differential test against bash (tests/diff/bash_diff.py).
 *
 * Input (stdin): one command line per input line, hex-encoded (so that a
 * command line may hold newlines, CR and any byte).  An input line that is
 * not valid hex gives {"bad_input":true}.
 *
 * Output (stdout), one line per input line.  A line the parser refuses:
 *   {"ok":false,"error":-8,"offset":3,"msg":"..."}
 * A line it accepts:
 *   {"ok":true,"constructs":N,"cmds":[{"words":[{"hex":"6c73","flags":0,
 *    "seg":[[kind,in_dq,off,len]...]}],
 *    "assign":["hex"],"redirs":[{"fd":-1,"op":">","target":"hex","file":true}],
 *    "constructs":N,"depth":0,"sep":";"}],
 *    "rendered":"hex"|null,"render_error":0,"reparse":null|"what differs"}
 * "rendered" is pol_render(parse, line, POL_C_ALL) (every construct
 * permitted); "reparse" says how the rendered line parses differently from
 * the original (null: the same commands, see tests/diff/render_check.h).
 * Without a renderer in libescort-policy (built without POL_HAVE_RENDER),
 * the three members are absent.
 *
 * usage: pol-parse-dump [-n]   (-n: '#' is not a comment, as
 * POL_PARSE_NO_COMMENTS).  Exit 0, or 2 on a usage or output error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cmdline.h"
#include "policy/policy.h"
#include "tests/diff/render_check.h"

static void
put_hex(FILE *f, const char *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", (unsigned char)p[i]);
	fputc('"', f);
}

static void
put_str(FILE *f, const char *p)
{
	fputc('"', f);
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int
unhex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex in place; returns the byte count or -1. */
static long
unhex(char *s, size_t n)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int h = unhex_digit((unsigned char)s[i]), l = unhex_digit((unsigned char)s[i + 1]);
		if (h < 0 || l < 0)
			return -1;
		s[i / 2] = (char)(h << 4 | l);
	}
	return (long)(n / 2);
}

/* [[kind,in_dq,off,len],...]: what each byte range of the word is to the shell. */
static void
put_segs(FILE *f, const struct pol_word *w)
{
	fputc('[', f);
	for (size_t i = 0; i < w->nseg; i++)
		fprintf(f, "%s[%u,%d,%zu,%zu]", i ? "," : "", w->seg[i].kind, w->seg[i].in_dq ? 1 : 0,
		    w->seg[i].off, w->seg[i].len);
	fputc(']', f);
}

static void
dump_cmds(FILE *f, const struct pol_cmdline *c)
{
	fprintf(f, "\"constructs\":%u,\"cmds\":[", c->constructs);
	for (size_t i = 0; i < c->nsimple; i++) {
		const struct pol_simple *sc = &c->simple[i];
		fprintf(f, "%s{\"words\":[", i ? "," : "");
		for (size_t k = 0; k < sc->nwords; k++) {
			fprintf(f, "%s{\"hex\":", k ? "," : "");
			put_hex(f, sc->words[k].s, sc->words[k].len);
			fprintf(f, ",\"flags\":%u,\"seg\":", sc->words[k].flags);
			put_segs(f, &sc->words[k]);
			fputc('}', f);
		}
		fputs("],\"assign\":[", f);
		for (size_t k = 0; k < sc->nassign; k++) {
			fputs(k ? "," : "", f);
			put_hex(f, sc->assign[k], strlen(sc->assign[k]));
		}
		fputs("],\"redirs\":[", f);
		for (size_t k = 0; k < sc->nredirs; k++) {
			const struct pol_redir *r = &sc->redirs[k];
			fprintf(f, "%s{\"fd\":%d,\"op\":", k ? "," : "", r->fd);
			put_str(f, r->op);
			fputs(",\"target\":", f);
			put_hex(f, r->target, strlen(r->target));
			fprintf(f, ",\"file\":%s}", r->is_file ? "true" : "false");
		}
		fprintf(f, "],\"constructs\":%u,\"depth\":%d,\"sep\":", sc->constructs, sc->depth);
		put_str(f, sc->sep);
		fputc('}', f);
	}
	fputc(']', f);
}

#ifdef POL_HAVE_RENDER
static void
dump_render(FILE *f, const struct pol_cmdline *c, const char *line, size_t len, unsigned opts)
{
	char *out = NULL;
	int r = pol_render(c, line, len, POL_C_ALL, &out);
	fprintf(f, ",\"render_error\":%d,\"rendered\":", r);
	if (r != 0 || out == NULL) {
		fputs("null,\"reparse\":null", f);
		free(out);
		return;
	}
	put_hex(f, out, strlen(out));
	struct pol_cmdline *again = NULL;
	char why[256] = "";
	pol_cmdline_parse_opts(out, strlen(out), opts, &again);
	fputs(",\"reparse\":", f);
	if (again == NULL)
		put_str(f, "out of memory");
	else if (rc_compare(c, again, why, sizeof(why)) != 0)
		put_str(f, why);
	else
		fputs("null", f);
	pol_cmdline_free(again);
	free(out);
}
#endif

int
main(int argc, char **argv)
{
	unsigned opts = 0;
	if (argc == 2 && strcmp(argv[1], "-n") == 0)
		opts = POL_PARSE_NO_COMMENTS;
	else if (argc != 1) {
		fprintf(stderr, "usage: pol-parse-dump [-n] < hex-lines\n");
		return 2;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&buf, &cap, stdin)) >= 0) {
		size_t l = (size_t)n;
		while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			l--;
		long len = unhex(buf, l);
		if (len < 0) {
			puts("{\"bad_input\":true}");
			continue;
		}
		struct pol_cmdline *c = NULL;
		int r = pol_cmdline_parse_opts(buf, (size_t)len, opts, &c);
		if (c == NULL) {
			printf("{\"ok\":false,\"error\":%d,\"offset\":0,\"msg\":\"out of memory\"}\n", r);
			continue;
		}
		if (r != 0) {
			printf("{\"ok\":false,\"error\":%d,\"offset\":%zu,\"msg\":", c->error, c->err_offset);
			put_str(stdout, c->err_msg);
			puts("}");
		} else {
			fputs("{\"ok\":true,", stdout);
			dump_cmds(stdout, c);
#ifdef POL_HAVE_RENDER
			dump_render(stdout, c, buf, (size_t)len, opts);
#endif
			puts("}");
		}
		pol_cmdline_free(c);
	}
	free(buf);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 2;
	return 0;
}
