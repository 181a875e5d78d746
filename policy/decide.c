/*
 * decide.c: command decisions.  Every simple command of a line, and every
 * command a wrapper runs, is checked against the patterns of the rules that
 * apply; deny > approve > allow; no matching pattern is deny.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

#define NEED_PERMISSION POL_C_NEED_PERMISSION

#define MAX_WRAP_DEPTH 8


struct dctx {
	const struct pol_rule *const *rules;	/* considered, non-forbid */
	size_t nrules;
	unsigned permitted;
	int deny_only;			/* > 0: only deny / approve patterns count */
	bool after_cd;			/* a cd, pushd or popd came before on the line */
	bool transfer;			/* the words are a transfer's pseudo-command
					 * ("sftp get PATH"), not a program that runs */
	struct pol_decision *out;
	size_t ccap;
	int err;
};

static struct pol_check *
add_check(struct dctx *C, size_t simple, int depth, const struct cword *w, size_t n)
{
	struct pol_decision *d = C->out;
	if (d->nchecks == C->ccap) {
		size_t cap = C->ccap ? C->ccap * 2 : 8;
		struct pol_check *v = realloc(d->checks, cap * sizeof(*v));
		if (v == NULL) {
			C->err = POL_E_NOMEM;
			return NULL;
		}
		d->checks = v;
		C->ccap = cap;
	}
	struct pol_check *c = &d->checks[d->nchecks];
	memset(c, 0, sizeof(*c));
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += w[i].len + 1;
	c->words = malloc(len);
	if (c->words == NULL) {
		C->err = POL_E_NOMEM;
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			c->words[k++] = ' ';
		memcpy(c->words + k, w[i].s, w[i].len);
		k += w[i].len;
	}
	c->words[k] = '\0';
	for (size_t i = 0; i < k; i++)
		if (c->words[i] == '\0' || c->words[i] == '\n')
			c->words[i] = ' ';
	c->simple = simple;
	c->depth = depth;
	d->nchecks++;
	return c;
}

static enum pol_verdict check_line(struct dctx *C, const char *text, size_t len,
    size_t simple, int depth);

