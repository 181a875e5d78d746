/*
 * lint.c: the warnings of `escort-policy check`.  None of them stops a
 * policy from loading; `check --strict` makes them fatal.
 */
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

static bool
in_scope_users(const struct policy *p, const struct pol_rule *r)
{
	for (size_t i = 0; i < p->nusers; i++)
		if (specs_match_user(r->who, r->nwho, &p->users[i]->pub))
			return true;
	return false;
}

static bool
in_scope_targets(const struct policy *p, const struct pol_rule *r)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (specs_match_target(r->where, r->nwhere, &p->targets[i]->pub))
			return true;
	return false;
}

/* A user matching both rules' who, or NULL. */
static const struct pol_user *
common_user(const struct policy *p, const struct pol_rule *a, const struct pol_rule *b)
{
	for (size_t i = 0; i < p->nusers; i++)
		if (specs_match_user(a->who, a->nwho, &p->users[i]->pub) &&
		    specs_match_user(b->who, b->nwho, &p->users[i]->pub))
			return &p->users[i]->pub;
	return NULL;
}

static const struct pol_target *
common_target(const struct policy *p, const struct pol_rule *a, const struct pol_rule *b)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (specs_match_target(a->where, a->nwhere, &p->targets[i]->pub) &&
		    specs_match_target(b->where, b->nwhere, &p->targets[i]->pub))
			return &p->targets[i]->pub;
	return NULL;
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
				    word_glob(pw->s, pw->len, nw->s, nw->len);
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
	if (pattern_match(b, w, n, false))
		return true;
	n = instantiate(b, w, buf, sizeof(buf));
	return pattern_match(a, w, n, false);
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
		if (pt->verdict != POL_ALLOW)
			continue;
		const struct pword *w0 = &pt->w[0];
		if (w0->ellipsis || (w0->len == 1 && w0->s[0] == '*')) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, pt->line, pt->col,
			    "allow pattern \"%s\" allows any command", pt->text);
			n++;
			continue;
		}
		const char *b = strrchr(w0->s, '/');
		b = b ? b + 1 : w0->s;
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

long
policy_lint(const struct policy *p, struct pol_diags *d)
{
	long n = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = p->rules[i];
		const char *what = r->forbid ? "forbid" : "rule";
		if (!in_scope_users(p, r)) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "%s '%s' matches no user", what, r->name);
			n++;
		}
		if (!in_scope_targets(p, r)) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "%s '%s' matches no target", what, r->name);
			n++;
		}
		if (r->forbid) {
			for (size_t k = 0; k < p->nrules; k++) {
				const struct pol_rule *o = p->rules[k];
				if (o->forbid)
					continue;
				const struct pol_user *u = common_user(p, r, o);
				const struct pol_target *t = common_target(p, r, o);
				if (u && t) {
					pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
					    "forbid '%s' overrides rule '%s' (line %d), e.g. for %s on %s",
					    r->name, o->name, o->line, u->name, t->name);
					n++;
				}
			}
			continue;
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
			tested = u && t && specs_match_user(r->who, r->nwho, u) &&
			    specs_match_target(r->where, r->nwhere, t);
		}
		if (!tested && r->npats > 0) {
			pol_diags_add(d, POL_SEV_WARNING, r->file, r->line, r->col,
			    "rule '%s' has no expect line", r->name);
			n++;
		}
	}
	return n;
}
