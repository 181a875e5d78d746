/*
 * wrap_opt.c: reads a wrapper's options the way its getopt_long(3) does,
 * from the model's option string and long options (wrap_table.c).  Long
 * options may be abbreviated to a unique prefix, as getopt_long allows,
 * unless the model says WRAPF_EXACT.  An option the model does not know,
 * a missing argument, or a word in option position that the shell expands
 * (a variable, substitution, glob or brace: it could become any option or
 * none) makes the parse fail: the caller denies.
 */
#include <stdio.h>
#include <string.h>

#include "policy/wrap_int.h"

#define UNKNOWN_WORD (POL_W_VAR | POL_W_SUBST | POL_W_GLOB | POL_W_BRACE)

bool
pol__wrap_word_is(const struct cword *w, const char *s)
{
	return w->len == strlen(s) && memcmp(w->s, s, w->len) == 0;
}

const char *
pol__wrap_base(const struct cword *w, size_t *len)
{
	const char *b = w->s;
	for (size_t i = 0; i < w->len; i++)
		if (w->s[i] == '/')
			b = w->s + i + 1;
	*len = w->len - (size_t)(b - w->s);
	return b;
}

static int
opt_fail(struct wrap_opts *o, const struct cword *w, size_t len, const char *why)
{
	size_t l = len < sizeof(o->bad) - 1 ? len : sizeof(o->bad) - 1;
	memcpy(o->bad, w->s, l);
	o->bad[l] = '\0';
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)o->bad[i] < 0x20)
			o->bad[i] = '?';
	o->why = why;
	return -1;
}

static void
opt_record(const struct wrap_model *m, struct wrap_opts *o, int val, size_t word, size_t off,
    bool has)
{
	for (const struct wrap_actdef *a = m->acts; a && a->act != WACT_NONE; a++) {
		if (a->val != val)
			continue;
		o->acts |= 1u << a->act;
		o->arg[a->act] = (struct wrap_optarg){ word, off, has };
		if (a->why != NULL && (a->act == WACT_DENY || a->act == WACT_NAMED))
			o->why = a->why;
	}
}

/* -5, --5, -+5 (nice's old adjustment syntax). */
static bool
is_numeric_opt(const struct cword *w)
{
	size_t j = 1;
	if (w->len > 2 && (w->s[1] == '-' || w->s[1] == '+'))
		j = 2;
	if (j >= w->len)
		return false;
	for (; j < w->len; j++)
		if (w->s[j] < '0' || w->s[j] > '9')
			return false;
	return true;
}

/* A long option word at w[*i]; advances *i past its argument. */
static int
opt_long(const struct wrap_model *m, const struct cword *w, size_t n, size_t *i,
    struct wrap_opts *o)
{
	const struct cword *x = &w[*i];
	const char *eq = memchr(x->s, '=', x->len);
	size_t nl = (eq ? (size_t)(eq - x->s) : x->len) - 2;
	if (nl == 0)
		return opt_fail(o, x, x->len, "is not an option it knows");
	const struct wrap_long *hit = NULL;
	int nhit = 0;
	for (const struct wrap_long *l = m->longs; l && l->name; l++) {
		if (strncmp(l->name, x->s + 2, nl) != 0 || memchr(x->s + 2, '\0', nl) != NULL)
			continue;
		if (l->name[nl] == '\0') {	/* exact */
			hit = l;
			nhit = 1;
			break;
		}
		if (!(m->flags & WRAPF_EXACT) && (hit == NULL || hit->val != l->val)) {
			hit = l;
			nhit++;
		}
	}
	if (nhit != 1)
		return opt_fail(o, x, eq ? (size_t)(eq - x->s) : x->len,
		    nhit ? "is ambiguous" : "is not an option it knows");
	if (hit->has_arg == WARG_NO && eq != NULL)
		return opt_fail(o, x, x->len, "takes no argument");
	if (eq != NULL) {
		opt_record(m, o, hit->val, *i, (size_t)(eq - x->s) + 1, true);
	} else if (hit->has_arg == WARG_REQ) {
		if (*i + 1 >= n)
			return opt_fail(o, x, x->len, "lacks its argument");
		if (w[*i + 1].flags & UNKNOWN_WORD)
			return opt_fail(o, &w[*i + 1], w[*i + 1].len,
			    "is an option argument not known until it runs");
		(*i)++;
		opt_record(m, o, hit->val, *i, 0, true);
	} else {
		opt_record(m, o, hit->val, *i, 0, false);
	}
	(*i)++;
	return 0;
}

