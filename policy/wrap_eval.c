/*
 * wrap_eval.c: builtins and programs that evaluate strings as code.  Bash
 * evaluates array subscripts as arithmetic, and arithmetic runs command
 * substitutions: `printf -v 'a[$(CMD)]'`, `test -v`, `let`, `declare`,
 * `read`, `unset` with a subscript all run CMD.  eval, source, trap,
 * compgen -C/-F/-W, mapfile -C, hash -p, alias, enable, exec, coproc, bind
 * and fc run or redefine commands; interpreters run inline code (python -c,
 * perl -e, awk programs with system(), sed's e and w commands, vim -c, less
 * +!...).  Assigning a variable the shell later runs (PROMPT_COMMAND, PS1,
 * PATH, BASH_ENV ...) through declare, export, read and the like counts too.
 * Such a command is allowed or approved only by a pattern whose
 * first word names it literally: `allow "* ..."` does not reach it.  The
 * table says, per name, which forms evaluate; a form not understood counts
 * as evaluating.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/wrap_int.h"

#define UNKNOWN_WORD (POL_W_VAR | POL_W_SUBST | POL_W_GLOB | POL_W_BRACE)

/* ---- helpers over the words --------------------------------------------- */

static bool
has_byte(const struct cword *w, char c)
{
	return memchr(w->s, c, w->len) != NULL;
}

static bool
starts(const struct cword *w, const char *p)
{
	size_t l = strlen(p);
	return w->len >= l && memcmp(w->s, p, l) == 0;
}

/*
 * Variables whose value the shell or the next program runs or uses to find
 * what runs: prompts (PROMPT_COMMAND, PS0..PS4 are expanded with command
 * substitution), start-up files, PATH and IFS, pagers and editors (and the
 * switches that keep a pager from shelling out: LESSSECURE,
 * SYSTEMD_PAGERSECURE; less's options and key files; man's options), the
 * dynamic loader and interpreters' option variables.
 */
static const char *const special_vars[] = {
	"BASHOPTS", "BASH_ENV", "BASH_LOADABLES_PATH", "BASH_XTRACEFD", "CDPATH", "EDITOR",
	"ENV", "EXECIGNORE", "FCEDIT", "GIT_PAGER", "GIT_EDITOR", "GIT_SSH", "GIT_SSH_COMMAND",
	"GLOBIGNORE", "HISTFILE", "HOSTFILE", "IFS", "INPUTRC", "LD_AUDIT", "LD_LIBRARY_PATH",
	"LD_PRELOAD", "LESS", "LESSCLOSE", "LESSEDIT", "LESSKEY", "LESSKEYIN", "LESSKEYIN_SYSTEM",
	"LESSKEY_SYSTEM", "LESSOPEN", "LESSSECURE", "MANOPT", "MANPAGER", "NODE_OPTIONS",
	"PAGER", "PATH", "PERL5LIB", "PERL5OPT", "PROMPT_COMMAND", "PS0", "PS1", "PS2", "PS3",
	"PS4", "PYTHONPATH", "PYTHONSTARTUP", "RUBYOPT", "SHELLOPTS", "SYSTEMD_LESS",
	"SYSTEMD_PAGER", "SYSTEMD_PAGERSECURE", "VISUAL", NULL
};

bool
pol__wrap_special_var(const char *s, size_t len)
{
	size_t l = 0;
	while (l < len && s[l] != '=' && s[l] != '[' && s[l] != '+')
		l++;
	for (size_t k = 0; special_vars[k]; k++)
		if (strlen(special_vars[k]) == l && memcmp(special_vars[k], s, l) == 0)
			return true;
	return false;
}

/* Any argument containing '[' (an array subscript, evaluated as
 * arithmetic) or naming a special variable. */
static bool
any_subscript(const struct cword *w, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (has_byte(&w[i], '[') || pol__wrap_special_var(w[i].s, w[i].len))
			return true;
	return false;
}

/* A short option cluster (-x... or +x...) before the first operand that
 * contains one of `letters`; "--" ends the options. */
