/*
 * transfer.c: decisions on file-transfer operations (SFTP requests, scp
 * files), under the same rules as commands.
 *
 * One decision, in this order (escort-policy(5), TRANSFER PATHS):
 *   1. direction: the session's `sftp` setting.  get needs download; put,
 *      rm, rename, mkdir, rmdir, chmod, symlink and link need upload; ls,
 *      stat, readlink and realpath only reveal and pass with either.
 *   2. paths: each path is normalised lexically and checked as the
 *      pseudo-command "sftp OP PATH [PATH2]" against the deny and approve
 *      patterns of the rules that apply now (deny-only: the `sftp` keyword
 *      is the allow).  When one of those rules has an allow pattern whose
 *      first word is literally `sftp`, transfers are allowlisted: an allow
 *      pattern must match too (realpath excepted: sftp clients need it to
 *      start).  An approve pattern denies: no escort can approve yet.
 *   3. start-up files: a change (every op but get, ls, stat, readlink,
 *      realpath) to a shell start-up file or an ssh file of the target is
 *      denied unless an allow pattern names that path literally.
 *
 * Relative paths are relative to the login's home, which the engine does
 * not know: one is shown as "~/REST" and matched against deny patterns as
 * "any directory, then /REST" (so `deny "... /home/ops/x ..."` catches a
 * relative "x"); one that climbs out of the home ("../..") may name
 * anything there.  The home itself is the word "~".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pathnorm.h"
#include "policy/pol_int.h"

#define XPATH_MAX 4096			/* longest path decided */

enum xneed { NEED_ANY, NEED_DOWN, NEED_UP };

struct xop {
	const char *name;
	enum xneed need;
	bool two;			/* takes a second path */
	bool changes;			/* writes: start-up files protected */
};

/* Indexed by enum pol_xfer_op. */
static const struct xop xops[POL_XFER_NOPS] = {
	[POL_XFER_READ]     = { "get",      NEED_DOWN, false, false },
	[POL_XFER_WRITE]    = { "put",      NEED_UP,   false, true },
	[POL_XFER_LIST]     = { "ls",       NEED_ANY,  false, false },
	[POL_XFER_STAT]     = { "stat",     NEED_ANY,  false, false },
	[POL_XFER_REMOVE]   = { "rm",       NEED_UP,   false, true },
	[POL_XFER_RENAME]   = { "rename",   NEED_UP,   true,  true },
	[POL_XFER_MKDIR]    = { "mkdir",    NEED_UP,   false, true },
	[POL_XFER_RMDIR]    = { "rmdir",    NEED_UP,   false, true },
	[POL_XFER_SETSTAT]  = { "chmod",    NEED_UP,   false, true },
	[POL_XFER_SYMLINK]  = { "symlink",  NEED_UP,   true,  true },
	[POL_XFER_LINK]     = { "link",     NEED_UP,   true,  true },
	[POL_XFER_READLINK] = { "readlink", NEED_ANY,  false, false },
	[POL_XFER_REALPATH] = { "realpath", NEED_ANY,  false, false },
};

const char *
pol_xfer_op_name(enum pol_xfer_op op)
{
	return (unsigned)op < POL_XFER_NOPS ? xops[op].name : NULL;
}

int
pol_xfer_op_parse(const char *name)
{
	for (int i = 0; i < POL_XFER_NOPS; i++)
		if (strcmp(xops[i].name, name) == 0)
			return i;
	return -1;
}

bool
pol_xfer_op_two_paths(enum pol_xfer_op op)
{
	return (unsigned)op < POL_XFER_NOPS && xops[op].two;
}

/* ---- lexical normalisation ------------------------------------------------ */

/*
 * Normalises `in` lexically into out (cap bytes): "//" and "/./" collapse,
 * ".." removes the component before it (at "/" it stays at "/"), a
 * trailing "/" goes.  An absolute result starts with "/"; a relative one
 * has its leading ".." components removed and counted in *ups ("" is the
 * starting directory itself).  Returns 0, or -1 when out is too small.
 * (One function, so that the library's shared normaliser can replace it.)
 */
