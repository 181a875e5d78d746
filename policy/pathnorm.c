/*
 * pathnorm.c: lexical path normalisation (pathnorm.h), and the path form
 * of a command's words and of pattern words that the matcher compares
 * (pol_int.h: pol__pathnorm_cwords, pol__pathnorm_pattern, pol__pathnorm_is_chdir,
 * pol__pathnorm_wrapper_chdirs, pol__pathnorm_redirect_words, pol__pathnorm_note).
 *
 * A command word's path form is one of:
 *   exact  its normal form (pathnorm.h);
 *   glob   an fnmatch-style glob (backslash escapes) of every path it could
 *          name, where "**" is any directory (match.c): a glob word in
 *          normal form; a word whose ".." removed a directory name or
 *          climbed above a relative start ("**" then the part after the
 *          last such ".."; a symlink may lead anywhere); a tilde word
 *          ("~root/x" is "**" "/x"); a relative word after cd, pushd or
 *          popd, or after a wrapper that changes directory ("**" "/" the
 *          word);
 *   any    could be anything: a glob with a component that could match
 *          "." or "..", or a bracket expression holding '/'.
 * Words already in normal form get no form: they are compared as they are.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/pathnorm.h"
#include "policy/pol_int.h"

/* 1 or 2 when the component is "." or ".." (in a glob, each dot may be
 * escaped), else 0. */
static int
comp_dots(const char *c, size_t len, bool glob)
{
	int dots = 0;
	for (size_t i = 0; i < len; i++) {
		if (glob && c[i] == '\\' && i + 1 < len)
			i++;
		if (c[i] != '.' || ++dots > 2)
			return 0;
	}
	return dots;
}

/* The normaliser of pathnorm.h over plain text or a glob (whose '/' are
 * never escaped: only * ? [ ] and \ are). */
static size_t
clean(const char *in, size_t len, char *out, bool glob, unsigned *flags, size_t *tail)
{
	bool rooted = len > 0 && in[0] == '/';
	size_t w = 0, dotdot = 0, r = 0, t = 0;
	unsigned f = rooted ? 0 : POL_PATH_RELATIVE;
	if (rooted)
		out[w++] = '/', dotdot = 1;
	while (r < len) {
		if (in[r] == '/') {
			r++;
			continue;
		}
		size_t e = r;
		while (e < len && in[e] != '/')
			e++;
		int dots = comp_dots(in + r, e - r, glob);
		if (dots == 2 && w > dotdot) {
			/* remove the last component */
			w--;
			while (w > dotdot && out[w] != '/')
				w--;
			f |= POL_PATH_POPPED;
			t = w;
		} else if (dots == 2 && !rooted) {
			if (w > 0)
				out[w++] = '/';
			out[w++] = '.';
			out[w++] = '.';
			dotdot = w;
			f |= POL_PATH_ABOVE;
			t = w;
		} else if (dots == 0) {
			if (w != (rooted ? 1u : 0u))
				out[w++] = '/';
			memcpy(out + w, in + r, e - r);
			w += e - r;
		}
		r = e;
	}
	if (w == 0) {
		out[w++] = '.';
		if (f & (POL_PATH_POPPED | POL_PATH_ABOVE))
			t = w;	/* nothing certain follows */
	}
	out[w] = '\0';
	if (flags)
		*flags = f;
	if (tail)
		*tail = t;
	return w;
}

size_t
pol_path_clean(const char *in, size_t len, char *out, unsigned *flags, size_t *tail)
{
	return clean(in, len, out, false, flags, tail);
}

int
pol_path_normalise(const char *in, size_t len, char **out, unsigned *flags)
{
	if (out != NULL)
		*out = NULL;
	if (in == NULL || out == NULL || memchr(in, '\0', len) != NULL)
		return POL_E_INVAL;
	char *s = malloc(len + 2);
	if (s == NULL)
		return POL_E_NOMEM;
	clean(in, len, s, false, flags, NULL);
	*out = s;
	return 0;
}

/* ---- pattern words ----------------------------------------------------- */

