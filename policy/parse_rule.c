/*
 * parse_rule.c: the statements of rule and forbid blocks: who / where /
 * escort specs, when windows, settings, patterns and permitted constructs.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse_int.h"

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
		pol__perr(S, t->line, t->col, "bad %s '%s': expected %s", for_target ? "where" : "who", s,
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
			sp->a = pol__arena_strndup(A, rest, (size_t)(ne - rest));
			sp->b = ne + 2;
		} else if (eq != NULL) {
			sp->kind = for_target ? SPEC_LABEL_EQ : SPEC_ATTR_EQ;
			sp->a = pol__arena_strndup(A, rest, (size_t)(eq - rest));
			sp->b = eq + 1;
		}
		if (sp->a == NULL || sp->a[0] == '\0' || sp->b == NULL) {
			pol__perr(S, t->line, t->col, "bad %s '%s': expected %s:KEY=VALUE",
			    for_target ? "label" : "attribute", s, for_target ? "label" : "attr");
			sp->kind = SPEC_ANY;
			sp->a = "";
		}
		return;
	}
	pol__perr(S, t->line, t->col, "unknown %s kind '%.*s' (expected %s)", for_target ? "where" : "who",
	    (int)kl, s, for_target ? "target, label or *" : "user, group, attr or *");
	sp->kind = SPEC_ANY;
	sp->a = "";
}

static void
add_specs(struct pstate *S, struct tok *v, int n, struct spec **vec, size_t *cnt,
    size_t *cap, bool for_target)
{
	if (n < 2) {
		pol__perr(S, v[0].line, v[0].col, "%s: needs at least one %s", v[0].s,
		    for_target ? "target:GLOB, label:KEY=VALUE or *" : "user:NAME, group:NAME, attr:KEY=VALUE or *");
		return;
	}
	for (int k = 1; k < n; k++) {
		struct spec *sp = pol__arena_push(&S->p->arena, vec, cnt, cap, sizeof(**vec));
		if (sp == NULL)
			return;
		parse_spec(S, &v[k], sp, for_target);
	}
}

static void
stmt_when(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!pol__want_args(S, v, n, 1, 3, "when [DAYS] HH:MM-HH:MM [UTC|+HH:MM|AREA/LOCATION]"))
		return;
	struct when w = { .days = 0x7f, .from = 0, .to = 24 * 60, .line = v[0].line,
		.col = v[0].col };
	int k = 1;
	if (strchr(v[k].s, ':') == NULL) {
		int m = parse_days(v[k].s);
		if (m < 0) {
			pol__perr(S, v[k].line, v[k].col, "bad days '%s': expected e.g. Mon-Fri or Sat,Sun", v[k].s);
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
			pol__perr(S, v[k].line, v[k].col, "bad time range '%s': expected HH:MM-HH:MM", s);
			return;
		}
		w.from = a;
		w.to = b;
		k++;
	}
	if (k < n) {
		int tz = parse_tz(v[k].s);
		if (tz != INT_MIN) {
			w.tz = tz;
		} else if (strchr(v[k].s, '/') != NULL) {
			const char *why = NULL;
			w.zone = pol__tz_load(&S->p->arena, v[k].s, &why);
			if (w.zone == NULL) {
				pol__perr(S, v[k].line, v[k].col, "bad time zone '%s': %s",
				    v[k].s, why);
				return;
			}
		} else {
			pol__perr(S, v[k].line, v[k].col, "bad time zone '%s': expected UTC, +HH:MM or an "
			    "IANA zone such as Europe/Paris", v[k].s);
			return;
		}
		k++;
	}
	if (k < n) {
		pol__perr(S, v[k].line, v[k].col, "when: unexpected '%s'", v[k].s);
		return;
	}
	struct when *e = ARENA_PUSH(&S->p->arena, r->when, r->nwhen, r->cwhen);
	if (e)
		*e = w;
}

static void
stmt_pattern(struct pstate *S, struct tok *v, int n, struct pol_rule *r, enum pol_verdict vd)
{
	if (!pol__want_args(S, v, n, 1, 2, "allow|approve|deny \"PATTERN\" [\"REASON\"]"))
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
		w->s = pol__arena_strndup(A, s, (size_t)(e - s));
		w->len = (size_t)(e - s);
		w->ellipsis = w->len == 3 && memcmp(s, "...", 3) == 0;
		w->star = memchr(s, '*', w->len) != NULL;
		w->slash = memchr(s, '/', w->len) != NULL;
		if (w->slash)	/* compared as arguments are: in normal form */
			w->len = pol__pathnorm_pattern((char *)w->s, w->len, vd != POL_ALLOW);
		if (!w->ellipsis && strstr(w->s, "...") != NULL && w->len > 3)
			pol__perr(S, v[1].line, v[1].col + (int)(s - text) + 1,
			    "'...' must be a word of its own in '%s'", text);
		s = e;
	}
	if (pt.nw == 0) {
		pol__perr(S, v[1].line, v[1].col, "empty pattern");
		return;
	}
	for (size_t k = 1; k < pt.nw; k++)
		if (pt.w[k].ellipsis && pt.w[k - 1].ellipsis) {
			pol__perr(S, v[1].line, v[1].col, "'... ...' in pattern '%s'", text);
			return;
		}
	struct pattern *e = ARENA_PUSH(A, r->pats, r->npats, r->cpats);
	if (e)
		*e = pt;
}