static enum pol_verdict
check_words(struct dctx *C, const struct cword *w, size_t n, size_t simple, int depth,
    bool open_tail)
{
	size_t ci = C->out->nchecks;
	struct pol_check *c = add_check(C, simple, depth, w, n);
	if (c == NULL)
		return POL_DENY;
	if (depth > MAX_WRAP_DEPTH) {
		c->verdict = POL_DENY;
		snprintf(c->reason, sizeof(c->reason), "commands wrapped too deeply");
		return POL_DENY;
	}
	/* commands that evaluate strings as code: only a rule naming them */
	struct wrap_literal lit;
	bool literal = pol__wrap_literal_only(w, n, &lit);
	if (pol__wrap_never(w, n, literal, c->reason, sizeof(c->reason))) {
		c->verdict = POL_DENY;
		return POL_DENY;
	}
	/* programs that take over the screen and run commands: the same */
	if (!literal && !C->transfer)
		literal = pol__screenprog_check(w, n, &lit);
	const struct pattern *best = NULL;
	bool blocked = false;
	for (size_t i = 0; i < C->nrules; i++) {
		const struct pol_rule *r = C->rules[i];
		for (size_t k = 0; k < r->npats; k++) {
			const struct pattern *pt = &r->pats[k];
			if (C->deny_only && pt->verdict == POL_ALLOW && !literal)
				continue;
			if (literal && pt->verdict != POL_DENY && !pol__wrap_names_literally(pt, &w[0], &lit)) {
				/* it would match but does not name the program */
				blocked = blocked || pol__pattern_match(pt, w, n, open_tail);
				continue;
			}
			if ((best == NULL || pt->verdict > best->verdict) &&
			    pol__pattern_match(pt, w, n, open_tail))
				best = pt;
		}
	}
	enum pol_verdict v;
	if (best == NULL && literal && (blocked || C->deny_only)) {
		v = POL_DENY;
		snprintf(c->reason, sizeof(c->reason), "%s", lit.why);
	} else if (best == NULL && C->deny_only) {
		v = POL_ALLOW;
		snprintf(c->reason, sizeof(c->reason), "no deny or approve pattern matches");
	} else if (best == NULL) {
		v = POL_DENY;
		snprintf(c->reason, sizeof(c->reason), "no rule allows '%.120s'", c->words);
	} else {
		v = best->verdict;
		c->rule = best->rule->name;
		c->file = best->rule->file;
		c->line = best->line;
		c->pattern = best->text;
		snprintf(c->reason, sizeof(c->reason), "%s by rule '%s' (line %d): \"%.80s\"%s%.60s",
		    v == POL_ALLOW ? "allowed" : v == POL_APPROVE ? "needs approval" : "denied",
		    best->rule->name, best->line, best->text, best->reason ? ": " : "",
		    best->reason ? best->reason : "");
		if (v != POL_ALLOW)
			pol__pathnorm_note(w, n, c->reason, sizeof(c->reason));
	}
	c->verdict = v;
	/* wrappers: the inner commands must pass on their own */
	struct wrap_inner in[4];
	int ni = pol__wrap_inner(w, n, open_tail, in, 4);
	if (ni < 0) {
		C->err = POL_E_NOMEM;
		return POL_DENY;
	}
	enum pol_verdict combined = v;
	for (int k = 0; k < ni; k++) {
		enum pol_verdict iv = POL_DENY;
		if (in[k].kind == WRAP_DENY) {
			struct pol_check *dc = add_check(C, simple, depth + 1, w, n);
			if (dc != NULL) {
				dc->verdict = POL_DENY;
				snprintf(dc->reason, sizeof(dc->reason), "%s: %s", in[k].wrapper, in[k].why);
			}
		} else if (in[k].kind == WRAP_SUFFIXES) {
			/* options not understood: any tail may be the command */
			struct cword *cw = NULL;
			char *cmem = NULL;
			if (pol__pathnorm_wrapper_chdirs(w, n, n)) {
				C->after_cd = true;	/* it runs the command elsewhere */
				if (pol__pathnorm_chdir_copy(w, n, &cw, &cmem) != 0)
					C->err = POL_E_NOMEM;
			}
			C->deny_only++;
			iv = POL_ALLOW;
			for (size_t j = in[k].start; j < in[k].end; j++) {
				size_t before = C->out->nchecks;
				enum pol_verdict sv = check_words(C, (cw ? cw : w) + j, n - j, simple,
				    depth + 1, open_tail);
				if (sv == POL_ALLOW) {
					/* keep explain readable: drop tails that matched nothing */
					for (size_t q = before; q < C->out->nchecks; q++)
						free(C->out->checks[q].words);
					C->out->nchecks = before;
				}
				if (sv > iv)
					iv = sv;
				if (iv == POL_DENY)
					break;
			}
			C->deny_only--;
			free(cw);
			free(cmem);
		} else if (in[k].kind == WRAP_SHELL) {
			C->after_cd = C->after_cd || pol__pathnorm_wrapper_chdirs(w, n, n);
			iv = check_line(C, in[k].shell, strlen(in[k].shell), simple, depth + 1);
		} else if (in[k].kind == WRAP_INNER) {
			size_t m = in[k].end - in[k].start;
			struct cword *iw = malloc((m ? m : 1) * sizeof(*iw));
			if (iw == NULL) {
				C->err = POL_E_NOMEM;
				break;
			}
			memcpy(iw, w + in[k].start, m * sizeof(*iw));
			if (in[k].placeholders)
				for (size_t j = 0; j < m; j++)
					if (memmem(iw[j].s, iw[j].len, in[k].ph, in[k].phlen) != NULL)
						iw[j].flags |= POL_W_VAR;
			char *imem = NULL;
			if (m > 0 && (iw[0].flags & (POL_W_VAR | POL_W_SUBST | POL_W_GLOB |
			    POL_W_BRACE))) {
				/* as in command position: the name is not known */
				struct pol_check *dc = add_check(C, simple, depth + 1, iw, m);
				if (dc != NULL) {
					dc->verdict = POL_DENY;
					snprintf(dc->reason, sizeof(dc->reason), "%s: the command name "
					    "'%.*s' is not known until it runs", in[k].wrapper,
					    (int)(iw[0].len < 60 ? iw[0].len : 60), iw[0].s);
				}
			} else {
				if (pol__pathnorm_wrapper_chdirs(w, n, in[k].start)) {
					C->after_cd = true;	/* env -C, sudo -D, find -execdir */
					if (pol__pathnorm_cwords(iw, m, true, &imem) != 0)
						C->err = POL_E_NOMEM;
				}
				iv = check_words(C, iw, m, simple, depth + 1, in[k].open_tail);
			}
			free(iw);
			free(imem);
		}
		if (iv > combined)
			combined = iv;
	}
	pol__wrap_inner_clear(in, ni > 0 ? ni : 0);
	if (combined != v && C->out->checks != NULL) {
		c = &C->out->checks[ci];
		c->verdict = combined;
		size_t l = strlen(c->reason);
		snprintf(c->reason + l, sizeof(c->reason) - l, "; the wrapped command is %s",
		    pol_verdict_name(combined));
	}
	return combined;
}

