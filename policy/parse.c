/*
 * parse.c: reads escort-policy(5) text into a policy object.  A line-based
 * lexer (words, "strings", braces, newlines; # comments) feeds statements
 * to a small state machine: top level, or inside one user / target / rule /
 * forbid block.  Every mistake is reported with FILE:LINE:COL and parsing
 * goes on with the next statement.  References are checked later
 * (resolve.c), once every file is read.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/keytext.h"
#include "policy/pol_int.h"

enum tok_kind { T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_NL, T_EOF };

struct tok {
	enum tok_kind kind;
	const char *s;		/* arena copy (WORD, STRING) */
	size_t len;
	int line, col;
};

enum block { B_TOP, B_USER, B_TARGET, B_RULE, B_FORBID, B_SKIP };

struct pstate {
	struct policy *p;
	struct pol_diags *d;
	const char *file;	/* arena copy */
	const char *buf;
	size_t len, i;
	int line;
	size_t line_start;
	int depth;
	void *sha;
	enum block block;
	int block_line, block_col;
	struct user_int *user;
	struct target_int *target;
	struct pol_rule *rule;
	bool bad_addr;
	int nerr;
};

#define MAXARGS 64

static void
err(struct pstate *S, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
err(struct pstate *S, int line, int col, const char *fmt, ...)
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

/* ---- lexer ------------------------------------------------------------- */

static int
lex(struct pstate *S, struct tok *t)
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
		err(S, t->line, t->col, "control character 0x%02x", (unsigned char)ch);
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
		char *out = arena_alloc(&S->p->arena, e - S->i + 1);
		if (out == NULL)
			return POL_E_NOMEM;
		size_t n = 0;
		bool ok = false;
		while (j < S->len && S->buf[j] != '\n') {
			char c = S->buf[j];
			if (c == '\0') {
				err(S, S->line, (int)(j - S->line_start) + 1, "NUL byte in string");
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
				err(S, S->line, (int)(j - S->line_start) + 1,
				    "unknown escape '\\%c' in string (only \\\" and \\\\)",
				    isprint((unsigned char)e) ? e : '?');
				j += (e == '\0' || e == '\n') ? 1 : 2;
				continue;
			}
			out[n++] = c;
			j++;
		}
		if (!ok)
			err(S, t->line, t->col, "unterminated string");
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
	t->s = arena_strndup(&S->p->arena, S->buf + S->i, j - S->i);
	t->len = j - S->i;
	S->i = j;
	return t->s ? 0 : POL_E_NOMEM;
}

/* ---- value parsers ------------------------------------------------------ */

static bool
is_ident(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("_-.@", *s)))
			return false;
	return true;
}

/* Parses a duration like 90s, 30m, 2h, 1d, 1h30m.  Returns seconds or -1. */
static long
parse_duration(const char *s)
{
	long total = 0;
	if (*s == '\0')
		return -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		char *end;
		long v = strtol(s, &end, 10);
		if (errno || v > 10000000)
			return -1;
		long mul;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		total += v * mul;
		if (total > 366L * 86400)
			return -1;
		s = end + 1;
	}
	return total;
}

static int
day_index(const char *s, size_t n)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	if (n != 3)
		return -1;
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, days[i], 3) == 0)
			return i;
	return -1;
}

/* "Mon-Fri", "Sat,Sun", "Mon,Wed-Fri", "*".  Returns the day mask or -1. */
static int
parse_days(const char *s)
{
	if (strcmp(s, "*") == 0 || strcasecmp(s, "daily") == 0)
		return 0x7f;
	int mask = 0;
	while (*s) {
		const char *e = s + strcspn(s, ",");
		const char *dash = memchr(s, '-', (size_t)(e - s));
		int a, b;
		if (dash) {
			a = day_index(s, (size_t)(dash - s));
			b = day_index(dash + 1, (size_t)(e - dash - 1));
		} else {
			a = b = day_index(s, (size_t)(e - s));
		}
		if (a < 0 || b < 0)
			return -1;
		for (int k = a;; k = (k + 1) % 7) {
			mask |= 1 << k;
			if (k == b)
				break;
		}
		s = *e ? e + 1 : e;
	}
	return mask ? mask : -1;
}

