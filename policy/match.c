/*
 * match.c: who / where / when specs, and command patterns against words.
 * A pattern word matches one command word: '*' matches any run of bytes
 * within the word (never across words); "..." matches any number of words.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

bool
spec_match_user(const struct spec *s, const struct pol_user *u)
{
	switch (s->kind) {
	case SPEC_ANY:
		return true;
	case SPEC_USER:
		return fnmatch(s->a, u->name, 0) == 0;
	case SPEC_GROUP:
		return s->group != NULL && pol_user_in_group(u, s->group);
	case SPEC_ATTR_EQ:
		for (size_t i = 0; i < u->nattrs; i++)
			if (strcmp(u->attrs[i].key, s->a) == 0 && strcmp(u->attrs[i].value, s->b) == 0)
				return true;
		return false;
	case SPEC_ATTR_NE:
		/* a user without the attribute matches too: "not KEY=VALUE" */
		for (size_t i = 0; i < u->nattrs; i++)
			if (strcmp(u->attrs[i].key, s->a) == 0 && strcmp(u->attrs[i].value, s->b) == 0)
				return false;
		return true;
	default:
		return false;
	}
}

bool
specs_match_user(const struct spec *v, size_t n, const struct pol_user *u)
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
		for (size_t i = 0; i < t->nlabels; i++)
			if (strcmp(t->labels[i].key, s->a) == 0 && strcmp(t->labels[i].value, s->b) == 0)
				return true;
		return false;
	case SPEC_LABEL_NE:
		/* a target without the label matches too */
		for (size_t i = 0; i < t->nlabels; i++)
			if (strcmp(t->labels[i].key, s->a) == 0 && strcmp(t->labels[i].value, s->b) == 0)
				return false;
		return true;
	default:
		return false;
	}
}

bool
specs_match_target(const struct spec *v, size_t n, const struct pol_target *t)
{
	for (size_t i = 0; i < n; i++)
		if (spec_match_target(&v[i], t))
			return true;
	return false;
}

static bool
one_when(const struct when *w, time_t now)
{
	long long off = w->zone ? pol_tz_offset(w->zone, now) : (long long)w->tz * 60;
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
when_match(const struct when *v, size_t n, time_t now)
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
word_glob(const char *p, size_t pl, const char *s, size_t sl)
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

/* One pattern word against one command word at position `pos`. */
static bool
word_match(const struct pword *pw, const struct cword *w, size_t pos, bool conservative)
{
	bool unknown = (w->flags & (POL_W_VAR | POL_W_SUBST)) != 0;
	if (unknown)
		return conservative || (pw->len == 1 && pw->s[0] == '*');
	if (!conservative) {
		/* a glob or brace word may expand to several words: only a lone
		 * '*' (or "...") covers it */
		if (w->flags & POL_W_BRACE)
			return pw->len == 1 && pw->s[0] == '*';
		/* a glob word is covered when the pattern word matches its text
		 * with the glob characters taken literally: the pattern word
		 * "/var/log/STAR" covers the glob "/var/log/STAR.log" */
		return word_glob(pw->s, pw->len, w->s, w->len);
	}
	if (word_glob(pw->s, pw->len, w->s, w->len))
		return true;
	if (pos == 0 && !pw->slash) {
		size_t bl;
		const char *b = base_name(w->s, w->len, &bl);
		if (b != w->s && word_glob(pw->s, pw->len, b, bl))
			return true;
	}
	if ((w->flags & POL_W_GLOB) && w->glob != NULL && !pw->star) {
		/* could the glob expand to the pattern's literal word? */
		if (memchr(pw->s, '\0', pw->len) == NULL && fnmatch(w->glob, pw->s, 0) == 0)
			return true;
	}
	if (w->flags & POL_W_BRACE)
		return true;	/* {a,b}: may become anything listed */
	return false;
}

bool
pattern_match(const struct pattern *pt, const struct cword *w, size_t n, bool open_tail)
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
	bool prefix = false;	/* all words consumed by a prefix of the pattern */
	for (size_t i = 0; i < pt->nw; i++) {
		const struct pword *pw = &pt->w[i];
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
	bool full = cur[n];
	free(heap);
	if (!open_tail)
		return full;
	if (conservative)
		return full || prefix;
	/* allow: the unknown tail must be covered by a final "..." */
	return full && pt->w[pt->nw - 1].ellipsis;
}