/* w[0..n) against the deny and approve patterns only; when that allows,
 * the checks it added are dropped (explain shows only what matched). */
static enum pol_verdict
check_deny_only(struct dctx *C, const struct cword *w, size_t n, size_t idx, int depth)
{
	size_t before = C->out->nchecks;
	C->deny_only++;
	enum pol_verdict v = check_words(C, w, n, idx, depth, false);
	C->deny_only--;
	if (v == POL_ALLOW) {
		for (size_t q = before; q < C->out->nchecks; q++)
			free(C->out->checks[q].words);
		C->out->nchecks = before;
	}
	return v;
}

/* The command's words and its redirection targets against the deny and
 * approve patterns (pol__pathnorm_redirect_words). */
static enum pol_verdict
check_redirects(struct dctx *C, const struct pol_simple *sc, const struct cword *w, size_t idx,
    int depth)
{
	struct cword *rw;
	char *rmem, *forms = NULL;
	int nr = pol__pathnorm_redirect_words(sc, w, sc->nwords, &rw, &rmem);
	if (nr <= 0 ||
	    pol__pathnorm_cwords(rw, sc->nwords + (size_t)nr, C->after_cd, &forms) != 0) {
		if (nr != 0)
			C->err = POL_E_NOMEM;
		free(rw);
		free(rmem);
		return nr == 0 ? POL_ALLOW : POL_DENY;
	}
	enum pol_verdict v = check_deny_only(C, rw, sc->nwords + (size_t)nr, idx, depth + 1);
	free(forms);
	free(rw);
	free(rmem);
	return v;
}

/* The command with each word that holds a path (pol__pathnorm_embedded) cut
 * to that path, against the deny and approve patterns only. */
static enum pol_verdict
check_embedded(struct dctx *C, const struct pol_simple *sc, size_t idx, int depth, bool cd)
{
	size_t n = sc->nwords;
	bool any = false;
	struct cword *w = malloc(n * sizeof(*w));
	if (w == NULL) {
		C->err = POL_E_NOMEM;
		return POL_DENY;
	}
	for (size_t i = 0; i < n; i++) {
		w[i] = (struct cword){ .s = sc->words[i].s, .len = sc->words[i].len,
			.flags = sc->words[i].flags, .glob = sc->words[i].glob };
		size_t at = i > 0 && !(w[i].flags & POL_W_GLOB) ? pol__pathnorm_embedded(&w[i]) : 0;
		if (at > 0) {
			w[i].s += at;
			w[i].len -= at;
			w[i].flags &= ~POL_W_TILDE;
			if (w[i].s[0] == '~')
				w[i].flags |= POL_W_TILDE;
			any = true;
		}
	}
	enum pol_verdict v = POL_ALLOW;
	char *forms = NULL;
	if (any) {
		if (pol__pathnorm_cwords(w, n, cd, &forms) != 0)
			C->err = POL_E_NOMEM;
		v = check_deny_only(C, w, n, idx, depth);
	}
	free(forms);
	free(w);
	return v;
}

