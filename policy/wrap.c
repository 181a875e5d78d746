/*
 * wrap.c: commands that run other commands.  For each wrapper model
 * (wrap_table.c) reads the words as the wrapper does (wrap_opt.c) and
 * finds the inner command (words after the options), the shell text it
 * runs (sh -c, su -c, watch), or why it cannot be checked (an option the
 * model does not know, env -S, sudo -e).  The engine (decide.c) checks the
 * inner command as well as the wrapper: a wrapper never makes its inner
 * command allowed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/wrap_int.h"

#define UNKNOWN_WORD (POL_W_VAR | POL_W_SUBST | POL_W_GLOB | POL_W_BRACE)

/* What a wrapper use runs, before it is turned into pol__wrap_inner entries. */
enum wread_kind {
	WR_NOTHING,	/* not a wrapper, or nothing runs (sudo -l, xargs alone) */
	WR_ARGV,	/* words [start, end) */
	WR_TEXT,	/* one word (from byte off) is shell text */
	WR_JOIN,	/* words [start, end) joined by spaces are shell text */
	WR_FIND,	/* find: -exec ... ; entries */
	WR_SUFFIXES,	/* every tail from start */
	WR_DENY,	/* why */
	WR_NAMED,	/* allowed only when named literally: why */
};

struct wread {
	enum wread_kind kind;
	const struct wrap_model *m;
	size_t start, end;
	size_t off;		/* WR_TEXT: first byte in w[start] */
	bool open_tail;
	const char *ph;		/* xargs -I STR */
	size_t phlen;
	bool settled;		/* WR_NOTHING: by an option (sudo -l) or a script
				 * operand (sh FILE), not by a missing command */
	const char *key;	/* WR_NAMED: a word the rule must also name */
	size_t keylen;
	char why[128];
};

static enum wread_kind
wr_set(struct wread *r, enum wread_kind k, const char *fmt, ...)
{
	r->kind = k;
	if (fmt == NULL)
		return r->kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return r->kind;
}

static enum wread_kind
wr_optfail(struct wread *r, const struct wrap_opts *o)
{
	return wr_set(r, WR_DENY, "'%s' %s", o->bad, o->why ? o->why : "is not understood");
}

/* A word the shell expands where the wrapper reads its options or
 * operands: it may become any word, several, or none. */
static enum wread_kind
wr_unknown(struct wread *r, const struct cword *x)
{
	return wr_set(r, WR_DENY, "'%.*s' is not known until it runs",
	    (int)(x->len < 40 ? x->len : 40), x->s);
}

/* argv from operand index `i` to the end; `bare` when there is none. */
static enum wread_kind
wr_argv(struct wread *r, size_t n, size_t i)
{
	if (i >= n) {
		if (r->m->bare != NULL)
			wr_set(r, WR_NAMED, "%s", r->m->bare);
		else
			r->kind = WR_NOTHING;
		return r->kind;
	}
	r->kind = WR_ARGV;
	r->start = i;
	r->end = n;
	return r->kind;
}

static enum wread_kind
wr_text(struct wread *r, const struct wrap_optarg *a)
{
	r->kind = WR_TEXT;
	r->start = a->word;
	r->end = a->word + 1;
	r->off = a->off;
	return r->kind;
}