static bool
opt_letter(const struct cword *w, size_t n, const char *letters, bool plus)
{
	for (size_t i = 1; i < n; i++) {
		const struct cword *x = &w[i];
		if (pol__wrap_word_is(x, "--") || x->len < 2 ||
		    !(x->s[0] == '-' || (plus && x->s[0] == '+')))
			return false;
		if (x->s[1] == '-')
			continue;
		for (size_t j = 1; j < x->len; j++)
			if (x->s[j] != '\0' && strchr(letters, x->s[j]) != NULL)
				return true;
	}
	return false;
}

/* Whether word x equals one of `v` (NULL-terminated), or starts with it
 * when the entry ends in '*'. */
static bool
word_in(const struct cword *x, const char *const *v)
{
	for (size_t k = 0; v[k]; k++) {
		size_t l = strlen(v[k]);
		if (l && v[k][l - 1] == '*') {
			if (x->len >= l - 1 && memcmp(x->s, v[k], l - 1) == 0)
				return true;
		} else if (pol__wrap_word_is(x, v[k])) {
			return true;
		}
	}
	return false;
}

/* Any argument word_in `v`. */
static bool
any_word(const struct cword *w, size_t n, const char *const *v)
{
	for (size_t i = 1; i < n; i++)
		if (word_in(&w[i], v))
			return true;
	return false;
}

/* Every argument word_in `v` (none at all counts). */
static bool
only_words(const struct cword *w, size_t n, const char *const *v)
{
	for (size_t i = 1; i < n; i++)
		if (!word_in(&w[i], v))
			return false;
	return true;
}

/*
 * An interpreter's options: a cluster letter in `eval` evaluates inline
 * code (python -c, perl -e); letters in `arg` take an argument (attached,
 * or the next word unless `attached_only`), which ends the cluster.  The
 * first operand is a script file; with none, the program reads code from
 * its input (evaluating).
 */
static bool
interp(const struct cword *w, size_t n, const char *eval, const char *arg, bool attached_only,
    const char *const *longs)
{
	size_t i = 1;
	for (; i < n; i++) {
		const struct cword *x = &w[i];
		if (pol__wrap_word_is(x, "-"))
			return true;	/* code from standard input */
		if (pol__wrap_word_is(x, "--")) {
			i++;
			break;
		}
		if (x->len < 2 || x->s[0] != '-')
			break;
		if (x->s[1] == '-') {
			for (size_t k = 0; longs && longs[k]; k++)
				if (starts(x, longs[k]))
					return true;
			continue;
		}
		for (size_t j = 1; j < x->len; j++) {
			char c = x->s[j];
			if (c == '\0')
				return true;
			if (strchr(eval, c) != NULL)
				return true;
			if (strchr(arg, c) != NULL) {
				if (j + 1 == x->len && !attached_only)
					i++;
				break;
			}
		}
	}
	return i >= n;	/* no script: code from standard input or a prompt */
}

/* ---- sed: the e and w commands, the s///e and s///w flags --------------- */

/* Skips a regex or s part delimited by `d` from p; returns past the
 * closing delimiter or NULL. */
static const char *
sed_delim(const char *p, const char *end, char d)
{
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
			continue;
		}
		if (*p == '\n' && d != '\n')
			return NULL;
		if (*p == d)
			return p + 1;
	}
	return NULL;
}

static const char *
sed_addr(const char *p, const char *end)
{
	if (p < end && (*p == '/' || *p == '\\')) {
		char d = '/';
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
			d = *p;
		}
		p = sed_delim(p + 1, end, d);
		while (p && p < end && (*p == 'I' || *p == 'M'))
			p++;
		return p;
	}
	while (p < end && ((*p >= '0' && *p <= '9') || *p == '$' || *p == '~' || *p == '+'))
		p++;
	return p;
}

static const char *
sed_to_eol(const char *p, const char *end)
{
	while (p < end && *p != '\n')
		p++;
	return p;
}

/* Whether the sed script s[0..len) may execute or write: an e, w or W
 * command, an s with the e or w flag, or anything not understood. */