static enum pol_verdict
check_simple(struct dctx *C, const struct pol_simple *sc, size_t idx, int depth)
{
	unsigned bad = sc->constructs & NEED_PERMISSION & ~C->permitted;
	struct cword small[16] = { 0 }, *w = small;
	if (sc->nwords > 16) {
		w = malloc(sc->nwords * sizeof(*w));
		if (w == NULL) {
			C->err = POL_E_NOMEM;
			return POL_DENY;
		}
	}
	for (size_t i = 0; i < sc->nwords; i++)
		w[i] = (struct cword){ .s = sc->words[i].s, .len = sc->words[i].len,
			.flags = sc->words[i].flags, .glob = sc->words[i].glob };
	char *forms;
	bool cd = C->after_cd || pol__pathnorm_command_chdirs(w, sc->nwords);
	if (pol__pathnorm_cwords(w, sc->nwords, cd, &forms) != 0)
		C->err = POL_E_NOMEM;
	enum pol_verdict v = POL_ALLOW;
	if (bad) {
		struct pol_check *c = add_check(C, idx, depth, w, sc->nwords);
		if (c != NULL) {
			c->verdict = POL_DENY;
			char names[160] = "";
			for (unsigned b = 1; b & POL_C_ALL; b <<= 1)
				if (bad & b)
					snprintf(names + strlen(names), sizeof(names) - strlen(names),
					    "%s%s", names[0] ? ", " : "", pol_construct_name(b));
			snprintf(c->reason, sizeof(c->reason), "shell construct not permitted: %s", names);
		}
		v = POL_DENY;
	}
	if (sc->nwords > 0) {
		enum pol_verdict wv = check_words(C, w, sc->nwords, idx, depth, false);
		if (wv > v)
			v = wv;
	}
	if (v != POL_DENY) {
		/* redirection targets are paths too: deny and approve patterns see
		 * them as more words of the command */
		enum pol_verdict rv = check_redirects(C, sc, w, idx, depth);
		if (rv > v)
			v = rv;
	}
	if (v != POL_DENY && sc->nwords > 1) {
		/* paths inside words (dd if=PATH, --from-file=PATH, file://PATH):
		 * deny and approve patterns see them as words of their own */
		enum pol_verdict ev = check_embedded(C, sc, idx, depth, cd);
		if (ev > v)
			v = ev;
	}
	if (sc->nwords == 0 && !bad && v == POL_ALLOW) {
		struct pol_check *c = add_check(C, idx, depth, w, 0);
		if (c != NULL) {
			c->verdict = POL_ALLOW;
			snprintf(c->reason, sizeof(c->reason), "no command (permitted constructs only)");
		}
	}
	if (w != small)
		free(w);
	free(forms);
	return v;
}

static enum pol_verdict
check_cmdline(struct dctx *C, const struct pol_cmdline *cl, size_t simple, int depth,
    bool top)
{
	enum pol_verdict v = POL_ALLOW;
	if (cl->nsimple == 0 && !cl->error) {
		/* empty line or a comment: nothing runs */
		return POL_ALLOW;
	}
	for (size_t i = 0; i < cl->nsimple; i++) {
		enum pol_verdict sv = check_simple(C, &cl->simple[i], top ? i : simple,
		    depth + cl->simple[i].depth);
		if (sv > v)
			v = sv;
		C->after_cd = C->after_cd || pol__pathnorm_is_chdir(&cl->simple[i]);
	}
	if (cl->error) {
		struct pol_check *c = add_check(C, simple, depth, NULL, 0);
		if (c != NULL) {
			c->verdict = POL_DENY;
			snprintf(c->reason, sizeof(c->reason), "unparsable: %s", cl->err_msg);
		}
		v = POL_DENY;
	}
	return v;
}

static enum pol_verdict
check_line(struct dctx *C, const char *text, size_t len, size_t simple, int depth)
{
	struct pol_cmdline *cl;
	int r = pol_cmdline_parse(text, len, &cl);
	if (r == POL_E_NOMEM) {
		C->err = r;
		return POL_DENY;
	}
	enum pol_verdict v = check_cmdline(C, cl, simple, depth, false);
	pol_cmdline_free(cl);
	return v;
}