/* WHOW_ARGV: env, nice, timeout, sudo, ... */
static enum wread_kind
read_argv(struct wread *r, const struct cword *w, size_t n, const struct wrap_opts *o)
{
	const struct wrap_model *m = r->m;
	size_t i = o->first;
	if (m->flags & WRAPF_BANG)	/* bash's time keyword: time ! PIPELINE */
		while (i < n && pol__wrap_word_is(&w[i], "!"))
			i++;
	if (m->flags & WRAPF_ASSIGN)
		for (; i < n && w[i].len > 0 && w[i].s[0] != '=' &&
		    memchr(w[i].s, '=', w[i].len) != NULL; i++) {
			if (w[i].flags & UNKNOWN_WORD)	/* $V=1 may split into options */
				return wr_unknown(r, &w[i]);
			if (pol__wrap_special_var(w[i].s, w[i].len))
				return wr_set(r, WR_DENY, "sets %.*s, which changes what runs",
				    (int)((const char *)memchr(w[i].s, '=', w[i].len) - w[i].s),
				    w[i].s);
		}
	for (unsigned k = 0; k < m->skip; k++, i++) {
		if (i >= n)
			return wr_set(r, WR_NOTHING, NULL);
		if (w[i].flags & UNKNOWN_WORD)
			return wr_unknown(r, &w[i]);
	}
	if (o->acts & (1u << WACT_SHELL)) {
		if (i >= n)
			return wr_set(r, WR_NAMED, "%s", m->bare ? m->bare : "starts a shell");
		r->kind = WR_JOIN;
		r->start = i;
		r->end = n;
		return r->kind;
	}
	return wr_argv(r, n, i);
}

/* WHOW_SHELL: sh [options] [-c TEXT [NAME ARGS...] | SCRIPT ARGS... ] */
static enum wread_kind
read_shell(struct wread *r, size_t n, const struct wrap_opts *o)
{
	if (o->acts & (1u << WACT_TEXT)) {
		if (o->first >= n)
			return wr_set(r, WR_DENY, "-c without a command");
		struct wrap_optarg a = { o->first, 0, true };
		return wr_text(r, &a);
	}
	if (o->acts & (1u << WACT_NAMED))
		return wr_set(r, WR_NAMED, "%s", o->why);
	if (o->first >= n)
		return wr_set(r, WR_NAMED, "%s", r->m->bare);
	r->kind = WR_NOTHING;	/* runs a script file: matched as is */
	r->settled = true;
	return r->kind;
}

/* WHOW_WATCH: the operands joined are run by sh -c; with -x they are argv. */
static enum wread_kind
read_watch(struct wread *r, size_t n, const struct wrap_opts *o)
{
	if (o->first >= n)
		return wr_set(r, WR_NOTHING, NULL);
	if (o->acts & (1u << WACT_EXECV))
		return wr_argv(r, n, o->first);
	r->kind = WR_JOIN;
	r->start = o->first;
	r->end = n;
	return r->kind;
}

/* WHOW_XARGS: argv; input words are appended, or replace the -I string. */
static enum wread_kind
read_xargs(struct wread *r, const struct cword *w, size_t n, const struct wrap_opts *o)
{
	if (o->first >= n)
		return wr_set(r, WR_NOTHING, NULL);	/* runs echo */
	wr_argv(r, n, o->first);
	if (o->acts & (1u << WACT_REPLACE)) {
		const struct wrap_optarg *a = &o->arg[WACT_REPLACE];
		if (a->set) {
			r->ph = w[a->word].s + a->off;
			r->phlen = w[a->word].len - a->off;
		} else {
			r->ph = "{}";
			r->phlen = 2;
		}
		if (r->phlen == 0)
			return wr_set(r, WR_DENY, "-I with an empty replacement string");
	} else {
		r->open_tail = true;
	}
	return r->kind;
}

/* WHOW_SU: su [options] [-] [USER]; runuser -u USER [--] COMMAND... */
static enum wread_kind
read_su(struct wread *r, size_t n, const struct wrap_opts *o)
{
	if (o->acts & (1u << WACT_TEXT))
		return o->nops > 1 ? wr_set(r, WR_DENY, "arguments after the user name are "
		    "passed to the shell") : wr_text(r, &o->arg[WACT_TEXT]);
	if (o->acts & (1u << WACT_USER)) {
		if (o->late)
			return wr_set(r, WR_DENY, "options after the command: write '--' before it");
		return wr_argv(r, n, o->first);
	}
	if (o->nops > 1)
		return wr_set(r, WR_DENY, "arguments after the user name are passed to the shell");
	return wr_set(r, WR_NAMED, "%s", r->m->bare);
}