/* A cluster of short options at w[*i]; advances *i past its argument. */
static int
opt_short(const struct wrap_model *m, const char *os, const struct cword *w, size_t n,
    size_t *i, struct wrap_opts *o)
{
	const struct cword *x = &w[*i];
	for (size_t j = 1; j < x->len; j++) {
		char c = x->s[j];
		const char *p = c != ':' && c != '\0' ? strchr(os, c) : NULL;
		if (p == NULL) {
			char one[3] = { '-', c, '\0' };
			struct cword cw = { .s = one, .len = 2 };
			return opt_fail(o, &cw, 2, "is not an option it knows");
		}
		if (p[1] != ':') {
			opt_record(m, o, (unsigned char)c, *i, j, false);
			continue;
		}
		if (j + 1 < x->len) {		/* attached argument */
			opt_record(m, o, (unsigned char)c, *i, j + 1, true);
			break;
		}
		if (p[2] == ':') {		/* optional: attached only */
			opt_record(m, o, (unsigned char)c, *i, 0, false);
			break;
		}
		if (*i + 1 >= n)
			return opt_fail(o, x, x->len, "lacks its argument");
		if (w[*i + 1].flags & UNKNOWN_WORD)
			return opt_fail(o, &w[*i + 1], w[*i + 1].len,
			    "is an option argument not known until it runs");
		(*i)++;
		opt_record(m, o, (unsigned char)c, *i, 0, true);
		break;
	}
	(*i)++;
	return 0;
}

int
pol__wrap_opt_parse(const struct wrap_model *m, const struct cword *w, size_t n,
    struct wrap_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->first = n;
	const char *os = m->optstring ? m->optstring : "+";
	bool permute = os[0] != '+';
	if (!permute)
		os++;
	size_t i = 1;
	while (i < n) {
		const struct cword *x = &w[i];
		if (pol__wrap_word_is(x, "--") ||
		    ((m->flags & WRAPF_DASHEND) && pol__wrap_word_is(x, "-"))) {
			if (o->first == n)
				o->first = i + 1 < n ? i + 1 : n;
			o->nops += n - i - 1;
			return 0;
		}
		bool dash = x->len == 1 && x->s[0] == '-' && (m->flags & WRAPF_DASH);
		bool opt = (x->len >= 2 && (x->s[0] == '-' ||
		    (x->s[0] == '+' && (m->flags & WRAPF_PLUS)))) || dash;
		if (x->flags & UNKNOWN_WORD) {
			/* could become an option, several words, or none */
			if (o->first == n || permute)
				return opt_fail(o, x, x->len, "is not known until it runs");
			opt = false;
		}
		if (!opt) {
			if (o->first == n)
				o->first = i;
			o->nops++;
			if (!permute) {
				o->nops += n - i - 1;
				return 0;
			}
			i++;
			continue;
		}
		if (o->first != n)
			o->late = true;
		int r;
		if (dash) {
			opt_record(m, o, '-', i, 0, false);
			i++;
			r = 0;
		} else if ((m->flags & WRAPF_NUMERIC) && is_numeric_opt(x)) {
			i++;
			r = 0;
		} else if (x->s[0] == '-' && x->s[1] == '-') {
			r = opt_long(m, w, n, &i, o);
		} else {
			r = opt_short(m, os, w, n, &i, o);
		}
		if (r < 0)
			return r;
	}
	return 0;
}