static int
xfer_path_normalise(const char *in, char *out, size_t cap, int *ups)
{
	bool abs = in[0] == '/';
	size_t k = 0;
	*ups = 0;
	if (cap < 2)
		return -1;
	if (abs)
		out[k++] = '/';
	size_t base = k;		/* out[0..base) can never be popped */
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (k > base) {
				while (k > base && out[k - 1] != '/')
					k--;
				if (k > base)
					k--;	/* the separator */
			} else if (!abs) {
				(*ups)++;
			}
		} else {
			if (k > base && k + 1 < cap)
				out[k++] = '/';
			if (k + n + 1 > cap)
				return -1;
			memcpy(out + k, p, n);
			k += n;
		}
		p = e;
	}
	out[k] = '\0';
	return 0;
}

/* ---- start-up files ---------------------------------------------------------- */

/* Base names that shells, ssh and common tools read at start-up. */
static const char *const startup_names[] = {
	".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
	".inputrc", ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout",
	".kshrc", ".cshrc", ".tcshrc", ".login", ".logout", ".pam_environment",
	".forward", ".rhosts", ".shosts", ".netrc", ".config", ".gnupg",
	".gitconfig", ".vimrc", ".exrc", ".lesskey", ".selected_editor",
	".wgetrc", ".curlrc",
};

enum sys_kind { SYS_EXACT, SYS_TREE, SYS_PREFIX };

/* System files and trees read at log-in or by privileged programs. */
static const struct {
	const char *path;
	enum sys_kind kind;
} startup_system[] = {
	{ "/etc/profile", SYS_EXACT },
	{ "/etc/profile.d", SYS_TREE },
	{ "/etc/bash.bashrc", SYS_EXACT },
	{ "/etc/environment", SYS_EXACT },
	{ "/etc/ssh", SYS_TREE },
	{ "/etc/sudoers", SYS_PREFIX },		/* and sudoers.d */
	{ "/etc/cron", SYS_PREFIX },		/* cron.d, crontab, cron.daily ... */
	{ "/var/spool/cron", SYS_TREE },
	{ "/etc/ld.so.preload", SYS_EXACT },
	{ "/etc/pam.d", SYS_TREE },
	{ "/etc/security", SYS_TREE },
};

/* Whether the normalised path `p` (absolute, or relative to the home) is a
 * start-up file: a component ".ssh", a start-up base name, or a system
 * file or tree above. */
static bool
xfer_path_is_startup(const char *p)
{
	const char *c = p;
	while (*c) {
		while (*c == '/')
			c++;
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 4 && memcmp(c, ".ssh", 4) == 0)
			return true;
		if (e == NULL) {
			for (size_t i = 0; i < sizeof(startup_names) / sizeof(startup_names[0]); i++)
				if (strlen(startup_names[i]) == n && memcmp(startup_names[i], c, n) == 0)
					return true;
		}
		c += n;
	}
	if (p[0] != '/')
		return false;
	for (size_t i = 0; i < sizeof(startup_system) / sizeof(startup_system[0]); i++) {
		const char *s = startup_system[i].path;
		size_t n = strlen(s);
		if (strncmp(p, s, n) != 0)
			continue;
		switch (startup_system[i].kind) {
		case SYS_EXACT:
			if (p[n] == '\0')
				return true;
			break;
		case SYS_TREE:
			if (p[n] == '\0' || p[n] == '/')
				return true;
			break;
		case SYS_PREFIX:
			return true;
		}
	}
	return false;
}

/* ---- paths as pattern words ------------------------------------------------------ */

/* One path as the matcher sees it. */
struct xword {
	char norm[XPATH_MAX + 2];	/* normalised (relative: without the ups) */
	int ups;			/* ".." above the home (relative only) */
	bool relative;			/* relative to an unknown home */
	bool rel_input;			/* the path as given was relative */
	char text[XPATH_MAX + 8];	/* the word: "/abs", "~", "~/rel", "~/../rel" */
	char glob[2 * XPATH_MAX + 4];	/* relative: fnmatch glob "STAR/rel" */
	struct cword w;
};