size_t
pol__pathnorm_pattern(char *s, size_t len, bool broad)
{
	if (memchr(s, '/', len) == NULL || len == 0)
		return len;
	char small[256], *buf = len + 2 <= sizeof(small) ? small : malloc(len + 2);
	if (buf == NULL)
		return len;	/* left as written: compared as written */
	size_t n = clean(s, len, buf, false, NULL, NULL);
	bool keep = false;
	/* ".." after a '*' cannot be folded, as the '*' may span components:
	 * an allow keeps the word as written (matching no normal form), a
	 * deny or approve widens it to "*" */
	size_t last_dd = 0;
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '.' && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == len || s[i + 2] == '/'))
			last_dd = i + 2;
	if (last_dd > 0 && memchr(s, '*', last_dd) != NULL) {
		if (broad) {
			memcpy(buf, "*", 2);
			n = 1;
		} else {
			keep = true;
		}
	}
	/* "DIR/STAR/" (ending in '/') is narrower than "DIR/STAR": an allow
	 * keeps it, a deny or approve widens to it */
	if (!broad && len >= 2 && s[len - 1] == '/' && s[len - 2] == '*')
		keep = true;
	if (!keep && n <= len) {
		memcpy(s, buf, n + 1);
		len = n;
	}
	if (buf != small)
		free(buf);
	return len;
}

/* ---- command words ----------------------------------------------------- */

static const char *const chdir_names[] = { "cd", "pushd", "popd", NULL };
/* Words that run the builtin after them. */
static const char *const chdir_prefixes[] = { "builtin", "command", NULL };

static bool
in_table(const char *const *t, const char *s, size_t len)
{
	for (size_t i = 0; t[i] != NULL; i++)
		if (strlen(t[i]) == len && memcmp(t[i], s, len) == 0)
			return true;
	return false;
}

bool
pol__pathnorm_is_chdir(const struct pol_simple *sc)
{
	for (size_t i = 0; i < sc->nwords; i++) {
		const struct pol_word *w = &sc->words[i];
		if (w->len < 2 || w->len > 7)	/* not "cd" ... "builtin", nor -p */
			return false;
		if (in_table(chdir_names, w->s, w->len))
			return true;
		if (!in_table(chdir_prefixes, w->s, w->len) && !(i > 0 && w->len > 0 && w->s[0] == '-'))
			return false;
	}
	return false;
}

/*
 * Wrappers that run their command in another directory, and the options
 * that make them do so: `shorts` are single-letter options (alone or in a
 * cluster), `longs` whole words or prefixes ending in '='; `always`: the
 * wrapper always does; `before`: the words just before the inner command
 * that do (find -execdir).
 */
static const struct chdir_wrapper {
	const char *name;
	const char *shorts;
	const char *longs[4];
	bool always;
	const char *before[3];
} chdir_wrappers[] = {
	{ "env", "C", { "--chdir", "--chdir=", NULL }, false, { NULL } },
	{ "sudo", "DiR", { "--chdir", "--chdir=", "--login", "--chroot" }, false, { NULL } },
	{ "su", "l", { "-", "--login", NULL }, false, { NULL } },
	{ "runuser", "l", { "-", "--login", NULL }, false, { NULL } },
	{ "nsenter", "wr", { "--wd", "--wd=", "--root", "--root=" }, false, { NULL } },
	{ "unshare", "wR", { "--wd", "--wd=", "--root", "--root=" }, false, { NULL } },
	{ "chroot", "", { NULL }, true, { NULL } },
	{ "systemd-run", "", { NULL }, true, { NULL } },
	{ "find", "", { NULL }, false, { "-execdir", "-okdir", NULL } },
};

/*
 * Programs that read their relative paths from another directory named by
 * an option: tar -C/--directory, git -C, make -C/--directory.
 */
static const struct chdir_wrapper chdir_options[] = {
	{ "tar", "C", { "--directory", "--directory=", NULL }, false, { NULL } },
	{ "gtar", "C", { "--directory", "--directory=", NULL }, false, { NULL } },
	{ "git", "C", { NULL }, false, { NULL } },
	{ "make", "C", { "--directory", "--directory=", NULL }, false, { NULL } },
	{ "gmake", "C", { "--directory", "--directory=", NULL }, false, { NULL } },
};

static bool
word_is(const struct cword *w, const char *s);

static bool
chdir_option(const struct chdir_wrapper *cw, const struct cword *o)
{
	for (size_t k = 0; k < 4 && cw->longs[k] != NULL; k++)
		if (word_is(o, cw->longs[k]))
			return true;
	if (o->len >= 2 && o->s[0] == '-' && o->s[1] != '-')
		for (const char *c = cw->shorts; *c; c++)
			if (memchr(o->s + 1, *c, o->len - 1) != NULL)
				return true;
	return false;
}

