/*
 * match.c: who / where / when specs, and command patterns against words.
 * A pattern word matches one command word: '*' matches any run of bytes
 * within the word (never across words); "..." matches any number of words.
 * A command word is compared in its path form (pathnorm.c): its normal
 * form, or a glob of every path it could name.
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

/* True when kv[0..n) holds the pair key=value. */
static bool
kv_has(const struct pol_kv *kv, size_t n, const char *key, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0 && strcmp(kv[i].value, value) == 0)
			return true;
	return false;
}

/* True when user u matches the one spec s. */
static bool
spec_match_user(const struct spec *s, const struct pol_user *u)
{
	switch (s->kind) {
	case SPEC_ANY:
		return true;
	case SPEC_USER:
		return fnmatch(s->a, u->name, 0) == 0;
	case SPEC_GROUP:
		return s->group != NULL && pol__user_in_group(u, s->group);
	case SPEC_ATTR_EQ:
		return kv_has(u->attrs, u->nattrs, s->a, s->b);
	case SPEC_ATTR_NE:
		/* a user without the attribute matches too: "not KEY=VALUE" */
		return !kv_has(u->attrs, u->nattrs, s->a, s->b);
	default:
		return false;
	}
}

bool
pol__specs_match_user(const struct spec *v, size_t n, const struct pol_user *u)
{
	for (size_t i = 0; i < n; i++)
		if (spec_match_user(&v[i], u))
			return true;
	return false;
}

static bool
spec_match_target(const struct spec *s, const struct pol_target *t)
{
	switch (s->kind) {
	case SPEC_ANY:
		return true;
	case SPEC_TARGET:
		return fnmatch(s->a, t->name, 0) == 0;
	case SPEC_LABEL_EQ:
		return kv_has(t->labels, t->nlabels, s->a, s->b);
	case SPEC_LABEL_NE:
		/* a target without the label matches too */
		return !kv_has(t->labels, t->nlabels, s->a, s->b);
	default:
		return false;
	}
}

bool
pol__specs_match_target(const struct spec *v, size_t n, const struct pol_target *t)
{
	for (size_t i = 0; i < n; i++)
		if (spec_match_target(&v[i], t))
			return true;
	return false;
}

static bool
one_when(const struct when *w, time_t now)
{
	long long off = w->zone ? pol__tz_offset(w->zone, now) : (long long)w->tz * 60;
	long long t = (long long)now + off;
	long long days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int mins = (int)((t - days * 86400) / 60);
	int wday = (int)(((days % 7) + 7 + 4) % 7);	/* 1970-01-01 was a Thursday */
	if (w->from < w->to)
		return (w->days & (1u << wday)) && mins >= w->from && mins < w->to;
	/* wraps midnight: the part after midnight belongs to the previous day */
	if (mins >= w->from)
		return (w->days & (1u << wday)) != 0;
	if (mins < w->to)
		return (w->days & (1u << ((wday + 6) % 7))) != 0;
	return false;
}

bool
pol__when_match(const struct when *v, size_t n, time_t now)
{
	if (n == 0 || now == POL_ANYTIME)
		return true;
	for (size_t i = 0; i < n; i++)
		if (one_when(&v[i], now))
			return true;
	return false;
}

/* '*'-only glob within one word; byte exact otherwise. */
bool
pol__word_glob(const char *p, size_t pl, const char *s, size_t sl)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
	while (si < sl) {
		if (pi < pl && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pl && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pl && p[pi] == '*')
		pi++;
	return pi == pl;
}

static const char *
base_name(const char *s, size_t len, size_t *bl)
{
	const char *b = s;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/')
			b = s + i + 1;
	*bl = len - (size_t)(b - s);
	return b;
}

/*
 * Globs (the path form of a word, pathnorm.c) against pattern words.  A
 * glob is read as tokens: a literal byte (possibly escaped), '?', a
 * bracket expression (taken as any one byte but '/': conservative for a
 * deny, and an allow never relies on it), '*' (any bytes but '/', as in
 * pathname expansion), "**" (any bytes: bash's globstar) and "**" + "/"
 * (nothing, or any bytes and a '/': any directories or none with
 * globstar, and the unknown directory of a path form).  A pattern word has
 * only '*', which matches any bytes.
 */
enum gtok_kind { GT_END, GT_LIT, GT_ONE, GT_STAR, GT_STARS, GT_DIRS };

struct gtok {
	enum gtok_kind kind;
	char ch;		/* GT_LIT */
};