static int
decide(const struct policy *p, const struct pol_rule *const *cands, size_t ncands,
    const struct pol_rule *forbid, const char *line, size_t len, time_t now,
    struct pol_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = POL_DENY;
	out->policy_hash = p->hash;
	const struct pol_rule **cons = calloc(ncands + 1, sizeof(*cons));
	if (cons == NULL)
		return POL_E_NOMEM;
	struct dctx C = { .rules = cons, .out = out };
	for (size_t i = 0; i < ncands; i++)
		if (pol__when_match(cands[i]->when, cands[i]->nwhen, now)) {
			cons[C.nrules++] = cands[i];
			C.permitted |= cands[i]->constructs;
		}
	out->considered = cons;
	out->nconsidered = C.nrules;
	int r = pol_cmdline_parse(line, len, &out->cmd);
	if (r == POL_E_NOMEM)
		return r;
	enum pol_verdict v = check_cmdline(&C, out->cmd, 0, 0, true);
	if ((out->cmd->constructs & POL_C_COMMENT) && v != POL_DENY) {
		/* a shell without interactive comments would run what follows
		 * the '#': that reading must pass too */
		struct pol_cmdline *alt;
		r = pol_cmdline_parse_opts(line, len, POL_PARSE_NO_COMMENTS, &alt);
		if (r == POL_E_NOMEM)
			return r;
		size_t before = out->nchecks;
		enum pol_verdict av = POL_ALLOW;
		/* only the commands that start after the '#' are new */
		for (size_t i = 0; i < alt->nsimple; i++) {
			if (alt->simple[i].offset > out->cmd->comment_offset) {
				enum pol_verdict sv = check_simple(&C, &alt->simple[i], i,
				    alt->simple[i].depth);
				if (sv > av)
					av = sv;
			}
			C.after_cd = C.after_cd || pol__pathnorm_is_chdir(&alt->simple[i]);
		}
		pol_cmdline_free(alt);
		if (av > v) {
			v = av;
			for (size_t i = before; i < out->nchecks; i++) {
				size_t l = strlen(out->checks[i].reason);
				snprintf(out->checks[i].reason + l, sizeof(out->checks[i].reason) - l,
				    " (with '#' read as a word)");
			}
		} else {
			for (size_t i = before; i < out->nchecks; i++)
				free(out->checks[i].words);
			out->nchecks = before;
		}
	}
	if (C.err)
		return C.err;
	if (forbid != NULL) {
		out->verdict = POL_DENY;
		out->rule = forbid->name;
		out->file = forbid->file;
		out->line = forbid->line;
		snprintf(out->reason, sizeof(out->reason), "forbidden by '%s' (line %d)%s%.120s",
		    forbid->name, forbid->line, forbid->reason ? ": " : "",
		    forbid->reason ? forbid->reason : "");
		return 0;
	}
	out->verdict = v;
	for (size_t i = 0; i < out->nchecks; i++) {
		const struct pol_check *c = &out->checks[i];
		if (c->verdict != v)
			continue;
		/* the deepest check with the final verdict names the cause */
		size_t j = i;
		for (size_t k = i + 1; k < out->nchecks && out->checks[k].simple == c->simple &&
		    out->checks[k].depth > c->depth; k++)
			if (out->checks[k].verdict == v)
				j = k;
		if (v == POL_ALLOW)
			j = i;
		c = &out->checks[j];
		out->rule = c->rule;
		out->file = c->file;
		out->line = c->line;
		out->pattern = c->pattern;
		if (c->words && c->words[0] && c->depth > 0)
			snprintf(out->reason, sizeof(out->reason), "%.170s (in '%.60s')", c->reason, c->words);
		else
			snprintf(out->reason, sizeof(out->reason), "%s", c->reason);
		break;
	}
	if (out->nchecks == 0)
		snprintf(out->reason, sizeof(out->reason), "nothing to run");
	if (out->verdict != POL_DENY) {
		/* what was decided is what runs: the line is rebuilt from the
		 * parse, or it does not run at all */
		r = pol_render(out->cmd, line, len, C.permitted, &out->rendered);
		if (r == POL_E_NOMEM)
			return r;
		if (r != 0) {
			out->verdict = POL_DENY;
			out->rule = out->file = out->pattern = NULL;
			out->line = 0;
			snprintf(out->reason, sizeof(out->reason),
			    "the line cannot be rebuilt for the shell exactly as it was checked");
		}
	}
	return 0;
}