bool
pol__pathnorm_command_chdirs(const struct cword *w, size_t n)
{
	if (n == 0)
		return false;
	const char *b = w[0].s;
	for (size_t i = 0; i < w[0].len; i++)
		if (w[0].s[i] == '/')
			b = w[0].s + i + 1;
	size_t bl = w[0].len - (size_t)(b - w[0].s);
	for (size_t k = 0; k < sizeof(chdir_options) / sizeof(chdir_options[0]); k++) {
		const struct chdir_wrapper *cw = &chdir_options[k];
		if (strlen(cw->name) != bl || memcmp(cw->name, b, bl) != 0)
			continue;
		for (size_t i = 1; i < n; i++)
			if (chdir_option(cw, &w[i]))
				return true;
	}
	return false;
}

size_t
pol__pathnorm_embedded(const struct cword *w)
{
	static const char url[] = "file://";
	size_t ul = sizeof(url) - 1;
	if (w->len > ul && strncasecmp(w->s, url, ul) == 0) {
		const char *p = memchr(w->s + ul, '/', w->len - ul);
		return p != NULL ? (size_t)(p - w->s) : 0;
	}
	const char *eq = memchr(w->s, '=', w->len);
	if (eq == NULL || eq == w->s || (size_t)(eq - w->s) + 1 >= w->len)
		return 0;
	char c = eq[1];
	return c == '/' || c == '.' || c == '~' ? (size_t)(eq - w->s) + 1 : 0;
}

static bool
word_is(const struct cword *w, const char *s)
{
	size_t l = strlen(s);
	if (l > 0 && s[l - 1] == '=')
		return w->len >= l && memcmp(w->s, s, l) == 0;
	return w->len == l && memcmp(w->s, s, l) == 0;
}

bool
pol__pathnorm_wrapper_chdirs(const struct cword *w, size_t n, size_t start)
{
	if (n == 0)
		return false;
	size_t bl;
	const char *b = w[0].s;
	for (size_t i = 0; i < w[0].len; i++)
		if (w[0].s[i] == '/')
			b = w[0].s + i + 1;
	bl = w[0].len - (size_t)(b - w[0].s);
	const struct chdir_wrapper *cw = NULL;
	for (size_t k = 0; k < sizeof(chdir_wrappers) / sizeof(chdir_wrappers[0]); k++)
		if (strlen(chdir_wrappers[k].name) == bl && memcmp(chdir_wrappers[k].name, b, bl) == 0)
			cw = &chdir_wrappers[k];
	if (cw == NULL)
		return false;
	if (cw->always)
		return true;
	if (start > n)
		start = n;
	for (size_t k = 0; cw->before[k] != NULL; k++)
		if (start >= 1 && word_is(&w[start - 1], cw->before[k]))
			return true;
	for (size_t i = 1; i < start; i++) {
		const struct cword *o = &w[i];
		for (size_t k = 0; k < 4 && cw->longs[k] != NULL; k++)
			if (word_is(o, cw->longs[k]))
				return true;
		if (o->len >= 2 && o->s[0] == '-' && o->s[1] != '-')
			for (const char *c = cw->shorts; *c; c++)
				if (memchr(o->s + 1, *c, o->len - 1) != NULL)
					return true;
	}
	return false;
}