static int
parse_hhmm(const char *s, size_t n)
{
	if (n != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

/* "UTC", "Z", "+02:00", "-05:30", "UTC+2".  Returns minutes or INT_MIN. */
static int
parse_tz(const char *s)
{
	if (strcasecmp(s, "UTC") == 0 || strcasecmp(s, "Z") == 0 || strcasecmp(s, "GMT") == 0)
		return 0;
	if (strncasecmp(s, "UTC", 3) == 0)
		s += 3;
	if (*s != '+' && *s != '-')
		return INT_MIN;
	int sign = *s == '-' ? -1 : 1;
	s++;
	int h = 0, m = 0;
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == ':' &&
	    isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) && s[5] == '\0') {
		h = (s[0] - '0') * 10 + (s[1] - '0');
		m = (s[3] - '0') * 10 + (s[4] - '0');
	} else {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || *end != '\0')
			return INT_MIN;
		h = (int)v;
	}
	if (h > 14 || m > 59)
		return INT_MIN;
	return sign * (h * 60 + m);
}

/* ---- statements ----------------------------------------------------------- */

static bool
want_args(struct pstate *S, struct tok *v, int n, int lo, int hi, const char *usage)
{
	if (n - 1 < lo || n - 1 > hi) {
		int col = n - 1 > hi ? v[hi + 1].col : v[0].col;
		int line = n - 1 > hi ? v[hi + 1].line : v[0].line;
		err(S, line, col, "%s: usage: %s", v[0].s, usage);
		return false;
	}
	return true;
}

static void
parse_spec(struct pstate *S, struct tok *t, struct spec *sp, bool for_target)
{
	const char *s = t->s;
	sp->line = t->line;
	sp->col = t->col;
	if (strcmp(s, "*") == 0) {
		sp->kind = SPEC_ANY;
		return;
	}
	const char *colon = strchr(s, ':');
	if (colon == NULL || colon[1] == '\0') {
		err(S, t->line, t->col, "bad %s '%s': expected %s", for_target ? "where" : "who", s,
		    for_target ? "target:GLOB, label:KEY=VALUE or *" :
		    "user:NAME, group:NAME, attr:KEY=VALUE, attr:KEY!=VALUE or *");
		sp->kind = SPEC_ANY;
		sp->a = "";
		return;
	}
	size_t kl = (size_t)(colon - s);
	const char *rest = colon + 1;
	struct arena *A = &S->p->arena;
	if (!for_target && kl == 4 && strncmp(s, "user", 4) == 0) {
		sp->kind = SPEC_USER;
		sp->a = rest;
		return;
	}
	if (!for_target && kl == 5 && strncmp(s, "group", 5) == 0) {
		sp->kind = SPEC_GROUP;
		sp->a = rest;
		return;
	}
	if (for_target && kl == 6 && strncmp(s, "target", 6) == 0) {
		sp->kind = SPEC_TARGET;
		sp->a = rest;
		return;
	}
	if ((!for_target && kl == 4 && strncmp(s, "attr", 4) == 0) ||
	    (for_target && kl == 5 && strncmp(s, "label", 5) == 0)) {
		const char *ne = strstr(rest, "!=");
		const char *eq = strchr(rest, '=');
		if (ne != NULL && ne < eq) {
			sp->kind = for_target ? SPEC_LABEL_NE : SPEC_ATTR_NE;
			sp->a = arena_strndup(A, rest, (size_t)(ne - rest));
			sp->b = ne + 2;
		} else if (eq != NULL) {
			sp->kind = for_target ? SPEC_LABEL_EQ : SPEC_ATTR_EQ;
			sp->a = arena_strndup(A, rest, (size_t)(eq - rest));
			sp->b = eq + 1;
		}
		if (sp->a == NULL || sp->a[0] == '\0' || sp->b == NULL) {
			err(S, t->line, t->col, "bad %s '%s': expected %s:KEY=VALUE",
			    for_target ? "label" : "attribute", s, for_target ? "label" : "attr");
			sp->kind = SPEC_ANY;
			sp->a = "";
		}
		return;
	}
	err(S, t->line, t->col, "unknown %s kind '%.*s' (expected %s)", for_target ? "where" : "who",
	    (int)kl, s, for_target ? "target, label or *" : "user, group, attr or *");
	sp->kind = SPEC_ANY;
	sp->a = "";
}

