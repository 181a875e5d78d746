/* cmd_describe.c: a readable account of a parsed command line (explain). */
#include <stdio.h>
#include <string.h>

#include "policy/cmdline.h"

static void
put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
put_constructs(FILE *f, unsigned bits)
{
	bool first = true;
	for (unsigned b = 1; b & POL_C_ALL; b <<= 1)
		if (bits & b) {
			fprintf(f, "%s%s", first ? "" : " ", pol_construct_name(b));
			first = false;
		}
	if (first)
		fputs("none", f);
}

void
pol_cmdline_describe(const struct pol_cmdline *c, FILE *f)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsimple; i++) {
		const struct pol_simple *sc = &c->simple[i];
		fprintf(f, "command %zu%s:", i + 1, sc->depth ? " (substituted)" : "");
		for (size_t k = 0; k < sc->nassign; k++) {
			fputc(' ', f);
			put_quoted(f, sc->assign[k], strlen(sc->assign[k]));
		}
		for (size_t k = 0; k < sc->nwords; k++) {
			fputc(' ', f);
			put_quoted(f, sc->words[k].s, sc->words[k].len);
		}
		for (size_t k = 0; k < sc->nredirs; k++) {
			fprintf(f, " [%s ", sc->redirs[k].op);
			put_quoted(f, sc->redirs[k].target, strlen(sc->redirs[k].target));
			fputc(']', f);
		}
		if (sc->sep[0])
			fprintf(f, " then %s", sc->sep[0] == '\n' ? "newline" : sc->sep);
		fputc('\n', f);
		unsigned shown = sc->constructs & ~(POL_C_LIST);
		if (shown) {
			fputs("  constructs: ", f);
			put_constructs(f, shown);
			fputc('\n', f);
		}
	}
	if (c->error)
		fprintf(f, "unparsable at byte %zu: %s\n", c->err_offset, c->err_msg);
}