/* `env NAME...` / `env none`: the environment variables (names, or globs
 * with '*' such as LC_*) whose requests are passed to the target. */
static void
stmt_env(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!pol__want_args(S, v, n, 1, MAXARGS, "env NAME... (e.g. env LANG LC_*) or env none"))
		return;
	if (r->env_set)
		pol__perr(S, v[0].line, v[0].col, "'env' given twice in this block");
	r->env_set = true;
	r->env_line = v[0].line;
	if (n == 2 && strcmp(v[1].s, "none") == 0)
		return;
	for (int k = 1; k < n; k++) {
		char buf[200];
		const char *why = pol_env_name_check(v[k].s, buf, sizeof(buf));
		if (why != NULL) {
			pol__perr(S, v[k].line, v[k].col, "env '%s': %s", v[k].s, why);
			continue;
		}
		const char **e = ARENA_PUSH(&S->p->arena, r->env, r->nenv, r->cenv);
		if (e == NULL)
			return;
		*e = v[k].s;
	}
}

static int
set_enum(struct pstate *S, struct tok *v, int n, const char *const *names, int *out)
{
	char usage[160] = "";
	for (int k = 0; names[k]; k++)
		snprintf(usage + strlen(usage), sizeof(usage) - strlen(usage), "%s%s",
		    k ? "|" : "", names[k]);
	if (n != 2) {
		pol__perr(S, v[0].line, n > 2 ? v[2].col : v[0].col, "%s: expected one of %s", v[0].s, usage);
		return -1;
	}
	for (int k = 0; names[k]; k++)
		if (strcmp(v[1].s, names[k]) == 0) {
			if (*out != -1)
				pol__perr(S, v[0].line, v[0].col, "'%s' given twice in this block", v[0].s);
			*out = k;
			return k;
		}
	pol__perr(S, v[1].line, v[1].col, "bad %s '%s': expected one of %s", v[0].s, v[1].s, usage);
	return -1;
}

/* ---- the keywords of rule and forbid blocks ------------------------------- */

static void
kw_who(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!r->who_line)
		r->who_line = v[0].line;
	add_specs(S, v, n, &r->who, &r->nwho, &r->cwho, false);
}

static void
kw_where(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!r->where_line)
		r->where_line = v[0].line;
	add_specs(S, v, n, &r->where, &r->nwhere, &r->cwhere, true);
}

static void
kw_reason(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (pol__want_args(S, v, n, 1, 1, "reason \"TEXT\""))
		r->reason = v[1].s;
}

static void
kw_escort(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!r->escort_line) {
		r->escort_line = v[0].line;
		r->escort_col = v[0].col;
	}
	add_specs(S, v, n, &r->escort, &r->nescort, &r->cescort, false);
}

/* `supervised-by WHO...`: who may supervise (list, pause, resume, kill)
 * the sessions this rule admits, without the session waiting for them. */
static void
kw_supervised_by(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	add_specs(S, v, n, &r->supervise, &r->nsupervise, &r->csupervise, false);
}

static void
kw_shell(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	static const char *const names[] = { "none", "strict", "observe", NULL };
	r->shell_line = v[0].line;
	r->shell_col = v[0].col;
	set_enum(S, v, n, names, &r->shell);
}

static void
kw_exec(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	static const char *const names[] = { "no", "yes", NULL };
	set_enum(S, v, n, names, &r->exec);
}

static void
kw_sftp(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	static const char *const names[] = { "none", "download", "upload", "both", NULL };
	set_enum(S, v, n, names, &r->sftp);
}