static bool
sed_script_evaluates(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == ';'))
			p++;
		if (p >= end)
			break;
		if (*p == '#') {
			p = sed_to_eol(p, end);
			continue;
		}
		if ((p = sed_addr(p, end)) == NULL)
			return true;
		if (p < end && *p == ',') {
			if ((p = sed_addr(p + 1, end)) == NULL)
				return true;
		}
		while (p < end && (*p == ' ' || *p == '!'))
			p++;
		if (p >= end)
			return true;
		char c = *p++;
		switch (c) {
		case '{': case '}': case '=': case 'd': case 'D': case 'g': case 'G':
		case 'h': case 'H': case 'n': case 'N': case 'p': case 'P': case 'x':
		case 'z': case 'F':
			break;
		case 'l': case 'L': case 'q': case 'Q':
			while (p < end && (*p == ' ' || (*p >= '0' && *p <= '9')))
				p++;
			break;
		case 'a': case 'i': case 'c': case ':': case 'b': case 't': case 'T':
		case 'r': case 'R':	/* text, label or file to read up to the end of line */
			if (c == 'b' || c == 't' || c == 'T') {
				while (p < end && *p != '\n' && *p != ';' && *p != '}')
					p++;
				break;
			}
			for (; p < end && *p != '\n'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			break;
		case 'y': {
			if (p >= end || *p == '\\' || *p == '\n')
				return true;
			char d = *p++;
			if ((p = sed_delim(p, end, d)) == NULL || (p = sed_delim(p, end, d)) == NULL)
				return true;
			break;
		}
		case 's': {
			if (p >= end || *p == '\\' || *p == '\n')
				return true;
			char d = *p++;
			if ((p = sed_delim(p, end, d)) == NULL || (p = sed_delim(p, end, d)) == NULL)
				return true;
			for (; p < end && *p != '\n' && *p != ';' && *p != '}'; p++) {
				if (*p == 'e' || *p == 'w' || *p == 'W')
					return true;
				if (!strchr("gpiImM0123456789 ", *p))
					return true;
			}
			break;
		}
		default:	/* e, w, W, v and anything else */
			return true;
		}
	}
	return false;
}

/* sed [options] SCRIPT FILE... | sed -e S / -f F / --expression=S ... */
static bool
ev_sed(const struct cword *w, size_t n)
{
	bool have = false;
	size_t i = 1;
	for (; i < n; i++) {
		const struct cword *x = &w[i];
		if (pol__wrap_word_is(x, "--")) {
			i++;
			break;
		}
		if (x->len < 2 || x->s[0] != '-')
			break;
		if (x->s[1] == '-') {
			if (starts(x, "--expression=")) {
				have = true;
				if (sed_script_evaluates(x->s + 13, x->len - 13))
					return true;
			} else if (starts(x, "--e") || starts(x, "--f") || starts(x, "--i") ||
			    starts(x, "--l")) {
				return true;	/* --expression S, --file, --in-place, --line-length */
			}
			continue;
		}
		for (size_t j = 1; j < x->len; j++) {
			char c = x->s[j];
			if (c == 'i' || c == 'f')
				return true;	/* -i writes files; -f: a script not seen */
			if (c == 'e' || c == 'l') {
				const char *a = x->s + j + 1;
				size_t al = x->len - j - 1;
				if (al == 0) {
					if (++i >= n)
						return true;
					a = w[i].s;
					al = w[i].len;
				}
				if (c == 'e') {
					have = true;
					if (sed_script_evaluates(a, al))
						return true;
				}
				break;
			}
			if (!strchr("nrEsuz", c))
				return true;
		}
	}
	if (have)
		return false;
	if (i >= n)
		return true;
	return sed_script_evaluates(w[i].s, w[i].len);
}

/* ---- the table ---------------------------------------------------------- */

static bool ev_always(const struct cword *w, size_t n) { (void)w; (void)n; return true; }
static bool ev_args(const struct cword *w, size_t n) { (void)w; return n > 1; }
static bool ev_subscript(const struct cword *w, size_t n) { return any_subscript(w, n); }

static bool
ev_test(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-v", "-R", NULL };
	return any_word(w, n, v);
}

static bool
ev_dbracket(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-v", "-R", "-eq", "-ne", "-lt", "-le", "-gt", "-ge",
		NULL };
	return any_word(w, n, v);
}

/* printf -v NAME: assigns, and NAME may carry a subscript; an expanded
 * first word may be -v */
static bool
ev_printf(const struct cword *w, size_t n)
{
	return n > 1 && (starts(&w[1], "-v") || (w[1].flags & UNKNOWN_WORD));
}

static bool
ev_declare(const struct cword *w, size_t n)
{
	return opt_letter(w, n, "iaAn", true) || any_subscript(w, n);
}

