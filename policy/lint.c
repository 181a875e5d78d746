/*
 * lint.c: the warnings of `escort-policy check`.  None of them stops a
 * policy from loading; `check --strict` makes them fatal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

/* Programs that run other commands when allowed as such. */
static const struct {
	const char *name, *what;
} risky[] = {
	{ "sh", "a shell" }, { "bash", "a shell" }, { "dash", "a shell" }, { "zsh", "a shell" },
	{ "ksh", "a shell" }, { "csh", "a shell" }, { "tcsh", "a shell" }, { "fish", "a shell" },
	{ "ash", "a shell" }, { "busybox", "a shell" }, { "su", "a shell" },
	{ "python", "an interpreter" }, { "python2", "an interpreter" },
	{ "python3", "an interpreter" }, { "perl", "an interpreter" }, { "ruby", "an interpreter" },
	{ "php", "an interpreter" }, { "node", "an interpreter" }, { "lua", "an interpreter" },
	{ "irb", "an interpreter" }, { "tclsh", "an interpreter" }, { "expect", "an interpreter" },
	{ "awk", "an interpreter" }, { "gawk", "an interpreter" }, { "mawk", "an interpreter" },
	{ "nawk", "an interpreter" }, { "gdb", "a debugger" }, { "psql", "a client with a shell escape" },
	{ "mysql", "a client with a shell escape" },
	{ "vi", "an editor" }, { "vim", "an editor" }, { "nvim", "an editor" }, { "view", "an editor" },
	{ "ex", "an editor" }, { "ed", "an editor" }, { "emacs", "an editor" }, { "nano", "an editor" },
	{ "less", "a pager" }, { "more", "a pager" }, { "most", "a pager" }, { "man", "a pager" },
	{ "systemctl", NULL },
	{ "git", "a pager and hooks" }, { "tmux", "a terminal multiplexer" },
	{ "screen", "a terminal multiplexer" }, { "script", "a shell" },
	{ "ssh", "a remote shell" }, { "scp", NULL }, { "tar", "a program with --to-command" },
	{ "rsync", "a program with -e" }, { "crontab", "a scheduler" }, { "at", "a scheduler" },
	{ "docker", "a container runtime" }, { "kubectl", "a container shell" },
};

/* The users and targets a rule applies to, as bit sets over the sorted
 * user and target arrays. */
struct scope {
	uint64_t *u, *t;
	size_t first_u, first_t;	/* first member, or (size_t)-1 */
};

static int
scope_init(const struct policy *p, const struct pol_rule *r, struct scope *sc, size_t uw,
    size_t tw)
{
	sc->u = calloc(uw ? uw : 1, sizeof(uint64_t));
	sc->t = calloc(tw ? tw : 1, sizeof(uint64_t));
	if (sc->u == NULL || sc->t == NULL)
		return POL_E_NOMEM;
	sc->first_u = sc->first_t = (size_t)-1;
	for (size_t i = 0; i < p->nusers; i++)
		if (pol__specs_match_user(r->who, r->nwho, &p->users[i]->pub)) {
			sc->u[i / 64] |= 1ull << (i % 64);
			if (sc->first_u == (size_t)-1)
				sc->first_u = i;
		}
	for (size_t i = 0; i < p->ntargets; i++)
		if (pol__specs_match_target(r->where, r->nwhere, &p->targets[i]->pub)) {
			sc->t[i / 64] |= 1ull << (i % 64);
			if (sc->first_t == (size_t)-1)
				sc->first_t = i;
		}
	return 0;
}

static bool
subset(const uint64_t *a, const uint64_t *b, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (a[i] & ~b[i])
			return false;
	return true;
}

/* The first common member, or (size_t)-1. */
static size_t
common(const uint64_t *a, const uint64_t *b, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (a[i] & b[i])
			return i * 64 + (size_t)__builtin_ctzll(a[i] & b[i]);
	return (size_t)-1;
}

/* Whether every command `narrow` matches is matched by `wide` too. */
static bool
subsumes(const struct pattern *wide, const struct pattern *narrow)
{
	size_t n = narrow->nw;
	bool *cur = calloc(n + 1, sizeof(bool)), *nxt = calloc(n + 1, sizeof(bool));
	bool res = false;
	if (cur == NULL || nxt == NULL)
		goto out;
	cur[0] = true;
	for (size_t i = 0; i < wide->nw; i++) {
		const struct pword *pw = &wide->w[i];
		if (pw->ellipsis) {
			bool any = false;
			for (size_t j = 0; j <= n; j++) {
				any = any || cur[j];
				nxt[j] = any;
			}
		} else {
			nxt[0] = false;
			for (size_t j = 1; j <= n; j++) {
				const struct pword *nw = &narrow->w[j - 1];
				nxt[j] = cur[j - 1] && !nw->ellipsis &&
				    pol__word_glob(pw->s, pw->len, nw->s, nw->len);
			}
		}
		bool *t = cur;
		cur = nxt;
		nxt = t;
	}
	res = cur[n];
out:
	free(cur);
	free(nxt);
	return res;
}