/* WHOW_SG: sg [-] GROUP [-c] TEXT (sg(1): the command runs with /bin/sh). */
static enum wread_kind
read_sg(struct wread *r, const struct cword *w, size_t n)
{
	for (size_t k = 1; k < n; k++)
		if (w[k].flags & UNKNOWN_WORD)
			return wr_unknown(r, &w[k]);
	size_t i = 1;
	if (i < n && pol__wrap_word_is(&w[i], "-"))
		i++;
	if (i < n && w[i].len > 0 && w[i].s[0] == '-')
		return wr_set(r, WR_DENY, "'%.*s' is not an option it knows",
		    (int)(w[i].len < 40 ? w[i].len : 40), w[i].s);
	i++;	/* GROUP */
	if (i < n && pol__wrap_word_is(&w[i], "-c"))
		i++;
	if (i >= n)
		return wr_set(r, WR_NAMED, "%s", r->m->bare);
	if (i + 1 < n)
		return wr_set(r, WR_DENY, "takes the command as one word");
	struct wrap_optarg a = { i, 0, true };
	return wr_text(r, &a);
}

/* WHOW_SCRIPT: script [options] [FILE]; the command only through -c. */
static enum wread_kind
read_script(struct wread *r, const struct wrap_opts *o)
{
	if (o->nops > 1)
		return wr_set(r, WR_DENY, "takes one file name");
	if (o->acts & (1u << WACT_TEXT))
		return wr_text(r, &o->arg[WACT_TEXT]);
	return wr_set(r, WR_NAMED, "%s", r->m->bare);
}

/* WHOW_FLOCK: flock [options] FILE COMMAND... | FILE -c TEXT | FD */
static enum wread_kind
read_flock(struct wread *r, const struct cword *w, size_t n, const struct wrap_opts *o)
{
	size_t i = o->first + 1;
	if (o->first >= n || i >= n)
		return wr_set(r, WR_NOTHING, NULL);
	if (pol__wrap_word_is(&w[i], "-c") || pol__wrap_word_is(&w[i], "--command")) {
		if (i + 2 != n)
			return wr_set(r, WR_DENY, "-c takes the command as one word");
		struct wrap_optarg a = { i + 1, 0, true };
		return wr_text(r, &a);
	}
	return wr_argv(r, n, i);
}

static bool
find_writes(const struct cword *x)
{
	static const char *const act[] = { "-delete", "-fprint", "-fprint0", "-fprintf", "-fls",
		NULL };
	for (int k = 0; act[k]; k++)
		if (pol__wrap_word_is(x, act[k]))
			return true;
	return false;
}

