/* lex.c: the policy file's tokens: words, "strings" (with \" and \\),
 * braces and newlines; # starts a comment; control bytes are errors. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/parse_int.h"

void
pol__perr(struct pstate *S, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	S->nerr++;
	if (S->d)
		pol_diags_add(S->d, POL_SEV_ERROR, S->file, line, col, "%s", msg);
}


int
pol__lex(struct pstate *S, struct tok *t)
{
again:
	for (;;) {
		while (S->i < S->len && (S->buf[S->i] == ' ' || S->buf[S->i] == '\t' ||
		    S->buf[S->i] == '\r'))
			S->i++;
		if (S->i < S->len && S->buf[S->i] == '#') {
			while (S->i < S->len && S->buf[S->i] != '\n')
				S->i++;
		}
		break;
	}
	t->line = S->line;
	t->col = (int)(S->i - S->line_start) + 1;
	t->s = NULL;
	t->len = 0;
	if (S->i >= S->len) {
		t->kind = T_EOF;
		return 0;
	}
	char ch = S->buf[S->i];
	if (ch == '\0' || (unsigned char)ch == 0x7f || ((unsigned char)ch < 0x20 && ch != '\n')) {
		pol__perr(S, t->line, t->col, "control character 0x%02x", (unsigned char)ch);
		S->i++;
		goto again;
	}
	if (ch == '\n') {
		S->i++;
		S->line++;
		S->line_start = S->i;
		t->kind = T_NL;
		return 0;
	}
	if (ch == '{' || ch == '}') {
		S->i++;
		t->kind = ch == '{' ? T_LBRACE : T_RBRACE;
		return 0;
	}
	if (ch == '"') {
		size_t j = S->i + 1, e = j;
		while (e < S->len && S->buf[e] != '\n' && S->buf[e] != '"')
			e += (S->buf[e] == '\\' && e + 1 < S->len && S->buf[e + 1] != '\n') ? 2 : 1;
		char *out = pol__arena_alloc(&S->p->arena, e - S->i + 1);
		if (out == NULL)
			return POL_E_NOMEM;
		size_t n = 0;
		bool ok = false;
		while (j < S->len && S->buf[j] != '\n') {
			char c = S->buf[j];
			if (c == '\0') {
				pol__perr(S, S->line, (int)(j - S->line_start) + 1, "NUL byte in string");
				j++;
				continue;
			}
			if (c == '"') {
				ok = true;
				j++;
				break;
			}
			if (c == '\\') {
				char e = j + 1 < S->len ? S->buf[j + 1] : '\0';
				if (e == '"' || e == '\\') {
					out[n++] = e;
					j += 2;
					continue;
				}
				pol__perr(S, S->line, (int)(j - S->line_start) + 1,
				    "unknown escape '\\%c' in string (only \\\" and \\\\)",
				    isprint((unsigned char)e) ? e : '?');
				j += (e == '\0' || e == '\n') ? 1 : 2;
				continue;
			}
			out[n++] = c;
			j++;
		}
		if (!ok)
			pol__perr(S, t->line, t->col, "unterminated string");
		out[n] = '\0';
		t->kind = T_STRING;
		t->s = out;
		t->len = n;
		S->i = j;
		return 0;
	}
	size_t j = S->i;
	while (j < S->len && S->buf[j] != '\0' && !strchr(" \t\r\n{}\"", S->buf[j]))
		j++;
	t->kind = T_WORD;
	t->s = pol__arena_strndup(&S->p->arena, S->buf + S->i, j - S->i);
	t->len = j - S->i;
	S->i = j;
	return t->s ? 0 : POL_E_NOMEM;
}


void
pol__pkeyerr(struct pstate *S, int line, int col, const char *what, const char *why)
{
	if (S->p->load_flags & POL_LOAD_LENIENT_KEYS) {
		if (S->d)
			pol_diags_add(S->d, POL_SEV_WARNING, S->file, line, col,
			    "bad %s: %s (left out)", what, why);
		return;
	}
	pol__perr(S, line, col, "bad %s: %s", what, why);
}