static bool
ev_readonly(const struct cword *w, size_t n)
{
	return opt_letter(w, n, "aA", true) || any_subscript(w, n);
}

static bool
ev_mapfile(const struct cword *w, size_t n)
{
	return opt_letter(w, n, "C", false) || any_subscript(w, n);
}

static bool
ev_compgen(const struct cword *w, size_t n)
{
	return opt_letter(w, n, "CFW", false);
}

static bool
ev_hash(const struct cword *w, size_t n)
{
	return opt_letter(w, n, "p", false);
}

/* trap, trap -l, trap -p [SIG...] list; anything else sets a handler. */
static bool
ev_trap(const struct cword *w, size_t n)
{
	static const char *const listing[] = { "-l", "-p", "-lp", "-pl", NULL };
	return n > 1 && !word_in(&w[1], listing);
}

/* bind with listing options only is harmless; -x, -f and key strings bind. */
static bool
ev_bind(const struct cword *w, size_t n)
{
	static const char *const listing[] = { "-l", "-p", "-P", "-s", "-S", "-v", "-V", NULL };
	return !only_words(w, n, listing);
}

static bool
ev_crontab(const struct cword *w, size_t n)
{
	return !(n == 2 && pol__wrap_word_is(&w[1], "-l"));
}

static bool
ev_python(const struct cword *w, size_t n)
{
	return interp(w, n, "cim", "WXQ", false, NULL);
}

static bool
ev_perl(const struct cword *w, size_t n)
{
	/* option arguments are attached and short: any letter counts */
	return interp(w, n, "eEMmdx", "", true, NULL);
}

static bool
ev_ruby(const struct cword *w, size_t n)
{
	return interp(w, n, "e", "IrCEFTWxK0", false, NULL);
}

static bool
ev_node(const struct cword *w, size_t n)
{
	static const char *const l[] = { "--eval", "--print", "--interactive", "--import",
		"--require", "--loader", "--experimental-loader", NULL };
	return interp(w, n, "epir", "", false, l);
}

static bool
ev_php(const struct cword *w, size_t n)
{
	return interp(w, n, "raBREF", "cdzf", false, NULL);
}

static bool
ev_lua(const struct cword *w, size_t n)
{
	return interp(w, n, "eil", "", false, NULL);
}

static bool
ev_vim(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-c*", "--cmd*", "-S*", "-s*", "-u*", "-U*", "-e*",
		"-E*", "-y", NULL };
	if (any_word(w, n, v))
		return true;
	for (size_t i = 1; i < n; i++) {
		if (pol__wrap_word_is(&w[i], "--"))
			break;
		if (w[i].len > 1 && w[i].s[0] == '+') {
			for (size_t j = 1; j < w[i].len; j++)
				if (w[i].s[j] < '0' || w[i].s[j] > '9')
					return true;
		}
	}
	return false;
}

/* less/more: +CMD runs CMD as typed keys (+!sh, +|cmd, +v); only +N, +G,
 * +F, +g and +/TEXT searches are read as harmless. */
static bool
ev_pager(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-k*", "--lesskey*", "-o*", "-O*", "--log-file*",
		"--LOG-FILE*", NULL };
	if (any_word(w, n, v))
		return true;
	for (size_t i = 1; i < n; i++) {
		const struct cword *x = &w[i];
		if (pol__wrap_word_is(x, "--"))
			break;
		if (x->len < 2 || x->s[0] != '+')
			continue;
		size_t j = x->s[1] == '+' ? 2 : 1;
		bool num = j < x->len;
		for (size_t k = j; k < x->len; k++)
			num = num && x->s[k] >= '0' && x->s[k] <= '9';
		if (num)
			continue;
		if (x->len == j + 1 && strchr("GgF", x->s[j]))
			continue;
		if (x->s[j] == '/' || x->s[j] == '?') {
			bool clean = true;
			for (size_t k = j; k < x->len; k++)
				if ((unsigned char)x->s[k] < 0x20 || x->s[k] == 0x7f)
					clean = false;
			if (clean)
				continue;
		}
		return true;
	}
	return false;
}

static bool
ev_man(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-P*", "--pager*", "-H*", "--html*", "-X*", "--gxditview*",
		"-R*", "--recode*", "-p*", "--preprocessor*", NULL };
	return any_word(w, n, v);
}