int
pol__pathnorm_chdir_copy(const struct cword *w, size_t n, struct cword **out, char **mem)
{
	*mem = NULL;
	*out = malloc((n ? n : 1) * sizeof(**out));
	if (*out == NULL)
		return POL_E_NOMEM;
	memcpy(*out, w, n * sizeof(**out));
	int r = pol__pathnorm_cwords(*out, n, true, mem);
	if (r != 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

void
pol__pathnorm_note(const struct cword *w, size_t n, char *buf, size_t cap)
{
	size_t l = strlen(buf);
	for (size_t i = 0; i < n && l + 1 < cap; i++) {
		if (w[i].flags & (POL_W_VAR | POL_W_SUBST | POL_W_BRACE) || (w[i].pf & PF_ANY)) {
			snprintf(buf + l, cap - l, " ('%.*s' could be anything)",
			    (int)(w[i].len > 40 ? 40 : w[i].len), w[i].s);
			return;
		}
		if (w[i].ps != NULL) {
			snprintf(buf + l, cap - l, " ('%.*s' read as '%.*s')",
			    (int)(w[i].len > 40 ? 40 : w[i].len), w[i].s,
			    (int)(w[i].plen > 40 ? 40 : w[i].plen), w[i].ps);
			return;
		}
	}
}

int
pol__pathnorm_redirect_words(const struct pol_simple *sc, const struct cword *w, size_t n,
    struct cword **out, char **mem)
{
	*out = NULL;
	*mem = NULL;
	size_t nt = 0, bytes = 0;
	for (size_t i = 0; i < sc->nredirs; i++)
		if (sc->redirs[i].is_file) {
			nt++;
			bytes += 2 * strlen(sc->redirs[i].target) + 1;
		}
	if (nt == 0)
		return 0;
	struct cword *v = malloc((n + nt) * sizeof(*v));
	char *g = malloc(bytes);
	if (v == NULL || g == NULL) {
		free(v);
		free(g);
		return POL_E_NOMEM;
	}
	memcpy(v, w, n * sizeof(*v));
	size_t k = n, gk = 0;
	for (size_t i = 0; i < sc->nredirs; i++) {
		const char *t = sc->redirs[i].target;
		if (!sc->redirs[i].is_file)
			continue;
		/* the parser keeps no flags for a target: read its characters
		 * the widest way (a quoted '*' counts as a glob) */
		struct cword *c = &v[k++];
		*c = (struct cword){ .s = t, .len = strlen(t) };
		if (strpbrk(t, "$`") != NULL)
			c->flags |= POL_W_VAR;
		if (strchr(t, '{') != NULL)
			c->flags |= POL_W_BRACE;
		if (t[0] == '~')
			c->flags |= POL_W_TILDE;
		if (strpbrk(t, "*?[") != NULL) {
			c->flags |= POL_W_GLOB;
			c->glob = g + gk;
			for (const char *q = t; *q; q++) {
				if (*q == '\\')
					g[gk++] = '\\';
				g[gk++] = *q;
			}
			g[gk++] = '\0';
		}
	}
	*out = v;
	*mem = g;
	return (int)nt;
}

/* The end of the bracket expression at g[i] == '[' (the index after its
 * ']'), or 0 when the '[' is literal. */
static size_t
bracket_end(const char *g, size_t len, size_t i)
{
	size_t j = i + 1;
	if (j < len && (g[j] == '!' || g[j] == '^'))
		j++;
	if (j < len && g[j] == ']')
		j++;
	for (; j < len; j++) {
		if (g[j] == '\\' && j + 1 < len)
			j++;
		else if (g[j] == ']')
			return j + 1;
	}
	return 0;
}

/* Whether a glob could name anything: a component that starts with '.'
 * and holds a glob character could match "." or "..", and a bracket
 * expression holding '/' does not split where the kernel does. */
static bool
glob_unsafe(const char *g, size_t len)
{
	bool dot_start = false, comp_start = true;
	for (size_t i = 0; i < len; i++) {
		char c = g[i];
		if (c == '/') {
			comp_start = true;
			dot_start = false;
			continue;
		}
		if (comp_start)
			dot_start = c == '.' || (c == '\\' && i + 1 < len && g[i + 1] == '.');
		comp_start = false;
		if (c == '\\') {
			i++;
			continue;
		}
		if (c == '[') {
			size_t e = bracket_end(g, len, i);
			if (e == 0)
				continue;
			if (memchr(g + i, '/', e - i) != NULL)
				return true;
		}
		if ((c == '*' || c == '?' || c == '[') && dot_start)
			return true;
	}
	return false;
}

/* Whether a plain word is its own normal form: no empty component but a
 * leading '/', no "." or ".." component (one pass, no copy). */
static bool
plain_is_normal(const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		size_t cl = i - start;
		if ((cl == 0 && i > 0 && len > 1) || comp_dots(s + start, cl, false) != 0)
			return false;
		start = i + 1;
	}
	return true;
}

static bool
needs_form(const struct cword *w, size_t pos, bool after_cd)
{
	if (w->flags & (POL_W_GLOB | POL_W_TILDE))
		return true;
	bool slash = memchr(w->s, '/', w->len) != NULL;
	if (after_cd && (pos > 0 || slash))
		return true;
	if (!slash)	/* only "." and ".." need a form */
		return w->len <= 2 && comp_dots(w->s, w->len, false) != 0;
	return !plain_is_normal(w->s, w->len);
}

/* Escapes the glob characters of a literal word into out; returns the
 * length. */
static size_t
escape_word(const char *s, size_t len, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (strchr("*?[]\\", s[i]) != NULL && s[i] != '\0')
			out[k++] = '\\';
		out[k++] = s[i];
	}
	return k;
}