/* Reads w[0..n) as its wrapper would.  Returns (and sets r->kind to) what runs. */
static enum wread_kind
wrap_read(const struct cword *w, size_t n, struct wread *r)
{
	memset(r, 0, sizeof(*r));
	if (n == 0 || (w[0].flags & UNKNOWN_WORD))
		return r->kind;
	size_t bl;
	const char *b = pol__wrap_base(&w[0], &bl);
	r->m = pol__wrap_model_find(b, bl);
	if (r->m == NULL)
		return r->kind;
	switch (r->m->how) {
	case WHOW_DENY:
		return wr_set(r, WR_DENY, "edits files as another user");
	case WHOW_SUFFIXES:
		if (n < 2)
			return r->kind;
		r->kind = WR_SUFFIXES;
		r->start = 1;
		r->end = n;
		return r->kind;
	case WHOW_FIND:
		for (size_t i = 1; i < n; i++)
			if (w[i].flags & UNKNOWN_WORD)
				return wr_unknown(r, &w[i]);	/* could be an action */
		for (size_t i = 1; i < n; i++)
			if (find_writes(&w[i])) {
				r->key = w[i].s;
				r->keylen = w[i].len;
				return wr_set(r, WR_NAMED, "with %.*s writes or deletes files",
				    (int)(w[i].len < 20 ? w[i].len : 20), w[i].s);
			}
		r->kind = WR_FIND;
		return r->kind;
	case WHOW_SG:
		return read_sg(r, w, n);
	default:
		break;
	}
	struct wrap_opts o;
	if (pol__wrap_opt_parse(r->m, w, n, &o) < 0)
		return wr_optfail(r, &o);
	if (o.acts & (1u << WACT_DENY))
		return wr_set(r, WR_DENY, "%s", o.why);
	if (o.acts & (1u << WACT_NOCMD)) {
		r->settled = true;
		return r->kind;
	}
	switch (r->m->how) {
	case WHOW_ARGV:
		return read_argv(r, w, n, &o);
	case WHOW_SHELL:
		return read_shell(r, n, &o);
	case WHOW_WATCH:
		return read_watch(r, n, &o);
	case WHOW_XARGS:
		return read_xargs(r, w, n, &o);
	case WHOW_SU:
		return read_su(r, n, &o);
	case WHOW_SCRIPT:
		return read_script(r, &o);
	case WHOW_FLOCK:
		return read_flock(r, w, n, &o);
	case WHOW_TEXT1:
		if (o.first >= n || pol__wrap_word_is(&w[o.first], "-"))
			return r->kind;	/* lists, or resets handlers */
		return wr_text(r, &(struct wrap_optarg){ o.first, 0, true });
	default:
		return r->kind;
	}
	return r->kind;
}

/* ---- pol__wrap_inner entries ------------------------------------------------- */

static int
out_deny(struct wrap_inner *o, const char *name, const char *why)
{
	o->kind = WRAP_DENY;
	o->wrapper = name;
	snprintf(o->msg, sizeof(o->msg), "%s", why);
	o->why = o->msg;
	return 1;
}

/* Shell text from words [from, to), the first from byte `off`. */
static int
out_shell(struct wrap_inner *o, const char *name, const struct cword *w, size_t from,
    size_t to, size_t off)
{
	size_t len = 1;
	for (size_t i = from; i < to; i++) {
		if (w[i].flags & UNKNOWN_WORD)
			return out_deny(o, name, "the shell text is not known until it runs");
		len += w[i].len + 1;
	}
	char *s = malloc(len);
	if (s == NULL)
		return -1;
	size_t k = 0;
	for (size_t i = from; i < to; i++) {
		size_t skip = i == from ? off : 0;
		if (k)
			s[k++] = ' ';
		memcpy(s + k, w[i].s + skip, w[i].len - skip);
		k += w[i].len - skip;
	}
	s[k] = '\0';
	if (strlen(s) != k) {
		free(s);
		return out_deny(o, name, "the shell text contains a NUL byte");
	}
	o->kind = WRAP_SHELL;
	o->wrapper = name;
	o->shell = s;
	o->start = from;
	o->end = to;
	return 1;
}

static void
out_argv(struct wrap_inner *o, const char *name, size_t start, size_t end)
{
	o->kind = WRAP_INNER;
	o->wrapper = name;
	o->start = start;
	o->end = end;
}