/* git's own options before the subcommand: -c NAME=VALUE sets core.pager,
 * aliases with '!', hooks paths ... */
static bool
ev_git(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-c", "--config-env*", "--exec-path=*", NULL };
	for (size_t i = 1; i < n && w[i].len > 1 && w[i].s[0] == '-'; i++)
		if (word_in(&w[i], v))
			return true;
	return false;
}

static bool
ev_tar(const struct cword *w, size_t n)
{
	static const char *const v[] = { "--to-c*", "--checkpoint-a*", "--use-c*", "--info*",
		"--new-v*", "--rsh*", "--rmt*", NULL };
	if (any_word(w, n, v))
		return true;
	for (size_t i = 1; i < n; i++) {
		const struct cword *x = &w[i];
		bool cluster = (x->len > 1 && x->s[0] == '-' && x->s[1] != '-') ||
		    (i == 1 && x->len > 0 && x->s[0] != '-');
		if (cluster && (has_byte(x, 'I') || has_byte(x, 'F')))
			return true;
	}
	return false;
}

static bool
ev_rsync(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-e*", "--rsh*", "--rsync-path*", NULL };
	return any_word(w, n, v) || opt_letter(w, n, "e", false);
}

static bool
ev_make(const struct cword *w, size_t n)
{
	static const char *const v[] = { "-E*", "--eval*", NULL };
	return any_word(w, n, v);
}

static bool
ev_emacs(const struct cword *w, size_t n)
{
	static const char *const v[] = { "--eval*", "-eval", "-l*", "--load*", "-f", "--funcall*",
		"--script*", "-x", "--batch", "-batch", "--execute*", "-execute", NULL };
	return any_word(w, n, v);
}

/* ssh, scp, sftp: -F reads a config file, and -o options that name a
 * program run it locally (ProxyCommand, LocalCommand, Match exec ...);
 * scp -S and sftp -S/-D name the program to run. */
static bool
ev_ssh(const struct cword *w, size_t n)
{
	static const char *const keys[] = { "proxycommand", "localcommand",
		"knownhostscommand", "pkcs11provider", "securitykeyprovider",
		"permitlocalcommand", "match", "include", NULL };
	size_t bl;
	const char *b = pol__wrap_base(&w[0], &bl);
	const char *prog = bl == 4 && memcmp(b, "sftp", 4) == 0 ? "FSD" :
	    bl == 3 && memcmp(b, "scp", 3) == 0 ? "FS" : "F";
	for (size_t i = 1; i < n; i++) {
		const struct cword *x = &w[i];
		if (x->len < 2 || x->s[0] != '-' || x->s[1] == '-')
			continue;
		for (size_t j = 1; j < x->len; j++) {
			char c = x->s[j];
			if (c != '\0' && strchr(prog, c) != NULL)
				return true;
			if (c != 'o')
				continue;
			const char *a = x->s + j + 1;
			size_t al = x->len - j - 1;
			if (al == 0 && i + 1 < n) {
				a = w[i + 1].s;
				al = w[i + 1].len;
			}
			while (al > 0 && (*a == ' ' || *a == '\t')) {
				a++;
				al--;
			}
			for (size_t k = 0; keys[k]; k++)
				if (al >= strlen(keys[k]) && strncasecmp(a, keys[k], strlen(keys[k])) == 0)
					return true;
			break;
		}
	}
	return false;
}

struct evdef {
	const char *name;	/* base name (eval_prefixes: its prefix) */
	bool (*evaluates)(const struct cword *w, size_t n);
	const char *what;	/* "evaluates its arguments as code" unless set */
	bool own_unknown;	/* evaluates() judges expanded words itself;
				 * otherwise any expanded argument counts */
};