/* A command `pt` matches, with '*' read as "x" and "..." as nothing. */
static size_t
instantiate(const struct pattern *pt, struct cword *w, char *buf, size_t cap)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < pt->nw; i++) {
		if (pt->w[i].ellipsis)
			continue;
		char *s = buf + k;
		size_t l = 0;
		for (size_t j = 0; j < pt->w[i].len && k + l + 2 < cap; j++)
			s[l++] = pt->w[i].s[j] == '*' ? 'x' : pt->w[i].s[j];
		s[l] = '\0';
		k += l + 1;
		w[n++] = (struct cword){ .s = s, .len = l };
	}
	return n;
}

static bool
overlaps(const struct pattern *a, const struct pattern *b)
{
	struct cword w[64];
	char buf[4096];
	if (a->nw > 64 || b->nw > 64)
		return false;
	size_t n = instantiate(a, w, buf, sizeof(buf));
	if (pol__pattern_match(b, w, n, false))
		return true;
	n = instantiate(b, w, buf, sizeof(buf));
	return pol__pattern_match(a, w, n, false);
}

/* An allow pattern word like DIR/STAR: the sudoers(5) pitfall.  One
 * warning per pattern, for its first such word. */
static long
lint_dir_star(const struct pol_rule *r, const struct pattern *pt, struct pol_diags *d)
{
	for (size_t i = 0; i < pt->nw; i++) {
		const struct pword *w = &pt->w[i];
		const char *star = memchr(w->s, '*', w->len);
		if (!w->slash || star == NULL || memchr(w->s, '/', (size_t)(star - w->s)) == NULL)
			continue;
		int dir = 0;	/* the last '/' before the '*' */
		for (const char *q = w->s; q < star; q++)
			if (*q == '/')
				dir = (int)(q - w->s);
		pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
		    "allow pattern \"%s\": '%s' matches in every subdirectory of %.*s too ('*' "
		    "matches '/'), and a symbolic link there leads wherever it points; globs and "
		    "'..' in an argument are allowed only where they cannot leave it", pt->text,
		    w->s, dir > 0 ? dir : 1, w->s);
		return 1;
	}
	return 0;
}

/* A pattern word with a ".." component: compared in normal form, where
 * ".." has been folded, while a command that writes ".." after a directory
 * name is read as any directory (escort-policy(5), PATH NORMALISATION). */
static long
lint_dotdot(const struct pol_rule *r, const struct pattern *pt, struct pol_diags *d)
{
	for (size_t i = 0; i < pt->nw; i++) {
		const struct pword *w = &pt->w[i];
		if (!w->slash)
			continue;
		/* the word as written: the i-th blank-separated word of the text */
		const char *s = pt->text, *e = s;
		for (size_t k = 0; k <= i; k++) {
			s = e + strspn(e, " \t");
			e = s + strcspn(s, " \t");
		}
		bool dotdot = false;
		for (const char *c = s; c < e;) {
			size_t l = strcspn(c, "/ \t");
			if (l == 2 && c[0] == '.' && c[1] == '.')
				dotdot = true;
			c += l + 1;	/* past the '/' */
		}
		if (!dotdot)
			continue;
		pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
		    "pattern \"%s\": '%.*s' holds '..': it is compared as '%s', and a command word "
		    "with '..' is read as any directory (see PATH NORMALISATION in escort-policy(5))",
		    pt->text, (int)(e - s), s, w->s);
		return 1;
	}
	return 0;
}