static void
add_specs(struct pstate *S, struct tok *v, int n, struct spec **vec, size_t *cnt,
    size_t *cap, bool for_target)
{
	if (n < 2) {
		err(S, v[0].line, v[0].col, "%s: needs at least one %s", v[0].s,
		    for_target ? "target:GLOB, label:KEY=VALUE or *" : "user:NAME, group:NAME, attr:KEY=VALUE or *");
		return;
	}
	for (int k = 1; k < n; k++) {
		struct spec *sp = arena_push(&S->p->arena, vec, cnt, cap, sizeof(**vec));
		if (sp == NULL)
			return;
		parse_spec(S, &v[k], sp, for_target);
	}
}

static void
stmt_when(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!want_args(S, v, n, 1, 3, "when [DAYS] HH:MM-HH:MM [UTC|+HH:MM]"))
		return;
	struct when w = { .days = 0x7f, .from = 0, .to = 24 * 60, .line = v[0].line,
		.col = v[0].col };
	int k = 1;
	if (strchr(v[k].s, ':') == NULL) {
		int m = parse_days(v[k].s);
		if (m < 0) {
			err(S, v[k].line, v[k].col, "bad days '%s': expected e.g. Mon-Fri or Sat,Sun", v[k].s);
			return;
		}
		w.days = (unsigned)m;
		k++;
	}
	if (k < n) {
		const char *s = v[k].s;
		const char *dash = strchr(s, '-');
		int a = dash ? parse_hhmm(s, (size_t)(dash - s)) : -1;
		int b = dash ? parse_hhmm(dash + 1, strlen(dash + 1)) : -1;
		if (a < 0 || b < 0 || a == b) {
			err(S, v[k].line, v[k].col, "bad time range '%s': expected HH:MM-HH:MM", s);
			return;
		}
		w.from = a;
		w.to = b;
		k++;
	}
	if (k < n) {
		int tz = parse_tz(v[k].s);
		if (tz == INT_MIN) {
			err(S, v[k].line, v[k].col, "bad time zone '%s': expected UTC or +HH:MM", v[k].s);
			return;
		}
		w.tz = tz;
		k++;
	}
	if (k < n) {
		err(S, v[k].line, v[k].col, "when: unexpected '%s'", v[k].s);
		return;
	}
	struct when *e = ARENA_PUSH(&S->p->arena, r->when, r->nwhen, r->cwhen);
	if (e)
		*e = w;
}

static void
stmt_pattern(struct pstate *S, struct tok *v, int n, struct pol_rule *r, enum pol_verdict vd)
{
	if (!want_args(S, v, n, 1, 2, "allow|approve|deny \"PATTERN\" [\"REASON\"]"))
		return;
	const char *text = v[1].s;
	struct arena *A = &S->p->arena;
	struct pattern pt = { .verdict = vd, .text = text, .line = v[1].line, .col = v[1].col,
		.rule = r, .reason = n > 2 ? v[2].s : NULL };
	size_t cap = 0;
	const char *s = text;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		const char *e = s;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		struct pword *w = ARENA_PUSH(A, pt.w, pt.nw, cap);
		if (w == NULL)
			return;
		w->s = arena_strndup(A, s, (size_t)(e - s));
		w->len = (size_t)(e - s);
		w->ellipsis = w->len == 3 && memcmp(s, "...", 3) == 0;
		w->star = memchr(s, '*', w->len) != NULL;
		w->slash = memchr(s, '/', w->len) != NULL;
		if (!w->ellipsis && strstr(w->s, "...") != NULL && w->len > 3)
			err(S, v[1].line, v[1].col + (int)(s - text) + 1,
			    "'...' must be a word of its own in '%s'", text);
		s = e;
	}
	if (pt.nw == 0) {
		err(S, v[1].line, v[1].col, "empty pattern");
		return;
	}
	for (size_t k = 1; k < pt.nw; k++)
		if (pt.w[k].ellipsis && pt.w[k - 1].ellipsis) {
			err(S, v[1].line, v[1].col, "'... ...' in pattern '%s'", text);
			return;
		}
	struct pattern *e = ARENA_PUSH(A, r->pats, r->npats, r->cpats);
	if (e)
		*e = pt;
}