/* Sorted by name (strcmp order) for bsearch. */
static const struct evdef evals[] = {
	{ "((", ev_always, NULL, false },
	{ ".", ev_always, NULL, false },
	{ "[", ev_test, NULL, false },
	{ "[[", ev_dbracket, NULL, false },
	{ "alias", ev_args, "redefines commands", false },
	{ "at", ev_always, "schedules commands", false },
	{ "awk", ev_always, NULL, false },
	{ "batch", ev_always, "schedules commands", false },
	{ "bind", ev_bind, "redefines keys", false },
	{ "busybox-awk", ev_always, NULL, false },
	{ "compgen", ev_compgen, NULL, false },
	{ "complete", ev_always, NULL, false },
	{ "coproc", ev_always, NULL, false },
	{ "crontab", ev_crontab, "schedules commands", false },
	{ "dc", ev_always, NULL, false },
	{ "declare", ev_declare, NULL, false },
	{ "ed", ev_always, NULL, false },
	{ "emacs", ev_emacs, NULL, false },
	{ "enable", ev_args, "changes builtins", false },
	{ "eval", ev_always, NULL, false },
	{ "ex", ev_always, NULL, false },
	{ "exec", ev_always, "replaces the shell", false },
	{ "expect", ev_always, NULL, false },
	{ "export", ev_readonly, NULL, false },
	{ "fc", ev_always, "runs history", false },
	{ "gawk", ev_always, NULL, false },
	{ "gdb", ev_always, NULL, false },
	{ "getopts", ev_subscript, NULL, false },
	{ "git", ev_git, "runs configured commands", false },
	{ "gsed", ev_sed, "may execute or write files", false },
	{ "gvim", ev_vim, NULL, false },
	{ "hash", ev_hash, "redefines commands", false },
	{ "irb", ev_always, NULL, false },
	{ "less", ev_pager, NULL, false },
	{ "let", ev_always, NULL, false },
	{ "local", ev_declare, NULL, false },
	{ "login", ev_always, "starts a shell", false },
	{ "luajit", ev_lua, NULL, false },
	{ "make", ev_make, NULL, false },
	{ "man", ev_man, "runs a pager or preprocessor it is given", false },
	{ "mapfile", ev_mapfile, NULL, false },
	{ "mawk", ev_always, NULL, false },
	{ "more", ev_pager, NULL, false },
	{ "most", ev_pager, NULL, false },
	{ "nawk", ev_always, NULL, false },
	{ "newgrp", ev_always, "starts a shell", false },
	{ "node", ev_node, NULL, false },
	{ "nodejs", ev_node, NULL, false },
	{ "nvim", ev_vim, NULL, false },
	{ "printf", ev_printf, NULL, true },
	{ "read", ev_subscript, NULL, false },
	{ "readarray", ev_mapfile, NULL, false },
	{ "readonly", ev_readonly, NULL, false },
	{ "rsync", ev_rsync, "runs a remote shell it is given", false },
	{ "rvim", ev_vim, NULL, false },
	{ "scp", ev_ssh, "runs a program it is given", false },
	{ "screen", ev_always, "starts shells", false },
	{ "sed", ev_sed, "may execute or write files", false },
	{ "set", ev_always, "changes how the shell reads later commands", false },
	{ "sftp", ev_ssh, "runs a program it is given", false },
	{ "shopt", ev_always, "changes how the shell reads later commands", false },
	{ "source", ev_always, NULL, false },
	{ "ssh", ev_ssh, "runs a program it is given", false },
	{ "tar", ev_tar, "runs commands", false },
	{ "test", ev_test, NULL, false },
	{ "tmux", ev_always, "starts shells", false },
	{ "trap", ev_trap, NULL, false },
	{ "typeset", ev_declare, NULL, false },
	{ "unset", ev_subscript, NULL, false },
	{ "vi", ev_vim, NULL, false },
	{ "view", ev_vim, NULL, false },
	{ "vim", ev_vim, NULL, false },
	{ "vimdiff", ev_vim, NULL, false },
	{ "wait", ev_subscript, NULL, false },
};

/* Names with version suffixes (python3.11, perl5.36, tclsh8.6): by prefix. */
static const struct evdef eval_prefixes[] = {
	{ "python", ev_python, NULL, false },
	{ "pypy", ev_python, NULL, false },
	{ "perl", ev_perl, NULL, false },
	{ "ruby", ev_ruby, NULL, false },
	{ "php", ev_php, NULL, false },
	{ "lua", ev_lua, NULL, false },
	{ "tclsh", ev_always, NULL, false },
	{ "wish", ev_always, NULL, false },
};

static int
ev_cmp(const void *key, const void *elem)
{
	const struct evdef *e = elem;
	return strcmp(key, e->name);
}