/* find: -exec / -execdir / -ok / -okdir COMMAND ... ; or ... {} + */
static int
out_find(const struct cword *w, size_t n, struct wrap_inner *out, int max)
{
	int cnt = 0;
	for (size_t k = 1; k < n; k++) {
		if (!pol__wrap_word_is(&w[k], "-exec") && !pol__wrap_word_is(&w[k], "-execdir") &&
		    !pol__wrap_word_is(&w[k], "-ok") && !pol__wrap_word_is(&w[k], "-okdir"))
			continue;
		size_t e = k + 1;
		bool plus = false;
		/* '+' ends the command only right after "{}" (find(1)) */
		while (e < n && !pol__wrap_word_is(&w[e], ";") &&
		    !(pol__wrap_word_is(&w[e], "+") && e > k + 1 &&
		    pol__wrap_word_is(&w[e - 1], "{}")))
			e++;
		if (e >= n)
			return out_deny(&out[0], "find", "-exec without its ';' or '{} +'");
		plus = pol__wrap_word_is(&w[e], "+");
		if (e == k + 1)
			return out_deny(&out[0], "find", "-exec without a command");
		if (cnt == max)
			return out_deny(&out[0], "find", "too many -exec actions to check");
		out_argv(&out[cnt], "find", k + 1, e);
		out[cnt].placeholders = true;
		out[cnt].ph = "{}";
		out[cnt].phlen = 2;
		out[cnt].open_tail = plus;
		cnt++;
		k = e;
	}
	return cnt;
}

/* Whether words appended to a wrapper use (xargs) reach only the inner
 * command's arguments: they cannot become its command, its options (a
 * permuting parser, find's expression, watch's text) or a shell's -c. */
static bool
tail_safe(const struct wread *r)
{
	switch (r->kind) {
	case WR_ARGV:
		return r->m->optstring != NULL && r->m->optstring[0] == '+';
	case WR_TEXT:
		return r->m->how == WHOW_SHELL;	/* they become $0, $1 ... */
	case WR_NOTHING:
		return r->settled;
	case WR_DENY:
		return true;
	default:
		return false;
	}
}

int
pol__wrap_inner(const struct cword *w, size_t n, bool open_tail, struct wrap_inner *out, int max)
{
	if (n == 0 || max < 1)
		return 0;
	memset(out, 0, sizeof(*out) * (size_t)max);
	struct wread r;
	wrap_read(w, n, &r);
	const char *name = r.m ? r.m->name : "";
	if (open_tail && r.m != NULL && !tail_safe(&r))
		return out_deny(out, name, "the words xargs appends could become its command "
		    "or options");
	switch (r.kind) {
	case WR_NOTHING:
	case WR_NAMED:		/* decided by pol__wrap_literal_only */
		return 0;
	case WR_DENY:
		return out_deny(out, name, r.why);
	case WR_ARGV:
		out_argv(out, name, r.start, r.end);
		out->open_tail = r.open_tail || open_tail;
		if (r.ph != NULL) {
			out->placeholders = true;
			out->ph = r.ph;
			out->phlen = r.phlen;
		}
		return 1;
	case WR_TEXT:
		return out_shell(out, name, w, r.start, r.end, r.off);
	case WR_JOIN:
		return out_shell(out, name, w, r.start, r.end, 0);
	case WR_FIND:
		return out_find(w, n, out, max);
	case WR_SUFFIXES:
		out->kind = WRAP_SUFFIXES;
		out->wrapper = name;
		out->start = r.start;
		out->end = r.end;
		return 1;
	}
	return 0;
}

bool
pol__wrap_named_only(const struct cword *w, size_t n, struct wrap_literal *lit)
{
	struct wread r;
	if (wrap_read(w, n, &r) != WR_NAMED)
		return false;
	size_t bl;
	const char *b = pol__wrap_base(&w[0], &bl);
	int nl = (int)(bl > 40 ? 40 : bl);
	if (r.key != NULL)
		snprintf(lit->why, sizeof(lit->why), "'%.*s' %s; a rule must name it and "
		    "'%.*s' literally", nl, b, r.why, (int)(r.keylen > 20 ? 20 : r.keylen), r.key);
	else
		snprintf(lit->why, sizeof(lit->why), "'%.*s' %s; a rule must name it literally, "
		    "without '*' or '...'", nl, b, r.why);
	lit->key = r.key;
	lit->keylen = r.keylen;
	lit->exact = r.key == NULL;
	return true;
}

void
pol__wrap_inner_clear(struct wrap_inner *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].shell);
		v[i].shell = NULL;
	}
}