static long
lint_patterns(const struct pol_rule *r, struct pol_diags *d)
{
	long n = 0;
	for (size_t k = 0; k < r->npats; k++) {
		const struct pattern *pt = &r->pats[k];
		if (strpbrk(pt->text, ";|&<>`") != NULL || strstr(pt->text, "$(") != NULL) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
			    "pattern \"%s\" contains a shell operator: patterns match one simple "
			    "command, so it can never match as meant", pt->text);
			n++;
		}
		n += lint_dotdot(r, pt, d);
		if (pt->verdict != POL_ALLOW)
			continue;
		n += lint_dir_star(r, pt, d);
		const struct pword *w0 = &pt->w[0];
		if (w0->ellipsis || (w0->len == 1 && w0->s[0] == '*')) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
			    "allow pattern \"%s\" allows any command", pt->text);
			n++;
			continue;
		}
		const char *b = strrchr(w0->s, '/');
		b = b ? b + 1 : w0->s;
		if (!w0->star) {
			/* a program that takes over the screen: named, so it runs */
			const struct screenprog *sp = pol__screenprog_find(b, strlen(b));
			if (sp != NULL) {
				pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
				    "allow pattern \"%s\" hands out %s (%s) in rule '%s', which can run "
				    "other commands once it runs: %s: %s", pt->text, sp->kind, b,
				    r->name, sp->name, sp->reason);
				n++;
				continue;
			}
		}
		for (size_t i = 0; i < sizeof(risky) / sizeof(risky[0]); i++) {
			if (strcmp(b, risky[i].name) != 0 || risky[i].what == NULL)
				continue;
			/* sh -c TEXT is looked through: the text is checked */
			if (pt->nw >= 2 && strcmp(pt->w[1].s, "-c") == 0 && strcmp(risky[i].what, "a shell") == 0)
				break;
			pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
			    "allow pattern \"%s\" hands out %s (%s), which can run other commands",
			    pt->text, risky[i].what, b);
			n++;
			break;
		}
	}
	/* duplicates, shadowed allows, overlapping allow and deny */
	for (size_t i = 0; i < r->npats; i++) {
		const struct pattern *a = &r->pats[i];
		for (size_t j = 0; j < r->npats; j++) {
			const struct pattern *o = &r->pats[j];
			if (i == j)
				continue;
			if (j < i && strcmp(a->text, o->text) == 0) {
				pol_diags_add(d, POL_SEV_WARNING, r->file, a->line, a->col,
				    "pattern \"%s\" repeats line %d%s", a->text, o->line,
				    a->verdict != o->verdict ? " with another verdict (the stricter wins)" : "");
				n++;
				continue;
			}
			if (a->verdict >= o->verdict || strcmp(a->text, o->text) == 0)
				continue;
			if (subsumes(o, a)) {
				pol_diags_add(d, POL_SEV_WARNING, r->file, a->line, a->col,
				    "%s pattern \"%s\" can never decide: \"%s\" (%s, line %d) covers it",
				    pol_verdict_name(a->verdict), a->text, o->text,
				    pol_verdict_name(o->verdict), o->line);
				n++;
			} else if (a->verdict == POL_ALLOW && o->verdict == POL_DENY && overlaps(a, o)) {
				pol_diags_add(d, POL_SEV_WARNING, r->file, a->line, a->col,
				    "allow \"%s\" overlaps deny \"%s\" (line %d): where both match, deny wins",
				    a->text, o->text, o->line);
				n++;
			}
		}
	}
	return n;
}

/* Patterns of `a` that a stricter pattern of `b` always overrides, where b
 * applies whenever a does. */
static long
lint_shadowed_across(const struct pol_rule *a, const struct pol_rule *b, struct pol_diags *d)
{
	long n = 0;
	for (size_t i = 0; i < a->npats; i++)
		for (size_t k = 0; k < b->npats; k++) {
			const struct pattern *x = &a->pats[i], *y = &b->pats[k];
			if (y->verdict > x->verdict && subsumes(y, x)) {
				pol_diags_add(d, POL_SEV_WARNING, a->file, x->line, x->col,
				    "%s pattern \"%s\" can never decide: \"%s\" (%s, rule '%s' line %d) "
				    "covers it wherever this rule applies", pol_verdict_name(x->verdict),
				    x->text, y->text, pol_verdict_name(y->verdict), b->name, y->line);
				n++;
				break;
			}
		}
	return n;
}

/* attr:K=V / attr:K!=V where no user carries K, or no user has K=V: the
 * spec then matches nobody (=) or everybody (!=), most often a typo. */