/* The token at g[*i], advancing *i. */
static struct gtok
gtok_next(const char *g, size_t len, size_t *i)
{
	if (*i >= len)
		return (struct gtok){ GT_END, 0 };
	char c = g[(*i)++];
	if (c == '*') {
		if (*i >= len || g[*i] != '*')
			return (struct gtok){ GT_STAR, 0 };
		while (*i < len && g[*i] == '*')
			(*i)++;
		if (*i < len && g[*i] == '/') {
			(*i)++;
			return (struct gtok){ GT_DIRS, 0 };
		}
		return (struct gtok){ GT_STARS, 0 };
	}
	if (c == '?')
		return (struct gtok){ GT_ONE, 0 };
	if (c == '\\' && *i < len)
		return (struct gtok){ GT_LIT, g[(*i)++] };
	if (c == '[') {
		size_t j = *i;
		if (j < len && (g[j] == '!' || g[j] == '^'))
			j++;
		if (j < len && g[j] == ']')
			j++;
		for (; j < len; j++) {
			if (g[j] == '\\' && j + 1 < len)
				j++;
			else if (g[j] == ']') {
				*i = j + 1;
				return (struct gtok){ GT_ONE, 0 };
			}
		}
	}
	return (struct gtok){ GT_LIT, c };
}