static void
kw_forward(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	static const char *const names[] = { "none", "local", NULL };
	set_enum(S, v, n, names, &r->forward);
}

/* `passwords mask|record`: whether input typed at password prompts is
 * masked in the recording (the default) or kept as typed. */
static void
kw_passwords(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	static const char *const names[] = { "mask", "record", NULL };
	set_enum(S, v, n, names, &r->passwords);
}

/* `observe-deny warn|end`: what a command the policy denies does in an
 * observe shell: a warning (the default), or the end of the session. */
static void
kw_observe_deny(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	static const char *const names[] = { "warn", "end", NULL };
	set_enum(S, v, n, names, &r->observe_deny);
}

static void
kw_max_session(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (!pol__want_args(S, v, n, 1, 1, "max-session DURATION (e.g. 2h, 30m, 1h30m)"))
		return;
	long d = parse_duration(v[1].s);
	if (d <= 0)
		pol__perr(S, v[1].line, v[1].col, "bad duration '%s': expected e.g. 90s, 30m, 2h, 1h30m", v[1].s);
	else
		r->max_session = d;
}

static void
kw_allow(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	stmt_pattern(S, v, n, r, POL_ALLOW);
}

static void
kw_approve(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	stmt_pattern(S, v, n, r, POL_APPROVE);
}

static void
kw_deny(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	stmt_pattern(S, v, n, r, POL_DENY);
}

static void
kw_construct(struct pstate *S, struct tok *v, int n, struct pol_rule *r)
{
	if (n < 2)
		pol__perr(S, v[0].line, v[0].col, "construct: needs at least one construct name");
	for (int k = 1; k < n; k++) {
		if (strcmp(v[k].s, "all") == 0) {
			/* every construct: the line is still parsed, rendered and
			 * checked command by command (check warns) */
			r->constructs |= POL_C_ALL;
			r->construct_all = true;
			r->construct_all_line = v[k].line;
			r->construct_all_col = v[k].col;
			continue;
		}
		unsigned b = pol_construct_bit(v[k].s);
		if (b == 0 || b == POL_C_LIST || b == POL_C_PIPE || b == POL_C_REDIR_FD ||
		    b == POL_C_COMMENT || b == POL_C_TILDE || b == POL_C_GLOB)
			pol__perr(S, v[k].line, v[k].col,
			    "unknown construct '%s' (expected background, "
			    "substitution, backticks, process-substitution, redirect, heredoc, "
			    "assignment, variable, variable-command, glob-command, brace, history, all)",
			    v[k].s);
		else
			r->constructs |= b;
	}
}

static const struct {
	const char *name;
	bool in_forbid;		/* also allowed in a forbid block */
	void (*fn)(struct pstate *S, struct tok *v, int n, struct pol_rule *r);
} rule_keywords[] = {
	{ "who", true, kw_who },
	{ "where", true, kw_where },
	{ "when", true, stmt_when },
	{ "reason", true, kw_reason },
	{ "escort", false, kw_escort },
	{ "supervised-by", false, kw_supervised_by },
	{ "shell", false, kw_shell },
	{ "exec", false, kw_exec },
	{ "sftp", false, kw_sftp },
	{ "forward", false, kw_forward },
	{ "env", false, stmt_env },
	{ "max-session", false, kw_max_session },
	{ "passwords", false, kw_passwords },
	{ "observe-deny", false, kw_observe_deny },
	{ "allow", false, kw_allow },
	{ "approve", false, kw_approve },
	{ "deny", false, kw_deny },
	{ "construct", false, kw_construct },
};

void
pol__stmt_rule(struct pstate *S, struct tok *v, int n)
{
	struct pol_rule *r = S->rule;
	const char *kw = v[0].s;
	for (size_t i = 0; i < sizeof(rule_keywords) / sizeof(rule_keywords[0]); i++) {
		if (strcmp(kw, rule_keywords[i].name) != 0)
			continue;
		if (r->forbid && !rule_keywords[i].in_forbid)
			pol__perr(S, v[0].line, v[0].col, "'%s' is not allowed in a forbid block (only who, "
			    "where, when, reason)", kw);
		else
			rule_keywords[i].fn(S, v, n, r);
		return;
	}
	pol__perr(S, v[0].line, v[0].col, "unknown keyword '%s' in %s '%s'", kw,
	    r->forbid ? "forbid" : "rule", r->name);
}