/* Fills x from the path `in` (NUL-free).  Returns 0 or POL_E_INVAL. */
static int
xword_make(struct xword *x, const char *in, const char *home)
{
	memset(x, 0, sizeof(*x));
	if (strlen(in) > XPATH_MAX)
		return POL_E_INVAL;
	const char *p = in;
	/* "~" and "~/..." name the home as well (scp passes them on) */
	if (p[0] == '~' && (p[1] == '\0' || p[1] == '/'))
		p += p[1] ? 2 : 1;
	if (xfer_path_normalise(p, x->norm, sizeof(x->norm), &x->ups) != 0)
		return POL_E_INVAL;
	x->relative = x->norm[0] != '/';
	x->rel_input = x->relative;
	if (x->relative && home != NULL) {
		/* the home is known: the path is exact.  Allow patterns may
		 * name it as ~/REL or by its absolute path; deny and approve
		 * patterns see both spellings */
		char joined[2 * XPATH_MAX + 8];
		char *abs = NULL;
		int ups = x->ups;
		snprintf(x->text, sizeof(x->text), "~");
		size_t k = 1;
		for (int i = 0; i < ups && k + 4 < sizeof(x->text); i++)
			k += (size_t)snprintf(x->text + k, sizeof(x->text) - k, "/..");
		if (x->norm[0])
			snprintf(x->text + k, sizeof(x->text) - k, "/%s", x->norm);
		snprintf(joined, sizeof(joined), "%s/%s", home, p);
		if (pol_path_normalise(joined, strlen(joined), &abs, NULL) != 0)
			return POL_E_INVAL;
		snprintf(x->glob, sizeof(x->glob), "%s", abs);
		snprintf(x->norm, sizeof(x->norm), "%s", abs);
		free(abs);
		x->relative = false;
		x->ups = 0;
		x->w = (struct cword){ .s = x->text, .len = strlen(x->text), .ps = x->glob,
			.plen = strlen(x->glob), .pf = PF_TEXT_ALLOW };
		return 0;
	}
	if (!x->relative) {
		snprintf(x->text, sizeof(x->text), "%s", x->norm);
		x->w = (struct cword){ .s = x->text, .len = strlen(x->text) };
		return 0;
	}
	size_t k = (size_t)snprintf(x->text, sizeof(x->text), "~");
	for (int i = 0; i < x->ups && k + 4 < sizeof(x->text); i++)
		k += (size_t)snprintf(x->text + k, sizeof(x->text) - k, "/..");
	if (x->norm[0])
		snprintf(x->text + k, sizeof(x->text) - k, "/%s", x->norm);
	x->w = (struct cword){ .s = x->text, .len = strlen(x->text) };
	if (x->norm[0] == '\0' && x->ups == 0)
		return 0;		/* the home itself: the word "~" */
	if (x->norm[0] == '\0') {
		/* a directory above the home: could be any */
		x->w.flags = POL_W_VAR;
		return 0;
	}
	/* somewhere below some directory: "**" (any directories) then
	 * "/rel", glob characters of the name taken literally; allow
	 * patterns compare the text "~/rel" */
	size_t g = 0;
	x->glob[g++] = '*';
	x->glob[g++] = '*';
	x->glob[g++] = '/';
	for (const char *c = x->norm; *c; c++) {
		if (strchr("*?[\\", *c) != NULL)
			x->glob[g++] = '\\';
		x->glob[g++] = *c;
	}
	x->glob[g] = '\0';
	x->w.ps = x->glob;
	x->w.plen = g;
	x->w.pf = PF_GLOB | PF_TEXT_ALLOW;
	return 0;
}