static int
set_enum(struct pstate *S, struct tok *v, int n, const char *const *names, int *out)
{
	char usage[160] = "";
	for (int k = 0; names[k]; k++)
		snprintf(usage + strlen(usage), sizeof(usage) - strlen(usage), "%s%s",
		    k ? "|" : "", names[k]);
	if (n != 2) {
		err(S, v[0].line, n > 2 ? v[2].col : v[0].col, "%s: expected one of %s", v[0].s, usage);
		return -1;
	}
	for (int k = 0; names[k]; k++)
		if (strcmp(v[1].s, names[k]) == 0) {
			if (*out != -1)
				err(S, v[0].line, v[0].col, "'%s' given twice in this block", v[0].s);
			*out = k;
			return k;
		}
	err(S, v[1].line, v[1].col, "bad %s '%s': expected one of %s", v[0].s, v[1].s, usage);
	return -1;
}

static void
stmt_rule(struct pstate *S, struct tok *v, int n)
{
	struct pol_rule *r = S->rule;
	const char *kw = v[0].s;
	struct arena *A = &S->p->arena;
	bool forbid = r->forbid;
	if (strcmp(kw, "who") == 0) {
		if (!r->who_line)
			r->who_line = v[0].line;
		add_specs(S, v, n, &r->who, &r->nwho, &r->cwho, false);
	} else if (strcmp(kw, "where") == 0) {
		if (!r->where_line)
			r->where_line = v[0].line;
		add_specs(S, v, n, &r->where, &r->nwhere, &r->cwhere, true);
	} else if (strcmp(kw, "when") == 0) {
		stmt_when(S, v, n, r);
	} else if (strcmp(kw, "reason") == 0) {
		if (want_args(S, v, n, 1, 1, "reason \"TEXT\""))
			r->reason = v[1].s;
	} else if (forbid) {
		err(S, v[0].line, v[0].col, "'%s' is not allowed in a forbid block (only who, where, when, reason)", kw);
	} else if (strcmp(kw, "escort") == 0) {
		add_specs(S, v, n, &r->escort, &r->nescort, &r->cescort, false);
	} else if (strcmp(kw, "shell") == 0) {
		static const char *const names[] = { "none", "strict", "observe", NULL };
		set_enum(S, v, n, names, &r->shell);
	} else if (strcmp(kw, "exec") == 0) {
		static const char *const names[] = { "no", "yes", NULL };
		set_enum(S, v, n, names, &r->exec);
	} else if (strcmp(kw, "sftp") == 0) {
		static const char *const names[] = { "none", "download", "upload", "both", NULL };
		set_enum(S, v, n, names, &r->sftp);
	} else if (strcmp(kw, "forward") == 0) {
		static const char *const names[] = { "none", "local", NULL };
		set_enum(S, v, n, names, &r->forward);
	} else if (strcmp(kw, "max-session") == 0) {
		if (!want_args(S, v, n, 1, 1, "max-session DURATION (e.g. 2h, 30m, 1h30m)"))
			return;
		long d = parse_duration(v[1].s);
		if (d <= 0)
			err(S, v[1].line, v[1].col, "bad duration '%s': expected e.g. 90s, 30m, 2h, 1h30m", v[1].s);
		else
			r->max_session = d;
	} else if (strcmp(kw, "allow") == 0) {
		stmt_pattern(S, v, n, r, POL_ALLOW);
	} else if (strcmp(kw, "approve") == 0) {
		stmt_pattern(S, v, n, r, POL_APPROVE);
	} else if (strcmp(kw, "deny") == 0) {
		stmt_pattern(S, v, n, r, POL_DENY);
	} else if (strcmp(kw, "construct") == 0) {
		if (n < 2)
			err(S, v[0].line, v[0].col, "construct: needs at least one construct name");
		for (int k = 1; k < n; k++) {
			unsigned b = pol_construct_bit(v[k].s);
			if (b == 0 || b == POL_C_LIST || b == POL_C_PIPE || b == POL_C_REDIR_FD ||
			    b == POL_C_COMMENT || b == POL_C_TILDE || b == POL_C_GLOB)
				err(S, v[k].line, v[k].col, "unknown construct '%s' (expected background, "
				    "substitution, backticks, process-substitution, redirect, heredoc, "
				    "assignment, variable, variable-command, glob-command, brace, history)",
				    v[k].s);
			else
				r->constructs |= b;
		}
	} else {
		err(S, v[0].line, v[0].col, "unknown keyword '%s' in rule '%s'", kw, r->name);
	}
	(void)A;
}