int
policy_decide(const struct pol_session *s, const char *line, size_t len, time_t now,
    struct pol_decision *out)
{
	if (s == NULL || line == NULL) {
		memset(out, 0, sizeof(*out));
		out->verdict = POL_DENY;
		return POL_E_INVAL;
	}
	int r = decide(s->policy, s->candidates, s->ncandidates, NULL, line, len, now, out);
	if (r != 0) {
		out->verdict = POL_DENY;
		snprintf(out->reason, sizeof(out->reason), "%s", pol_strerror(r));
	}
	return r;
}

int
policy_decide_for(const struct policy *p, const char *user, const char *target,
    const char *line, size_t len, time_t now, struct pol_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = POL_DENY;
	out->policy_hash = p->hash;
	const struct pol_user *u = policy_user(p, user);
	const struct pol_target *t = policy_target(p, target);
	if (u == NULL || t == NULL) {
		snprintf(out->reason, sizeof(out->reason), "unknown %s '%s'", u ? "target" : "user",
		    u ? target : user);
		return u ? POL_E_NOTARGET : POL_E_NOUSER;
	}
	const struct pol_rule **cands = calloc(p->nrules + 1, sizeof(*cands));
	if (cands == NULL)
		return POL_E_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < p->nrules; i++)
		if (!p->rules[i]->forbid && pol__rule_applies(p->rules[i], u, t))
			cands[n++] = p->rules[i];
	int r = decide(p, cands, n, pol__find_forbid(p, u, t, now), line, len, now, out);
	free(cands);
	if (r != 0) {
		out->verdict = POL_DENY;
		snprintf(out->reason, sizeof(out->reason), "%s", pol_strerror(r));
	}
	return r;
}

void
pol_decision_free(struct pol_decision *d)
{
	if (d == NULL)
		return;
	pol_cmdline_free(d->cmd);
	for (size_t i = 0; i < d->nchecks; i++)
		free(d->checks[i].words);
	free(d->checks);
	free((void *)d->considered);
	free(d->rendered);
	memset(d, 0, sizeof(*d));
}

int
pol__decide_words(const struct policy *p, const struct pol_rule *const *cands, size_t ncands,
    const struct cword *const *wv, const size_t *nv, size_t nvec, bool deny_only, time_t now,
    struct pol_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = POL_DENY;
	out->policy_hash = p->hash;
	const struct pol_rule **cons = calloc(ncands + 1, sizeof(*cons));
	if (cons == NULL)
		return POL_E_NOMEM;
	struct dctx C = { .rules = cons, .out = out, .deny_only = deny_only ? 1 : 0,
		.transfer = true };
	for (size_t i = 0; i < ncands; i++)
		if (pol__when_match(cands[i]->when, cands[i]->nwhen, now))
			cons[C.nrules++] = cands[i];
	out->considered = cons;
	out->nconsidered = C.nrules;
	enum pol_verdict v = POL_ALLOW;
	for (size_t i = 0; i < nvec && !C.err; i++) {
		enum pol_verdict sv = check_words(&C, wv[i], nv[i], i, 0, false);
		if (sv > v)
			v = sv;
	}
	if (C.err)
		return C.err;
	out->verdict = v;
	for (size_t i = 0; i < out->nchecks; i++) {
		const struct pol_check *c = &out->checks[i];
		if (c->verdict != v)
			continue;
		out->rule = c->rule;
		out->file = c->file;
		out->line = c->line;
		out->pattern = c->pattern;
		snprintf(out->reason, sizeof(out->reason), "%s", c->reason);
		break;
	}
	return 0;
}