static long
lint_attrs(const struct policy *p, const struct pol_rule *r, const struct spec *v, size_t nv,
    struct pol_diags *d)
{
	long n = 0;
	for (size_t k = 0; k < nv; k++) {
		const struct spec *sp = &v[k];
		if (sp->kind != SPEC_ATTR_EQ && sp->kind != SPEC_ATTR_NE)
			continue;
		bool key = false, value = false;
		for (size_t i = 0; i < p->nusers; i++) {
			const struct pol_user *u = &p->users[i]->pub;
			for (size_t a = 0; a < u->nattrs; a++)
				if (strcmp(u->attrs[a].key, sp->a) == 0) {
					key = true;
					value = value || strcmp(u->attrs[a].value, sp->b) == 0;
				}
		}
		const char *op = sp->kind == SPEC_ATTR_EQ ? "=" : "!=";
		const char *effect = sp->kind == SPEC_ATTR_EQ ? "matches no user" : "matches every user";
		if (!key)
			pol_diags_add(d, POL_SEV_WARNING, r->file, sp->line, sp->col,
			    "no user carries attribute '%s': attr:%s%s%s %s", sp->a, sp->a, op, sp->b, effect);
		else if (!value)
			pol_diags_add(d, POL_SEV_WARNING, r->file, sp->line, sp->col,
			    "no user has %s=%s: attr:%s%s%s %s", sp->a, sp->b, sp->a, op, sp->b, effect);
		else
			continue;
		n++;
	}
	return n;
}

/* The same for label:K=V / label:K!=V over targets. */
static long
lint_labels(const struct policy *p, const struct pol_rule *r, struct pol_diags *d)
{
	long n = 0;
	for (size_t k = 0; k < r->nwhere; k++) {
		const struct spec *sp = &r->where[k];
		if (sp->kind != SPEC_LABEL_EQ && sp->kind != SPEC_LABEL_NE)
			continue;
		bool key = false, value = false;
		for (size_t i = 0; i < p->ntargets; i++) {
			const struct pol_target *t = &p->targets[i]->pub;
			for (size_t a = 0; a < t->nlabels; a++)
				if (strcmp(t->labels[a].key, sp->a) == 0) {
					key = true;
					value = value || strcmp(t->labels[a].value, sp->b) == 0;
				}
		}
		const char *op = sp->kind == SPEC_LABEL_EQ ? "=" : "!=";
		const char *effect = sp->kind == SPEC_LABEL_EQ ? "matches no target" : "matches every target";
		if (!key)
			pol_diags_add(d, POL_SEV_WARNING, r->file, sp->line, sp->col,
			    "no target carries label '%s': label:%s%s%s %s", sp->a, sp->a, op, sp->b, effect);
		else if (!value)
			pol_diags_add(d, POL_SEV_WARNING, r->file, sp->line, sp->col,
			    "no target has label %s=%s: label:%s%s%s %s", sp->a, sp->b, sp->a, op, sp->b,
			    effect);
		else
			continue;
		n++;
	}
	return n;
}

/* `shell observe` with deny or approve patterns: in an observe shell the
 * command has been sent before it is decided, so they stop nothing there. */
static long
lint_observe(const struct pol_rule *r, struct pol_diags *d)
{
	if (r->forbid || r->shell != POL_SHELL_OBSERVE)
		return 0;
	const struct pattern *first = NULL;
	size_t more = 0;
	for (size_t k = 0; k < r->npats; k++)
		if (r->pats[k].verdict != POL_ALLOW) {
			if (first == NULL)
				first = &r->pats[k];
			else
				more++;
		}
	if (first == NULL)
		return 0;
	char others[48] = "";
	if (more)
		snprintf(others, sizeof(others), " and %zu more", more);
	pol_diags_add(d, POL_SEV_WARNING, r->file, r->shell_line, r->shell_col,
	    "rule '%s' has shell observe: its deny and approve patterns (%s \"%s\" line %d%s) "
	    "do not stop anything typed in that shell, where a command is decided after it was "
	    "sent: they warn (observe-deny end also ends the session); they still apply to exec "
	    "requests", r->name, pol_verdict_name(first->verdict), first->text, first->line, others);
	return 1;
}

/* `construct all`: say what the rule gives up. */
static long
lint_unrestricted(const struct pol_rule *r, struct pol_diags *d)
{
	if (!r->construct_all)
		return 0;
	pol_diags_add(d, POL_SEV_WARNING, r->file, r->construct_all_line, r->construct_all_col,
	    "rule '%s': construct all permits every shell construct: redirection to and from any "
	    "file, here-documents, background jobs, variable assignments before a command (such "
	    "as LD_PRELOAD=...), variables, globs and substitutions in command position, brace "
	    "and history expansion; each command found is still checked against the patterns, "
	    "but files reached by redirection and values of variables are not", r->name);
	return 1;
}

/* A rule with `escort` whose sessions no user it names could ever join:
 * nobody escorts their own session, so every user its who admits must find
 * another user among its escort and supervised-by specs. */