static void
stmt_user(struct pstate *S, struct tok *v, int n)
{
	struct user_int *u = S->user;
	struct arena *A = &S->p->arena;
	if (strcmp(v[0].s, "key") == 0) {
		if (!want_args(S, v, n, 1, 1, "key \"TYPE BASE64 [COMMENT]\""))
			return;
		char *norm = NULL;
		const char *why = keytext_normalize(A, v[1].s, &norm);
		if (why != NULL) {
			err(S, v[1].line, v[1].col, "bad key: %s", why);
			return;
		}
		const char **e = arena_push(A, &u->pub.keys, &u->pub.nkeys, &u->kcap, sizeof(char *));
		if (e)
			*e = norm;
	} else if (strcmp(v[0].s, "attr") == 0) {
		if (!want_args(S, v, n, 2, 2, "attr KEY VALUE"))
			return;
		struct pol_kv *e = arena_push(A, &u->pub.attrs, &u->pub.nattrs, &u->acap, sizeof(*e));
		if (e) {
			e->key = v[1].s;
			e->value = v[2].s;
		}
	} else {
		err(S, v[0].line, v[0].col, "unknown keyword '%s' in user '%s' (expected key or attr)",
		    v[0].s, u->pub.name);
	}
}

static void
stmt_target(struct pstate *S, struct tok *v, int n)
{
	struct target_int *t = S->target;
	struct arena *A = &S->p->arena;
	const char *kw = v[0].s;
	if (strcmp(kw, "address") == 0) {
		if (!want_args(S, v, n, 1, 1, "address HOST[:PORT]"))
			return;
		const char *s = v[1].s, *host = s, *port = NULL;
		size_t hl;
		if (s[0] == '[') {
			const char *rb = strchr(s, ']');
			if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) {
				err(S, v[1].line, v[1].col, "bad address '%s': expected [IPV6]:PORT", s);
				return;
			}
			host = s + 1;
			hl = (size_t)(rb - host);
			if (rb[1] == ':')
				port = rb + 2;
		} else {
			const char *c = strrchr(s, ':');
			if (c != NULL && strchr(s, ':') != c) {
				err(S, v[1].line, v[1].col, "bad address '%s': write IPv6 as [ADDR]:PORT", s);
				return;
			}
			hl = c ? (size_t)(c - s) : strlen(s);
			if (c)
				port = c + 1;
		}
		if (hl == 0) {
			err(S, v[1].line, v[1].col, "bad address '%s': no host", s);
			return;
		}
		long pn = 22;
		if (port != NULL) {
			char *end;
			errno = 0;
			pn = strtol(port, &end, 10);
			if (*port == '\0' || *end != '\0' || errno || pn < 1 || pn > 65535) {
				err(S, v[1].line, v[1].col + (int)(port - s), "bad port '%s': expected 1-65535", port);
				return;
			}
		}
		t->pub.host = arena_strndup(A, host, hl);
		t->pub.port = (uint16_t)pn;
	} else if (strcmp(kw, "login") == 0) {
		if (want_args(S, v, n, 1, 1, "login ACCOUNT"))
			t->pub.login = v[1].s;
	} else if (strcmp(kw, "identity") == 0) {
		if (want_args(S, v, n, 1, 1, "identity PATH")) {
			t->pub.identity = v[1].s;
			t->identity_line = v[1].line;
			t->identity_col = v[1].col;
		}
	} else if (strcmp(kw, "hostkey") == 0) {
		if (!want_args(S, v, n, 1, 1, "hostkey \"TYPE BASE64\""))
			return;
		char *norm = NULL;
		const char *why = keytext_normalize(A, v[1].s, &norm);
		if (why != NULL)
			err(S, v[1].line, v[1].col, "bad hostkey: %s", why);
		else
			t->pub.hostkey = norm;
	} else if (strcmp(kw, "label") == 0) {
		if (!want_args(S, v, n, 2, 2, "label KEY VALUE"))
			return;
		struct pol_kv *e = arena_push(A, &t->pub.labels, &t->pub.nlabels, &t->lcap, sizeof(*e));
		if (e) {
			e->key = v[1].s;
			e->value = v[2].s;
		}
	} else {
		err(S, v[0].line, v[0].col, "unknown keyword '%s' in target '%s' (expected address, "
		    "login, identity, hostkey or label)", kw, t->pub.name);
	}
}