static const struct evdef *
ev_find(const char *b, size_t bl)
{
	char k[32];
	if (bl == 0 || bl >= sizeof(k) || memchr(b, '\0', bl) != NULL)
		return NULL;
	memcpy(k, b, bl);
	k[bl] = '\0';
	const struct evdef *e = bsearch(k, evals, sizeof(evals) / sizeof(evals[0]),
	    sizeof(evals[0]), ev_cmp);
	if (e != NULL)
		return e;
	for (size_t i = 0; i < sizeof(eval_prefixes) / sizeof(eval_prefixes[0]); i++) {
		size_t l = strlen(eval_prefixes[i].name);
		if (bl >= l && memcmp(b, eval_prefixes[i].name, l) == 0)
			return &eval_prefixes[i];
	}
	return NULL;
}

bool
pol__wrap_eval_table_sorted(void)
{
	for (size_t i = 1; i < sizeof(evals) / sizeof(evals[0]); i++)
		if (strcmp(evals[i - 1].name, evals[i].name) >= 0)
			return false;
	return true;
}

static const char *const stdin_readers[] = {
	"ash", "bash", "busybox", "csh", "dash", "fish", "ksh", "lua", "luajit", "mksh", "node",
	"nodejs", "perl", "php", "pypy", "python", "rbash", "ruby", "sh", "tclsh", "tcsh",
	"wish", "yash", "zsh", NULL
};

/* A path through which a program reads its standard input. */
static bool
stdin_path(const struct cword *x)
{
	const char *s = x->s;
	size_t l = x->len;
	if ((l == 1 && s[0] == '-') || (l == 10 && memcmp(s, "/dev/stdin", 10) == 0))
		return true;
	if (l > 8 && memcmp(s, "/dev/fd/", 8) == 0)
		return true;
	return l > 6 && memcmp(s, "/proc/", 6) == 0 && memmem(s, l, "/fd/", 4) != NULL;
}

bool
pol__wrap_never(const struct cword *w, size_t n, bool evaluating, char *why, size_t whylen)
{
	if (n == 0)
		return false;
	size_t bl;
	const char *b = pol__wrap_base(&w[0], &bl);
	if (evaluating) {
		static const char *const code[] = { "$(", "`", "$[", "${", NULL };
		for (size_t i = 1; i < n; i++)
			for (size_t k = 0; code[k]; k++)
				if (memmem(w[i].s, w[i].len, code[k], strlen(code[k])) != NULL) {
					snprintf(why, whylen, "'%.*s' would run the shell code in its "
					    "argument '%.60s'", (int)(bl > 40 ? 40 : bl), b, w[i].s);
					return true;
				}
	}
	for (size_t k = 0; stdin_readers[k]; k++) {
		size_t kl = strlen(stdin_readers[k]);
		/* python3, python3.11, perl5.36: the name and a version */
		if (bl < kl || memcmp(b, stdin_readers[k], kl) != 0 ||
		    strspn(b + kl, "0123456789.") != bl - kl)
			continue;
		for (size_t i = 1; i < n; i++)
			if (stdin_path(&w[i])) {
				snprintf(why, whylen, "'%.*s' would read a program from standard input "
				    "('%.60s')", (int)(bl > 40 ? 40 : bl), b, w[i].s);
				return true;
			}
	}
	return false;
}