static long
lint_escort_nobody(const struct policy *p, const struct pol_rule *r, struct pol_diags *d)
{
	const struct pol_user *e1 = NULL;
	size_t ne = 0;

	if (r->forbid || r->nescort == 0)
		return 0;
	/* two escorts or more: each admitted user has another one */
	for (size_t k = 0; k < p->nusers && ne < 2; k++) {
		const struct pol_user *e = &p->users[k]->pub;
		if (pol__specs_match_user(r->escort, r->nescort, e) ||
		    pol__specs_match_user(r->supervise, r->nsupervise, e)) {
			e1 = ne == 0 ? e : e1;
			ne++;
		}
	}
	if (ne >= 2)
		return 0;
	for (size_t i = 0; i < p->nusers; i++) {
		const struct pol_user *u = &p->users[i]->pub;
		if ((ne == 0 || u == e1) && pol__specs_match_user(r->who, r->nwho, u)) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->escort_line, r->escort_col,
			    "rule '%s': no user can escort %s's sessions (nobody escorts their own), so "
			    "they would wait until EscortWaitTimeout ends them", r->name, u->name);
			return 1;
		}
	}
	return 0;
}

long
policy_lint(const struct policy *p, struct pol_diags *d)
{
	long n = 0;
	size_t uw = (p->nusers + 63) / 64, tw = (p->ntargets + 63) / 64;
	struct scope *sc = calloc(p->nrules + 1, sizeof(*sc));
	if (sc == NULL)
		return POL_E_NOMEM;
	for (size_t i = 0; i < p->nrules; i++)
		if (scope_init(p, p->rules[i], &sc[i], uw, tw) != 0) {
			n = POL_E_NOMEM;
			goto out;
		}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = p->rules[i];
		const char *what = r->forbid ? "forbid" : "rule";
		n += lint_attrs(p, r, r->who, r->nwho, d) + lint_attrs(p, r, r->escort, r->nescort, d) +
		    lint_attrs(p, r, r->supervise, r->nsupervise, d) +
		    lint_labels(p, r, d) + lint_unrestricted(r, d) + lint_observe(r, d) +
		    lint_escort_nobody(p, r, d);
		if (r->forbid) {
			/* a forbid matching nobody is an error of the load (resolve.c) */
		} else if (sc[i].first_u == (size_t)-1) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "%s '%s' matches no user", what, r->name);
			n++;
		}
		if (!r->forbid && sc[i].first_t == (size_t)-1) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "%s '%s' matches no target", what, r->name);
			n++;
		}
		if (r->forbid) {
			for (size_t k = 0; k < p->nrules; k++) {
				const struct pol_rule *o = p->rules[k];
				if (o->forbid)
					continue;
				size_t u = common(sc[i].u, sc[k].u, uw), t = common(sc[i].t, sc[k].t, tw);
				if (u != (size_t)-1 && t != (size_t)-1) {
					pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
					    "forbid '%s' overrides rule '%s' (line %d), e.g. for %s on %s",
					    r->name, o->name, o->line, p->users[u]->pub.name,
					    p->targets[t]->pub.name);
					n++;
				}
			}
			continue;
		}
		if (sc[i].first_u != (size_t)-1 && sc[i].first_t != (size_t)-1)
			for (size_t k = 0; k < p->nrules; k++) {
				const struct pol_rule *o = p->rules[k];
				if (k == i || o->nwhen > 0 || !subset(sc[i].u, sc[k].u, uw) ||
				    !subset(sc[i].t, sc[k].t, tw))
					continue;
				if (o->forbid) {
					pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
					    "rule '%s' can never apply: forbid '%s' (line %d) covers all "
					    "its users and targets", r->name, o->name, o->line);
					n++;
				} else {
					n += lint_shadowed_across(r, o, d);
				}
			}
		n += lint_patterns(r, d);
		if (r->npats == 0 && r->shell < 0 && r->exec < 0 && r->sftp < 0 && r->forward < 0) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "rule '%s' admits sessions but grants nothing (no shell, exec, sftp, "
			    "forward or patterns)", r->name);
			n++;
		}
		bool tested = false;
		for (size_t k = 0; k < p->nexpects && !tested; k++) {
			const struct pol_user *u = policy_user(p, p->expects[k].user);
			const struct pol_target *t = policy_target(p, p->expects[k].target);
			tested = u && t && pol__specs_match_user(r->who, r->nwho, u) &&
			    pol__specs_match_target(r->where, r->nwhere, t);
		}
		if (!tested && r->npats > 0) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "rule '%s' has no expect line", r->name);
			n++;
		}
	}
out:
	for (size_t i = 0; i < p->nrules; i++) {
		free(sc[i].u);
		free(sc[i].t);
	}
	free(sc);
	return n;
}