/* The directory part of a normalised path ("" for a bare name). */
static void
dir_of(const char *p, char *out, size_t cap)
{
	const char *s = strrchr(p, '/');
	size_t n = s == NULL ? 0 : s == p ? 1 : (size_t)(s - p);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ---- the decision ----------------------------------------------------------------- */

static void deny_with(struct pol_decision *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A deny by the transfer rules themselves (no pattern decided). */
static void
deny_with(struct pol_decision *out, const char *fmt, ...)
{
	va_list ap;
	out->verdict = POL_DENY;
	out->rule = NULL;
	out->file = NULL;
	out->line = 0;
	out->pattern = NULL;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static bool
pword_is(const struct pword *pw, const char *s)
{
	return !pw->ellipsis && pw->len == strlen(s) && memcmp(pw->s, s, pw->len) == 0;
}

/* Whether some rule in `rules` has an allow pattern starting with the
 * literal word "sftp". */
static bool
sftp_allowlisted(const struct pol_rule *const *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < rules[i]->npats; k++) {
			const struct pattern *pt = &rules[i]->pats[k];
			if (pt->verdict == POL_ALLOW && pt->nw > 0 && pword_is(&pt->w[0], "sftp"))
				return true;
		}
	return false;
}

/* Whether an allow pattern of `rules` matches w[0..n) and names word `pos`
 * literally: no "..." anywhere, and no '*' in that word. */
static const struct pattern *
literal_allow(const struct pol_rule *const *rules, size_t nr, const struct cword *w,
    size_t n, size_t pos)
{
	for (size_t i = 0; i < nr; i++)
		for (size_t k = 0; k < rules[i]->npats; k++) {
			const struct pattern *pt = &rules[i]->pats[k];
			if (pt->verdict != POL_ALLOW || pt->nw != n || !pword_is(&pt->w[0], "sftp") ||
			    pt->w[pos].star)
				continue;
			bool ell = false;
			for (size_t j = 0; j < pt->nw; j++)
				ell = ell || pt->w[j].ellipsis;
			if (!ell && pol__pattern_match(pt, w, n, false))
				return pt;
		}
	return NULL;
}

/*
 * The first deny or approve pattern of `rules` with a path word that lies
 * below the absolute, normalised folder `dir` (or may, when the word has a
 * '*' after a prefix dir starts with), or NULL.  "/" lies above every path.
 */
static const struct pattern *
guarding_pattern(const struct pol_rule *const *rules, size_t nr, const char *dir)
{
	size_t dl = strlen(dir);
	for (size_t i = 0; i < nr; i++)
		for (size_t k = 0; k < rules[i]->npats; k++) {
			const struct pattern *pt = &rules[i]->pats[k];
			if (pt->verdict == POL_ALLOW)
				continue;
			for (size_t j = 0; j < pt->nw; j++) {
				const struct pword *pw = &pt->w[j];
				if (pw->ellipsis || pw->len < 2 || pw->s[0] != '/')
					continue;
				const char *star = memchr(pw->s, '*', pw->len);
				size_t ll = star ? (size_t)(star - pw->s) : pw->len;
				/* the word names something below dir */
				if (ll > dl && memcmp(pw->s, dir, dl) == 0 &&
				    (dl == 1 || pw->s[dl] == '/'))
					return pt;
				/* a '*' may stand for the rest of dir and more */
				if (star != NULL && ll <= dl && memcmp(pw->s, dir, ll) == 0)
					return pt;
			}
		}
	return NULL;
}

#define XVARIANTS 2

static int
decide_transfer(const struct policy *p, const struct pol_rule *const *cands, size_t ncands,
    const char *home, enum pol_sftp dir, enum pol_xfer_op op, const char *path, const char *path2, time_t now,
    struct pol_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = POL_DENY;
	out->policy_hash = p->hash;
	if ((unsigned)op >= POL_XFER_NOPS || path == NULL || (xops[op].two && path2 == NULL)) {
		snprintf(out->reason, sizeof(out->reason), "invalid transfer request");
		return POL_E_INVAL;
	}
	const struct xop *o = &xops[op];
	/* 1. direction */
	if (dir == POL_SFTP_NONE) {
		deny_with(out, "file transfers are not allowed on this target (sftp none)");
		return 0;
	}
	if (o->need == NEED_DOWN && !(dir & POL_SFTP_DOWNLOAD)) {
		deny_with(out, "downloads are not allowed on this target (sftp %s)",
		    pol_sftp_name(dir));
		return 0;
	}
	if (o->need == NEED_UP && !(dir & POL_SFTP_UPLOAD)) {
		deny_with(out, "uploads and changes are not allowed on this target (sftp %s)",
		    pol_sftp_name(dir));
		return 0;
	}
	/* 2. the paths as words; a symlink's relative end may be relative to
	 * the other end's directory instead of the home: both are checked */
	size_t npaths = o->two ? 2 : 1;
	struct xword *xw = calloc(npaths * XVARIANTS, sizeof(*xw));
	if (xw == NULL)
		return POL_E_NOMEM;
	size_t nvar[2] = { 1, 1 };
	const char *in[2] = { path, path2 };
	int r = 0;
	for (size_t i = 0; i < npaths && r == 0; i++)
		r = xword_make(&xw[i * XVARIANTS], in[i], home);
	if (r == 0 && op == POL_XFER_SYMLINK) {
		for (size_t i = 0; i < 2 && r == 0; i++) {
			const struct xword *me = &xw[i * XVARIANTS], *other = &xw[(1 - i) * XVARIANTS];
			if (!me->rel_input || other->ups > 0)
				continue;
			char joined[2 * XPATH_MAX + 8], d[XPATH_MAX + 2];
			const char *mine = in[i];
			if (mine[0] == '~' && (mine[1] == '\0' || mine[1] == '/'))
				continue;	/* names the home: not relative to a link */
			dir_of(other->norm, d, sizeof(d));
			if (d[0] == '\0')
				continue;	/* the other end is in the home: the same */
			snprintf(joined, sizeof(joined), "%s/%s", d, mine);
			if (strlen(joined) > XPATH_MAX)
				r = POL_E_INVAL;
			else if ((r = xword_make(&xw[i * XVARIANTS + 1], joined, home)) == 0)
				nvar[i] = 2;
		}
	}
	if (r != 0) {
		free(xw);
		snprintf(out->reason, sizeof(out->reason), "path longer than %d bytes", XPATH_MAX);
		return r;
	}
	/* the word vectors: "sftp OP A [B]" for each variant */
	size_t nw = 2 + npaths, nvec = nvar[0] * (npaths == 2 ? nvar[1] : 1);
	struct cword vecs[XVARIANTS * XVARIANTS][4];
	const struct cword *wv[XVARIANTS * XVARIANTS];
	size_t nv[XVARIANTS * XVARIANTS];
	size_t v = 0;
	for (size_t a = 0; a < nvar[0]; a++)
		for (size_t b = 0; b < (npaths == 2 ? nvar[1] : 1); b++) {
			vecs[v][0] = (struct cword){ .s = "sftp", .len = 4 };
			vecs[v][1] = (struct cword){ .s = o->name, .len = strlen(o->name) };
			vecs[v][2] = xw[0 * XVARIANTS + a].w;
			if (npaths == 2)
				vecs[v][3] = xw[1 * XVARIANTS + b].w;
			wv[v] = vecs[v];
			nv[v] = nw;
			v++;
		}
	/* which rules apply now, and are transfers allowlisted? */
	const struct pol_rule **cons = calloc(ncands + 1, sizeof(*cons));
	if (cons == NULL) {
		free(xw);
		return POL_E_NOMEM;
	}
	size_t ncons = 0;
	for (size_t i = 0; i < ncands; i++)
		if (pol__when_match(cands[i]->when, cands[i]->nwhen, now))
			cons[ncons++] = cands[i];
	bool allowlist = op != POL_XFER_REALPATH && sftp_allowlisted(cons, ncons);
	r = pol__decide_words(p, cands, ncands, wv, nv, nvec, !allowlist, now, out);
	if (r != 0)
		goto out;
	if (out->verdict == POL_APPROVE) {
		char why[sizeof(out->reason)];
		snprintf(why, sizeof(why), "%s", out->reason);
		out->verdict = POL_DENY;
		snprintf(out->reason, sizeof(out->reason),
		    "needs an escort's approval, which this proxy cannot give: %.180s", why);
		goto out;
	}
	if (out->verdict != POL_ALLOW || !o->changes)
		goto out;
	/* a link to, or a rename of, a folder above a denied path would let
	 * later transfers reach that path under another name */
	if (o->two) {
		for (size_t i = 0; i < npaths * XVARIANTS; i++) {
			const struct xword *x = &xw[i];
			if (x->text[0] == '\0' || x->relative)
				continue;
			const struct pattern *pt = guarding_pattern(cons, ncons, x->norm);
			if (pt != NULL) {
				deny_with(out, "'%.80s' leads to a path denied by rule '%.40s' (line %d): "
				    "\"%.60s\"", x->text, pt->rule->name, pt->line, pt->text);
				out->rule = pt->rule->name;
				out->file = pt->rule->file;
				out->line = pt->line;
				out->pattern = pt->text;
				goto out;
			}
		}
	}
	/* 3. start-up files: only a literal allow pattern opens them */
	for (size_t i = 0; i < npaths; i++)
		for (size_t a = 0; a < nvar[i]; a++) {
			const struct xword *x = &xw[i * XVARIANTS + a];
			/* (a symlink's end that climbs out of the home is read
			 * from the other end's folder as well, above) */
			if (x->ups > 0 && nvar[i] == 1) {
				deny_with(out, "'%.120s' climbs out of the home directory: write it as an "
				    "absolute path", x->text);
				goto out;
			}
			if (!xfer_path_is_startup(x->norm))
				continue;
			bool named = true;
			for (size_t k = 0; k < nvec && named; k++)
				if (wv[k][2 + i].s == x->text &&
				    literal_allow(cons, ncons, wv[k], nw, 2 + i) == NULL)
					named = false;
			if (!named) {
				deny_with(out, "'%.100s' is a shell start-up file or an ssh file of the "
				    "target: only an allow pattern naming it literally lets a transfer "
				    "change it", x->text);
				goto out;
			}
		}
out:
	free(cons);
	free(xw);
	if (r != 0) {
		out->verdict = POL_DENY;
		snprintf(out->reason, sizeof(out->reason), "%s", pol_strerror(r));
	}
	return r;
}

int
policy_decide_transfer(const struct pol_session *s, enum pol_xfer_op op, const char *path,
    const char *path2, time_t now, struct pol_decision *out)
{
	if (s == NULL) {
		memset(out, 0, sizeof(*out));
		out->verdict = POL_DENY;
		snprintf(out->reason, sizeof(out->reason), "no session");
		return POL_E_INVAL;
	}
	return decide_transfer(s->policy, s->candidates, s->ncandidates, s->target->home, s->sftp,
	    op, path, path2,
	    now, out);
}

int
policy_decide_transfer_for(const struct policy *p, const char *user, const char *target,
    enum pol_xfer_op op, const char *path, const char *path2, time_t now,
    struct pol_decision *out)
{
	struct pol_session *s;
	struct pol_refusal why;
	memset(out, 0, sizeof(*out));
	out->verdict = POL_DENY;
	out->policy_hash = p->hash;
	int r = policy_admit((struct policy *)p, user, target, now, &s, &why);
	if (r != 0) {
		const struct pol_user *u = policy_user(p, user);
		const struct pol_target *t = policy_target(p, target);
		const struct pol_rule *f = u && t ? pol__find_forbid(p, u, t, now) : NULL;
		if (f != NULL) {
			out->rule = f->name;
			out->file = f->file;
			out->line = f->line;
		}
		snprintf(out->reason, sizeof(out->reason), "no session: %.200s", why.log_msg);
		return r == POL_E_REFUSED ? 0 : r;
	}
	r = policy_decide_transfer(s, op, path, path2, now, out);
	pol_session_free(s);
	return r;
}
