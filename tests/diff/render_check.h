/*
 * render_check.h: compares two parses of a command line, for the checks
 * "render(parse(x)) parses back to the same commands" (pol-parse-dump and
 * fuzz_pol_render).  Header-only (static functions) so that the fuzzer,
 * built from one file, can include it.
 *
 * rc_compare(a, b, why, n) returns 0 when both parses hold the same simple
 * commands: same words (segment by segment, rc_word_eq), the same word
 * flags apart from POL_W_QUOTED (rendering quotes every literal), the same
 * assignments,
 * redirections, depths, separators and constructs (apart from comments,
 * which rendering drops, history expansion, which rendering quotes away,
 * and backquotes, which come back as $(...)).  Otherwise it returns 1 and writes what differs
 * first into why[0..n).
 */
#ifndef ESCORT_TESTS_RENDER_CHECK_H
#define ESCORT_TESTS_RENDER_CHECK_H

#include <stdio.h>
#include <string.h>

#include "policy/cmdline.h"

/* Construct bits that a faithful rendering may change: comments are dropped,
 * '!' is quoted (no history expansion), backquotes come back as $(...)
 * (both are command substitution). */
#define RC_CONSTRUCTS_IGNORED (POL_C_COMMENT | POL_C_HISTORY)
#define RC_CONSTRUCTS_FOLD(c) \
	((((c) & POL_C_BACKTICK) ? POL_C_SUBST : 0) | ((c) & ~(RC_CONSTRUCTS_IGNORED | POL_C_BACKTICK)))

/* The kind of segment k of w, a brace character in a word without brace
 * expansion counting as the literal it is. */
static inline int
rc_seg_kind(const struct pol_word *w, size_t k)
{
	int kind = w->seg[k].kind;
	if (kind == POL_SEG_BRACE && !(w->flags & POL_W_BRACE))
		kind = POL_SEG_LIT;
	return kind;
}

/* The next run of segments of w from *i: adjacent literal segments count as
 * one (a renderer may quote a literal in pieces).  Returns its kind and
 * sets [*off, *off + *len) and *dq. */
static inline int
rc_seg_next(const struct pol_word *w, size_t *i, size_t *off, size_t *len, int *dq, char *open)
{
	const struct pol_wseg *g = &w->seg[*i];
	int kind = rc_seg_kind(w, *i);
	*off = g->off;
	*len = g->len;
	*dq = g->in_dq;
	*open = g->open;
	(*i)++;
	if (kind == POL_SEG_LIT)
		while (*i < w->nseg && rc_seg_kind(w, *i) == POL_SEG_LIT) {
			*len = w->seg[*i].off + w->seg[*i].len - *off;
			(*i)++;
		}
	return kind;
}

/* Two words are the same when their segments are: same kinds (and quoting
 * of expansions) and, but for substitutions (whose bodies are rebuilt and
 * compared as commands of their own), the same bytes. */
static inline int
rc_word_eq(const struct pol_word *x, const struct pol_word *y)
{
	if ((x->flags & ~POL_W_QUOTED) != (y->flags & ~POL_W_QUOTED))
		return 0;
	if (x->nseg == 0 || y->nseg == 0)
		return x->nseg == y->nseg && x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
	size_t i = 0, j = 0;
	while (i < x->nseg && j < y->nseg) {
		size_t ao, al, bo, bl;
		int adq, bdq;
		char aop, bop;
		int ak = rc_seg_next(x, &i, &ao, &al, &adq, &aop);
		int bk = rc_seg_next(y, &j, &bo, &bl, &bdq, &bop);
		if (ak != bk || adq != bdq)
			return 0;
		if (ak == POL_SEG_SUBST) {
			/* `...` may come back as $(...) */
			if (aop != bop)
				return 0;
			continue;
		}
		if (al != bl || memcmp(x->s + ao, y->s + bo, al) != 0)
			return 0;
	}
	return i == x->nseg && j == y->nseg;
}

static inline int
rc_sep_eq(const char *x, const char *y)
{
	/* ";" and "\n" separate the same way */
	if ((strcmp(x, ";") == 0 || strcmp(x, "\n") == 0) &&
	    (strcmp(y, ";") == 0 || strcmp(y, "\n") == 0))
		return 1;
	return strcmp(x, y) == 0;
}

static inline int
rc_compare(const struct pol_cmdline *a, const struct pol_cmdline *b, char *why, size_t n)
{
	if (a->error || b->error) {
		snprintf(why, n, "error %d vs %d (%s)", a->error, b->error,
		    b->error ? b->err_msg : a->err_msg);
		return a->error != b->error;
	}
	if (a->nsimple != b->nsimple) {
		snprintf(why, n, "%zu vs %zu simple commands", a->nsimple, b->nsimple);
		return 1;
	}
	for (size_t i = 0; i < a->nsimple; i++) {
		const struct pol_simple *x = &a->simple[i], *y = &b->simple[i];
		if (x->nwords != y->nwords) {
			snprintf(why, n, "command %zu: %zu vs %zu words", i, x->nwords, y->nwords);
			return 1;
		}
		for (size_t k = 0; k < x->nwords; k++)
			if (!rc_word_eq(&x->words[k], &y->words[k])) {
				snprintf(why, n, "command %zu word %zu: '%.*s' (flags %#x) vs '%.*s' (flags %#x)",
				    i, k, (int)x->words[k].len, x->words[k].s, x->words[k].flags,
				    (int)y->words[k].len, y->words[k].s, y->words[k].flags);
				return 1;
			}
		if (x->nassign != y->nassign) {
			snprintf(why, n, "command %zu: %zu vs %zu assignments", i, x->nassign, y->nassign);
			return 1;
		}
		for (size_t k = 0; k < x->nassign; k++)
			if (!rc_word_eq(&x->assignw[k], &y->assignw[k])) {
				snprintf(why, n, "command %zu assignment %zu: '%s' vs '%s'", i, k,
				    x->assign[k], y->assign[k]);
				return 1;
			}
		if (x->nredirs != y->nredirs) {
			snprintf(why, n, "command %zu: %zu vs %zu redirections", i, x->nredirs, y->nredirs);
			return 1;
		}
		for (size_t k = 0; k < x->nredirs; k++) {
			const struct pol_redir *p = &x->redirs[k], *q = &y->redirs[k];
			if (p->fd != q->fd || strcmp(p->op, q->op) != 0 ||
			    !rc_word_eq(&p->word, &q->word) || p->is_file != q->is_file) {
				snprintf(why, n, "command %zu redirection %zu: %d%s'%s' vs %d%s'%s'", i, k,
				    p->fd, p->op, p->target, q->fd, q->op, q->target);
				return 1;
			}
		}
		if (x->depth != y->depth) {
			snprintf(why, n, "command %zu: depth %d vs %d", i, x->depth, y->depth);
			return 1;
		}
		if (!rc_sep_eq(x->sep, y->sep)) {
			snprintf(why, n, "command %zu: separator '%s' vs '%s'", i, x->sep, y->sep);
			return 1;
		}
		unsigned cx = RC_CONSTRUCTS_FOLD(x->constructs);
		unsigned cy = RC_CONSTRUCTS_FOLD(y->constructs);
		if (cx != cy) {
			snprintf(why, n, "command %zu: constructs %#x vs %#x", i, cx, cy);
			return 1;
		}
	}
	unsigned ca = RC_CONSTRUCTS_FOLD(a->constructs);
	unsigned cb = RC_CONSTRUCTS_FOLD(b->constructs);
	if (ca != cb) {
		snprintf(why, n, "line constructs %#x vs %#x", ca, cb);
		return 1;
	}
	return 0;
}

#endif