static void
open_block(struct pstate *S, struct tok *v, int n, enum tok_kind end)
{
	const char *kw = v[0].s;
	struct arena *A = &S->p->arena;
	struct policy *p = S->p;
	if (end != T_LBRACE) {
		err(S, v[0].line, v[n - 1].col + (int)v[n - 1].len + (v[n - 1].kind == T_STRING ? 2 : 0),
		    "expected '{' after %s %s", kw, n > 1 ? v[1].s : "NAME");
		S->block = B_SKIP;
		return;
	}
	S->block_line = v[0].line;
	S->block_col = v[0].col;
	if (n != 2 || !is_ident(v[1].s)) {
		err(S, n > 1 ? v[1].line : v[0].line, n > 1 ? v[1].col : v[0].col,
		    "%s: expected one name (letters, digits, _ - . @) before '{'", kw);
		S->block = B_SKIP;
		return;
	}
	if (strcmp(kw, "user") == 0) {
		struct user_int *u = arena_alloc(A, sizeof(*u));
		struct user_int **e = ARENA_PUSH(A, p->users, p->nusers, p->cusers);
		if (!u || !e)
			return;
		*e = u;
		u->pub.name = v[1].s;
		u->pub.file = S->file;
		u->pub.line = v[0].line;
		u->col = v[1].col;
		S->user = u;
		S->block = B_USER;
	} else if (strcmp(kw, "target") == 0) {
		struct target_int *t = arena_alloc(A, sizeof(*t));
		struct target_int **e = ARENA_PUSH(A, p->targets, p->ntargets, p->ctargets);
		if (!t || !e)
			return;
		*e = t;
		t->pub.name = v[1].s;
		t->pub.file = S->file;
		t->pub.line = v[0].line;
		t->col = v[1].col;
		S->target = t;
		S->block = B_TARGET;
	} else {
		struct pol_rule *r = arena_alloc(A, sizeof(*r));
		struct pol_rule **e = ARENA_PUSH(A, p->rules, p->nrules, p->crules);
		if (!r || !e)
			return;
		*e = r;
		r->name = v[1].s;
		r->forbid = strcmp(kw, "forbid") == 0;
		r->file = S->file;
		r->line = v[0].line;
		r->col = v[1].col;
		r->shell = r->exec = r->sftp = r->forward = -1;
		r->max_session = -1;
		S->rule = r;
		S->block = r->forbid ? B_FORBID : B_RULE;
	}
}