bool
pol__wrap_literal_only(const struct cword *w, size_t n, struct wrap_literal *lit)
{
	memset(lit, 0, sizeof(*lit));
	if (n == 0)
		return false;
	size_t bl;
	const char *b = pol__wrap_base(&w[0], &bl);
	const struct evdef *e = ev_find(b, bl);
	bool expanded = false;
	for (size_t i = 1; e != NULL && !e->own_unknown && i < n; i++)
		expanded = expanded || (w[i].flags & UNKNOWN_WORD);
	/* a word the shell expands may become any of the forms that evaluate */
	if (e != NULL && (expanded || e->evaluates(w, n))) {
		snprintf(lit->why, sizeof(lit->why), "'%.*s' %s; a rule must name it literally",
		    (int)(bl > 40 ? 40 : bl), b,
		    e->what ? e->what : "evaluates its arguments as code");
		/* Setting a variable that changes what runs (printf -v PATH,
		 * read IFS, export BASH_ENV=..., unset LESSSECURE): a pattern
		 * must also name that word, as written ("export PATH=/usr/bin");
		 * naming the builtin with "..." after it is not enough. */
		for (size_t i = 1; i < n; i++) {
			const char *eq = memchr(w[i].s, '=', w[i].len);
			size_t vl = eq ? w[i].len - (size_t)(eq + 1 - w[i].s) : 0;
			/* NAME=SPECIAL: a nameref to it (declare -n x=PATH) */
			bool ref = eq != NULL && vl > 0 && pol__wrap_special_var(eq + 1, vl) &&
			    memchr(eq + 1, '=', vl) == NULL;
			if (ref || pol__wrap_special_var(w[i].s, w[i].len)) {
				lit->key = w[i].s;
				lit->keylen = w[i].len;
				snprintf(lit->why, sizeof(lit->why), "'%.*s' sets %.*s, which changes what "
				    "runs; a rule must name '%.*s' literally", (int)(bl > 40 ? 40 : bl), b,
				    (int)(w[i].len > 60 ? 60 : w[i].len), w[i].s,
				    (int)(w[i].len > 60 ? 60 : w[i].len), w[i].s);
				break;
			}
		}
		return true;
	}
	return pol__wrap_named_only(w, n, lit);
}

bool
pol__wrap_names_literally(const struct pattern *pt, const struct cword *w,
    const struct wrap_literal *lit)
{
	if (pt->nw == 0 || pt->w[0].ellipsis || pt->w[0].star)
		return false;
	const struct pword *p = &pt->w[0];
	size_t bl;
	const char *b = pol__wrap_base(w, &bl);
	if (!(p->len == w->len && memcmp(p->s, w->s, w->len) == 0) &&
	    !(!p->slash && p->len == bl && memcmp(p->s, b, bl) == 0))
		return false;
	if (lit->exact) {
		for (size_t i = 1; i < pt->nw; i++)
			if (pt->w[i].star || pt->w[i].ellipsis)
				return false;
		return true;
	}
	if (lit->key == NULL)
		return true;
	for (size_t i = 1; i < pt->nw; i++)
		if (pt->w[i].len == lit->keylen && memcmp(pt->w[i].s, lit->key, lit->keylen) == 0)
			return true;
	return false;
}

/* Appends `name` to the list in buf (at most `max` names, then "..."). */
static void
lint_add(char *buf, size_t cap, int *count, int max, const char *name)
{
	size_t l = strlen(buf);
	if (*count < max)
		snprintf(buf + l, cap - l, "%s%s", *count ? ", " : "", name);
	else if (*count == max)
		snprintf(buf + l, cap - l, ", ...");
	(*count)++;
}

int
pol__wrap_lint_pattern(const struct pattern *pt, char *msg, size_t msglen)
{
	if (pt->verdict == POL_DENY || pt->nw == 0)
		return 0;
	const struct pword *w0 = &pt->w[0];
	if (!w0->ellipsis && !w0->star)
		return 0;
	char names[160] = "";
	int count = 0;
	if (w0->ellipsis || (w0->len == 1 && w0->s[0] == '*')) {
		snprintf(names, sizeof(names), "eval, source, let, printf -v, awk, sed, "
		    "python -c, sudo -s, ...");
		count = 1;
	} else {
		for (size_t i = 0; i < sizeof(evals) / sizeof(evals[0]); i++)
			if (pol__word_glob(w0->s, w0->len, evals[i].name, strlen(evals[i].name)))
				lint_add(names, sizeof(names), &count, 6, evals[i].name);
		for (size_t i = 0; i < sizeof(eval_prefixes) / sizeof(eval_prefixes[0]); i++) {
			/* "pyth*" matches "python3": try the prefix and prefix + "3" */
			const char *nm = eval_prefixes[i].name;
			char v[40];
			snprintf(v, sizeof(v), "%s3", nm);
			if (pol__word_glob(w0->s, w0->len, nm, strlen(nm)) ||
			    pol__word_glob(w0->s, w0->len, v, strlen(v)))
				lint_add(names, sizeof(names), &count, 6, nm);
		}
	}
	if (count == 0)
		return 0;
	snprintf(msg, msglen, "%s pattern \"%s\" does not reach commands that evaluate strings "
	    "as code (%s) in the forms that do: a rule must name them literally",
	    pol_verdict_name(pt->verdict), pt->text, names);
	return 1;
}