static size_t
unescape_word(char *s, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		s[k++] = s[i];
	}
	return k;
}

/* Fills the path form of one word, using `buf` (4 * len + 16 bytes). */
static void
form_word(struct cword *w, size_t pos, bool after_cd, char *buf)
{
	bool globw = (w->flags & POL_W_GLOB) != 0;
	if (w->flags & (POL_W_VAR | POL_W_SUBST | POL_W_BRACE) || (globw && w->glob == NULL)) {
		w->pf = PF_ANY;
		return;
	}
	/* the word in glob syntax */
	char *e = buf;
	size_t el;
	if (globw) {
		el = strlen(w->glob);
		memcpy(e, w->glob, el);
	} else {
		el = escape_word(w->s, w->len, e);
	}
	if (globw && glob_unsafe(e, el)) {
		w->pf = PF_ANY;
		return;
	}
	const char *in = e;
	size_t il = el;
	bool unknown_base = false;
	if (w->flags & POL_W_TILDE) {
		/* ~ or ~user: some home directory */
		unknown_base = true;
		while (il > 0 && *in != '/')
			in++, il--;
	} else if (after_cd && pos > 0 && (il == 0 || (in[0] != '/' &&
	    (in[0] != '-' || memchr(in, '/', il) != NULL)))) {
		/* options ('-' first, no '/') are no paths */
		unknown_base = true;
		w->pf |= PF_CDREL;
	} else if (after_cd && pos == 0 && il > 0 && in[0] != '/' && memchr(in, '/', il)) {
		unknown_base = true;
	}
	while (unknown_base && il > 0 && *in == '/')
		in++, il--;
	/* normal form, after the copy */
	char *c = buf + el + 1;
	unsigned f;
	size_t tail;
	size_t cl = clean(in, il, c + 2, true, &f, &tail);
	char *res = c + 2;
	size_t rl = cl;
	bool uncertain = (f & (POL_PATH_POPPED | POL_PATH_ABOVE)) != 0;
	if (uncertain || unknown_base) {
		const char *t = uncertain ? res + tail : res;
		size_t tl = uncertain ? cl - tail : cl;
		if (!uncertain && tl == 1 && t[0] == '.')
			tl = 0;
		while (tl > 0 && t[0] == '/')
			t++, tl--;
		/* "**" (any directory) then "/" and the certain rest, in place:
		 * t >= c + 2 and the buffer has room for one more byte */
		memmove(c + 3, t, tl);
		c[0] = c[1] = '*';
		rl = 2;
		if (tl > 0) {
			c[2] = '/';
			rl = tl + 3;
		}
		res = c;
		res[rl] = '\0';
		w->pf |= PF_GLOB;
	} else if (globw) {
		w->pf |= PF_GLOB;
	} else {
		if (pos == 0 && memchr(res, '/', rl) == NULL && memchr(w->s, '/', w->len) != NULL) {
			/* "./x" runs a file here, "x" a program on PATH */
			c[0] = '.';
			c[1] = '/';
			res = c;
			rl += 2;
		}
		rl = unescape_word(res, rl);
		res[rl] = '\0';
		if (rl == w->len && memcmp(res, w->s, rl) == 0)
			return;	/* already in normal form: compared as it is */
	}
	w->ps = res;
	w->plen = rl;
}

int
pol__pathnorm_cwords(struct cword *w, size_t n, bool after_cd, char **mem)
{
	*mem = NULL;
	size_t need = 0;
	for (size_t i = 0; i < n; i++) {
		w[i].ps = NULL;
		w[i].plen = 0;
		w[i].pf = 0;
	}
	for (size_t i = 0; i < n; i++)
		if (needs_form(&w[i], i, after_cd))
			need += 4 * (w[i].len + (w[i].glob ? strlen(w[i].glob) : 0)) + 16;
	if (need == 0)
		return 0;
	char *buf = malloc(need);
	if (buf == NULL)
		return POL_E_NOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!needs_form(&w[i], i, after_cd))
			continue;
		form_word(&w[i], i, after_cd, buf + k);
		k += 4 * (w[i].len + (w[i].glob ? strlen(w[i].glob) : 0)) + 16;
	}
	*mem = buf;
	return 0;
}