static void
stmt_include(struct pstate *S, struct tok *v, int n)
{
	if (!want_args(S, v, n, 1, 1, "include GLOB"))
		return;
	if (S->depth >= 8) {
		err(S, v[0].line, v[0].col, "includes nested more than 8 deep");
		return;
	}
#ifdef ESCORT_FUZZING
	err(S, v[0].line, v[0].col, "include: disabled while fuzzing");
	return;
#endif
	char pat[PATH_MAX];
	if (v[1].s[0] == '/' || strchr(S->file, '/') == NULL) {
		snprintf(pat, sizeof(pat), "%s", v[1].s);
	} else {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", S->file);
		snprintf(pat, sizeof(pat), "%s/%s", dirname(dir), v[1].s);
	}
	glob_t g;
	int gr = glob(pat, GLOB_ERR, NULL, &g);
	if (gr == GLOB_NOMATCH) {
		if (strpbrk(v[1].s, "*?[") == NULL)
			err(S, v[1].line, v[1].col, "include: cannot read '%s': no such file", pat);
		return;
	}
	if (gr != 0) {
		err(S, v[1].line, v[1].col, "include: cannot read '%s'", pat);
		return;
	}
	for (size_t k = 0; k < g.gl_pathc; k++)
		pol_parse_file(S->p, g.gl_pathv[k], S->depth + 1, S->d, S->sha, S->file,
		    v[1].line, v[1].col);
	globfree(&g);
}

static void
stmt_expect(struct pstate *S, struct tok *v, int n)
{
	if (!want_args(S, v, n, 4, 4, "expect allow|deny|approve USER TARGET \"COMMAND\""))
		return;
	enum pol_verdict vd;
	if (strcmp(v[1].s, "allow") == 0)
		vd = POL_ALLOW;
	else if (strcmp(v[1].s, "deny") == 0)
		vd = POL_DENY;
	else if (strcmp(v[1].s, "approve") == 0)
		vd = POL_APPROVE;
	else {
		err(S, v[1].line, v[1].col, "bad expectation '%s': expected allow, deny or approve", v[1].s);
		return;
	}
	struct pol_expect *e = ARENA_PUSH(&S->p->arena, S->p->expects, S->p->nexpects,
	    S->p->cexpects);
	if (e == NULL)
		return;
	e->want = vd;
	e->user = v[2].s;
	e->target = v[3].s;
	e->command = v[4].s;
	e->file = S->file;
	e->line = v[0].line;
	e->col = v[0].col;
}

static void
stmt_group(struct pstate *S, struct tok *v, int n)
{
	if (n < 2 || !is_ident(v[1].s)) {
		err(S, n > 1 ? v[1].line : v[0].line, n > 1 ? v[1].col : v[0].col,
		    "group: usage: group NAME USER...");
		return;
	}
	struct arena *A = &S->p->arena;
	struct pol_group *g = arena_alloc(A, sizeof(*g));
	struct pol_group **e = ARENA_PUSH(A, S->p->groups, S->p->ngroups, S->p->cgroups);
	if (!g || !e)
		return;
	*e = g;
	g->name = v[1].s;
	g->file = S->file;
	g->line = v[0].line;
	g->col = v[1].col;
	g->members = arena_alloc(A, sizeof(char *) * (size_t)n);
	g->member_cols = arena_alloc(A, sizeof(int) * (size_t)n);
	if (!g->members || !g->member_cols)
		return;
	for (int k = 2; k < n; k++) {
		g->member_cols[g->nmembers] = v[k].col;
		g->members[g->nmembers++] = v[k].s;
	}
}