#define GLOB_PAT_MAX 256	/* longer pattern words: answered conservatively */

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether some string matches both the glob g and the pattern word p.
 * Letters match in either case (bash's nocaseglob). */
static bool
glob_meets(const char *g, size_t gl, const char *p, size_t pl)
{
	bool a[GLOB_PAT_MAX + 1], b[GLOB_PAT_MAX + 1];
	bool *cur = a, *nxt = b;
	if (pl > GLOB_PAT_MAX)
		return true;
	memset(cur, 0, pl + 1);
	cur[0] = true;
	size_t gi = 0;
	for (;;) {
		struct gtok t = gtok_next(g, gl, &gi);
		/* moves within the row: a '*' on either side takes p[j] */
		for (size_t j = 0; j < pl; j++)
			if (cur[j] && (p[j] == '*' || t.kind == GT_STARS ||
			    (t.kind == GT_STAR && p[j] != '/')))
				cur[j + 1] = true;
		if (t.kind == GT_END)
			return cur[pl];
		bool alive = false;
		memset(nxt, 0, pl + 1);
		if (t.kind == GT_DIRS) {
			/* nothing; or any bytes (p[k..j) for some cur[k]) and a '/' */
			bool any = false;
			for (size_t j = 0; j <= pl; j++) {
				any = any || cur[j];
				if (cur[j] || (any && j < pl && p[j] == '*'))
					nxt[j] = alive = true;
				if (any && j < pl && p[j] == '/')
					nxt[j + 1] = alive = true;
			}
			if (!alive)
				return false;
			bool *x = cur;
			cur = nxt;
			nxt = x;
			continue;
		}
		for (size_t j = 0; j <= pl; j++) {
			if (!cur[j])
				continue;
			if (t.kind == GT_STAR || t.kind == GT_STARS || (j < pl && p[j] == '*'))
				nxt[j] = alive = true;
			if (j < pl && p[j] != '*' && ((t.kind == GT_ONE && p[j] != '/') ||
			    (t.kind == GT_LIT && lower(t.ch) == lower(p[j]))))
				nxt[j + 1] = alive = true;
		}
		if (!alive)
			return false;
		bool *x = cur;
		cur = nxt;
		nxt = x;
	}
}

/* Whether the pattern word p matches every string the glob g matches (and
 * g taken literally): each glob character of g must fall in a '*' of p. */
static bool
glob_covered(const char *p, size_t pl, const char *g, size_t gl)
{
	bool a[GLOB_PAT_MAX + 1], b[GLOB_PAT_MAX + 1];
	bool *cur = a, *nxt = b;
	if (pl > GLOB_PAT_MAX)
		return false;
	memset(cur, 0, pl + 1);
	cur[0] = true;
	size_t gi = 0;
	for (;;) {
		for (size_t j = 0; j < pl; j++)
			if (cur[j] && p[j] == '*')
				cur[j + 1] = true;
		struct gtok t = gtok_next(g, gl, &gi);
		if (t.kind == GT_END)
			return cur[pl];
		bool alive = false;
		memset(nxt, 0, pl + 1);
		for (size_t j = 0; j < pl; j++) {
			if (!cur[j])
				continue;
			if (p[j] == '*')
				nxt[j] = alive = true;
			else if (t.kind == GT_LIT && t.ch == p[j])
				nxt[j + 1] = alive = true;
		}
		if (!alive)
			return false;
		bool *x = cur;
		cur = nxt;
		nxt = x;
	}
}

static bool
pword_is_star(const struct pword *pw)
{
	return pw->len == 1 && pw->s[0] == '*';
}

/* word_match for a word with a path form or expansions. */
static bool __attribute__((noinline))
word_match_form(const struct pword *pw, const struct cword *w, size_t pos, bool conservative)
{
	if ((w->flags & (POL_W_VAR | POL_W_SUBST | POL_W_BRACE)) || (w->pf & PF_ANY))
		return conservative || pword_is_star(pw);
	const char *f = w->s;
	size_t fl = w->len;
	bool glob = false;
	if (w->ps != NULL) {
		f = w->ps;
		fl = w->plen;
		glob = (w->pf & PF_GLOB) != 0;
	} else if ((w->flags & POL_W_GLOB) && w->glob != NULL) {
		f = w->glob;
		fl = strlen(w->glob);
		glob = true;
	}
	if (!conservative) {
		if (w->pf & PF_TEXT_ALLOW)
			return pol__word_glob(pw->s, pw->len, w->s, w->len) || (w->ps != NULL &&
			    !(w->pf & PF_GLOB) && pol__word_glob(pw->s, pw->len, w->ps, w->plen));
		if (w->pf & PF_CDREL)
			return pword_is_star(pw);
		return glob ? glob_covered(pw->s, pw->len, f, fl) : pol__word_glob(pw->s, pw->len, f, fl);
	}
	bool other = f != w->s;	/* a path form besides the text */
	if (pol__word_glob(pw->s, pw->len, w->s, w->len))
		return true;
	if (other && (glob ? glob_meets(f, fl, pw->s, pw->len) :
	    pol__word_glob(pw->s, pw->len, f, fl)))
		return true;
	if (pos == 0 && !pw->slash) {
		/* the command name by its last component */
		size_t bl;
		const char *b = base_name(w->s, w->len, &bl);
		if (b != w->s && pol__word_glob(pw->s, pw->len, b, bl))
			return true;
		b = base_name(f, fl, &bl);
		if (other && b != f && (glob ? glob_meets(b, bl, pw->s, pw->len) :
		    pol__word_glob(pw->s, pw->len, b, bl)))
			return true;
	}
	return false;
}

/*
 * One pattern word against one command word at position `pos`.  Allow
 * patterns (conservative false) match a word only when every path it may
 * name matches; deny and approve patterns when any spelling or expansion
 * of it may match.  Most words are plain text in normal form: compared as
 * they are here, the rest in word_match_form.
 */
static inline bool
word_match(const struct pword *pw, const struct cword *w, size_t pos, bool conservative)
{
	if (w->ps != NULL || (w->flags & (POL_W_GLOB | POL_W_VAR | POL_W_SUBST | POL_W_BRACE)))
		return word_match_form(pw, w, pos, conservative);
	if (pol__word_glob(pw->s, pw->len, w->s, w->len))
		return true;
	if (!conservative || pos != 0 || pw->slash)
		return false;
	/* deny, approve: the command name by its last component */
	size_t bl;
	const char *b = base_name(w->s, w->len, &bl);
	return b != w->s && pol__word_glob(pw->s, pw->len, b, bl);
}

/* Whether a word may become no word or several: an unquoted glob (with
 * nullglob, or matching several files), a brace expansion, and a variable
 * or substitution (word splitting). */
static bool
word_multi(const struct cword *w)
{
	return (w->flags & (POL_W_GLOB | POL_W_BRACE | POL_W_VAR | POL_W_SUBST)) != 0;
}

/* Deny and approve: where words [0, j) are matched and w[j] may become no
 * word at all, words [0, j + 1) are matched too. */
static void
skip_multi(bool *cur, const struct cword *w, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (cur[j] && word_multi(&w[j]))
			cur[j + 1] = true;
}

bool
pol__pattern_match(const struct pattern *pt, const struct cword *w, size_t n, bool open_tail)
{
	bool conservative = pt->verdict != POL_ALLOW;
	bool small[65], small2[65];
	bool *cur = small, *nxt = small2;
	bool *heap = NULL;
	if (n + 1 > 65) {
		heap = malloc(2 * (n + 1) * sizeof(bool));
		if (heap == NULL)
			return conservative;	/* fail safe: denies match, allows do not */
		cur = heap;
		nxt = heap + n + 1;
	}
	memset(cur, 0, (n + 1) * sizeof(bool));
	cur[0] = true;
	bool multi = false;	/* deny, approve: a word may become 0 or several */
	for (size_t j = 0; conservative && j < n && !multi; j++)
		multi = word_multi(&w[j]);
	bool prefix = false;	/* all words consumed by a prefix of the pattern */
	for (size_t i = 0; i < pt->nw; i++) {
		const struct pword *pw = &pt->w[i];
		if (multi)
			skip_multi(cur, w, n);
		if (cur[n])
			prefix = true;
		if (pw->ellipsis) {
			bool any = false;
			for (size_t j = 0; j <= n; j++) {
				any = any || cur[j];
				nxt[j] = any;
			}
		} else {
			nxt[0] = false;
			for (size_t j = 1; j <= n; j++)
				nxt[j] = cur[j - 1] && word_match(pw, &w[j - 1], j - 1, conservative);
			/* deny, approve: a word that may become several takes this
			 * pattern word and may take more */
			for (size_t j = 0; multi && j < n; j++)
				if (cur[j] && !nxt[j] && word_multi(&w[j]) &&
				    word_match(pw, &w[j], j, conservative))
					nxt[j] = true;
		}
		bool *t = cur;
		cur = nxt;
		nxt = t;
		bool alive = false;
		for (size_t j = 0; j <= n && !alive; j++)
			alive = cur[j];
		if (!alive)
			break;	/* no way left to match */
	}
	if (multi)
		skip_multi(cur, w, n);
	bool full = cur[n];
	free(heap);
	if (!open_tail)
		return full;
	if (conservative)
		return full || prefix;
	/* allow: the unknown tail must be covered by a final "..." */
	return full && pt->w[pt->nw - 1].ellipsis;
}