static void
statement(struct pstate *S, struct tok *v, int n, enum tok_kind end)
{
	for (int k = 0; k < n; k++)
		if (k == 0 && v[k].kind == T_STRING) {
			err(S, v[k].line, v[k].col, "expected a keyword, found a string");
			return;
		}
	const char *kw = v[0].s;
	switch (S->block) {
	case B_SKIP:
		return;
	case B_TOP:
		if (strcmp(kw, "user") == 0 || strcmp(kw, "target") == 0 ||
		    strcmp(kw, "rule") == 0 || strcmp(kw, "forbid") == 0) {
			open_block(S, v, n, end);
			return;
		}
		if (end == T_LBRACE) {
			err(S, v[0].line, v[0].col, "unknown block '%s' (expected user, target, rule or forbid)", kw);
			S->block = B_SKIP;
			return;
		}
		if (strcmp(kw, "group") == 0)
			stmt_group(S, v, n);
		else if (strcmp(kw, "expect") == 0)
			stmt_expect(S, v, n);
		else if (strcmp(kw, "include") == 0)
			stmt_include(S, v, n);
		else
			err(S, v[0].line, v[0].col, "unknown keyword '%s' (expected user, group, target, "
			    "rule, forbid, expect or include)", kw);
		return;
	default:
		break;
	}
	if (end == T_LBRACE) {
		err(S, v[0].line, v[0].col, "'%s {' inside a block: blocks do not nest (missing '}'?)", kw);
		return;
	}
	if (S->block == B_USER)
		stmt_user(S, v, n);
	else if (S->block == B_TARGET)
		stmt_target(S, v, n);
	else
		stmt_rule(S, v, n);
}

int
pol_parse_buffer(struct policy *p, const char *name, const char *buf, size_t len,
    int depth, struct pol_diags *d, void *sha)
{
	struct pstate S = { .p = p, .d = d, .buf = buf, .len = len, .line = 1,
		.depth = depth, .sha = sha, .block = B_TOP };
	S.file = arena_strdup(&p->arena, name);
	if (S.file == NULL)
		return POL_E_NOMEM;
	if (sha != NULL) {
		char hdr[64];
		int hl = snprintf(hdr, sizeof(hdr), "%zu\n", len);
		EVP_DigestUpdate(sha, hdr, (size_t)hl);
		EVP_DigestUpdate(sha, buf, len);
	}
	struct tok v[MAXARGS + 1];
	int n = 0, r;
	bool too_many = false;
	for (;;) {
		struct tok t;
		if ((r = lex(&S, &t)) != 0)
			return r;
		if (t.kind == T_WORD || t.kind == T_STRING) {
			if (n < MAXARGS)
				v[n++] = t;
			else if (!too_many) {
				err(&S, t.line, t.col, "more than %d words in one statement", MAXARGS);
				too_many = true;
			}
			continue;
		}
		if (n > 0)
			statement(&S, v, n, t.kind);
		else if (t.kind == T_LBRACE)
			err(&S, t.line, t.col, "unexpected '{'");
		if (t.kind == T_LBRACE && n > 0 && S.block == B_TOP)
			S.block = B_SKIP;	/* failed opener: skip its body */
		n = 0;
		too_many = false;
		if (t.kind == T_RBRACE) {
			if (S.block == B_TOP)
				err(&S, t.line, t.col, "unexpected '}'");
			S.block = B_TOP;
			S.user = NULL;
			S.target = NULL;
			S.rule = NULL;
		}
		if (t.kind == T_EOF)
			break;
	}
	if (S.block != B_TOP && S.block != B_SKIP)
		err(&S, S.block_line, S.block_col, "block not closed: missing '}'");
	else if (S.block == B_SKIP)
		err(&S, S.line, 1, "unexpected end of file: missing '}'");
	return S.nerr ? POL_E_SYNTAX : 0;
}

int
pol_parse_file(struct policy *p, const char *path, int depth, struct pol_diags *d,
    void *sha, const char *from, int line, int col)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		if (d)
			pol_diags_add(d, POL_SEV_ERROR, from ? from : path, from ? line : 0,
			    from ? col : 0, "cannot read '%s': %s", path, strerror(e));
		return POL_E_IO;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > 64u << 20) {
				r = POL_E_TOOBIG;
				break;
			}
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				r = POL_E_NOMEM;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f) && r == 0)
		r = POL_E_IO;
	fclose(f);
	if (r == 0)
		r = pol_parse_buffer(p, path, buf ? buf : "", len, depth, d, sha);
	else if (d)
		pol_diags_add(d, POL_SEV_ERROR, path, 0, 0, "cannot read: %s", pol_strerror(r));
	free(buf);
	return r;
}
