/*
 * wrap.c: commands that run other commands.  For each known wrapper, finds
 * the inner command (words after the wrapper's options), or the shell text
 * it runs (sh -c, su -c, eval, watch), or says why it cannot be checked.
 * The engine checks the inner command as well as the wrapper: a wrapper
 * never makes its inner command allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

static bool
weq(const struct cword *w, const char *s)
{
	return w->len == strlen(s) && memcmp(w->s, s, w->len) == 0;
}

static bool
wpre(const struct cword *w, const char *s)
{
	size_t l = strlen(s);
	return w->len >= l && memcmp(w->s, s, l) == 0;
}

static const char *
base(const struct cword *w, size_t *bl)
{
	const char *b = w->s;
	for (size_t i = 0; i < w->len; i++)
		if (w->s[i] == '/')
			b = w->s + i + 1;
	*bl = w->len - (size_t)(b - w->s);
	return b;
}

/*
 * Skips options: `argopts` are single-letter options taking an argument
 * (attached or next word), `longarg` long options taking one when written
 * without '='.  Returns the index of the first operand.
 */
static size_t
skip_opts(const struct cword *w, size_t n, size_t i, const char *argopts,
    const char *const *longarg, bool *dashdash)
{
	while (i < n) {
		if (weq(&w[i], "--")) {
			if (dashdash)
				*dashdash = true;
			return i + 1;
		}
		if (w[i].len < 2 || w[i].s[0] != '-')
			return i;
		if (w[i].s[1] == '-') {
			bool takes = false;
			for (size_t k = 0; longarg && longarg[k]; k++)
				if (weq(&w[i], longarg[k]))
					takes = true;
			i += takes ? 2 : 1;
			continue;
		}
		size_t j = 1;
		bool took = false;
		for (; j < w[i].len; j++)
			if (strchr(argopts, w[i].s[j]) != NULL) {
				took = true;
				break;
			}
		/* an option with its argument attached (-uroot) or in the next word */
		i += (took && j + 1 == w[i].len) ? 2 : 1;
	}
	return i < n ? i : n;
}

static bool
has_short(const struct cword *w, size_t from, size_t to, char opt)
{
	for (size_t i = from; i < to; i++)
		if (w[i].len >= 2 && w[i].s[0] == '-' && w[i].s[1] != '-' &&
		    memchr(w[i].s + 1, opt, w[i].len - 1) != NULL)
			return true;
	return false;
}

static int
inner(struct wrap_inner *o, const char *name, size_t start, size_t end)
{
	o->kind = WRAP_INNER;
	o->wrapper = name;
	o->start = start;
	o->end = end;
	return 1;
}

static int
deny(struct wrap_inner *o, const char *name, const char *why)
{
	o->kind = WRAP_DENY;
	o->wrapper = name;
	o->why = why;
	return 1;
}

static int
shell_text(struct wrap_inner *o, const char *name, const struct cword *w, size_t from, size_t to)
{
	size_t len = 0;
	for (size_t i = from; i < to; i++)
		len += w[i].len + 1;
	char *s = malloc(len + 1);
	if (s == NULL)
		return -1;
	size_t k = 0;
	for (size_t i = from; i < to; i++) {
		if (w[i].flags & (POL_W_VAR | POL_W_SUBST | POL_W_GLOB | POL_W_BRACE)) {
			free(s);
			return deny(o, name, "the shell text is not known until it runs");
		}
		if (k)
			s[k++] = ' ';
		memcpy(s + k, w[i].s, w[i].len);
		k += w[i].len;
	}
	s[k] = '\0';
	o->kind = WRAP_SHELL;
	o->wrapper = name;
	o->shell = s;
	o->start = from;
	o->end = to;
	return 1;
}

/* Programs that run a command given after options we do not parse: every
 * tail of their words is checked against the deny and approve patterns. */
static const char *const opaque[] = { "pkexec", "strace", "ltrace", "valgrind",
	"nsenter", "unshare", "setpriv", "systemd-run", "numactl", "cgexec", "firejail",
	"fakeroot", "faketime", "unbuffer", "rlwrap", "xvfb-run", "dbus-launch",
	"ssh-agent", "proxychains", "proxychains4", "torsocks", "catchsegv", "nocache",
	"chpst", "capsh", "prlimit", "ip", "perf", "gdb", "expect", NULL };

static int
suffixes(struct wrap_inner *o, const char *name, size_t from, size_t n)
{
	if (from >= n)
		return 0;
	o->kind = WRAP_SUFFIXES;
	o->wrapper = name;
	o->start = from;
	o->end = n;
	return 1;
}

static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh",
	"yash", "fish", "csh", "tcsh", "rbash", NULL };

static int
wrap_shell(const struct cword *w, size_t n, struct wrap_inner *o, const char *name)
{
	/* sh [-options] -c TEXT [NAME ARGS...] ; -o OPT takes an argument */
	size_t i = 1;
	bool c = false;
	while (i < n && w[i].len >= 2 && (w[i].s[0] == '-' || w[i].s[0] == '+')) {
		if (weq(&w[i], "--"))
			break;
		if (w[i].s[1] == '-') {	/* --login --norc --rcfile F */
			i += (weq(&w[i], "--rcfile") || weq(&w[i], "--init-file")) ? 2 : 1;
			continue;
		}
		if (memchr(w[i].s + 1, 'c', w[i].len - 1) != NULL)
			c = true;
		bool optarg = memchr(w[i].s + 1, 'o', w[i].len - 1) != NULL ||
		    memchr(w[i].s + 1, 'O', w[i].len - 1) != NULL;
		i += optarg ? 2 : 1;
	}
	if (!c)
		return 0;	/* runs a script or an interactive shell: matched as is */
	if (i >= n)
		return deny(o, name, "-c without a command");
	return shell_text(o, name, w, i, i + 1);
}

int
wrap_inner(const struct cword *w, size_t n, struct wrap_inner *out, int max)
{
	if (n == 0 || max < 1)
		return 0;
	memset(out, 0, sizeof(*out) * (size_t)max);
	size_t bl;
	const char *b = base(&w[0], &bl);
	char name[32];
	if (bl >= sizeof(name))
		return 0;
	memcpy(name, b, bl);
	name[bl] = '\0';
	if (w[0].flags & (POL_W_VAR | POL_W_SUBST))
		return 0;

	for (int k = 0; shells[k]; k++)
		if (strcmp(name, shells[k]) == 0)
			return wrap_shell(w, n, out, shells[k]);

	if (strcmp(name, "sudo") == 0 || strcmp(name, "doas") == 0) {
		static const char *const la[] = { "--user", "--group", "--chdir", "--chroot",
			"--host", "--prompt", "--role", "--type", "--other-user",
			"--close-from", "--command-timeout", NULL };
		const char *nm = strcmp(name, "sudo") == 0 ? "sudo" : "doas";
		size_t i = skip_opts(w, n, 1, "ugCDhprtTUa", la, NULL);
		if (has_short(w, 1, i, 'e') || weq(&w[0], "sudoedit"))
			return deny(out, nm, "sudo -e edits files as another user");
		if (i >= n)
			return 0;	/* sudo -l, sudo -i, sudo -s: matched as is */
		if (has_short(w, 1, i, 's') || has_short(w, 1, i, 'i'))
			return shell_text(out, nm, w, i, n);
		return inner(out, nm, i, n);
	}
	if (strcmp(name, "sudoedit") == 0)
		return deny(out, "sudoedit", "sudoedit edits files as another user");
	if (strcmp(name, "env") == 0) {
		static const char *const la[] = { "--unset", "--chdir", NULL };
		size_t i = 1;
		for (;;) {
			i = skip_opts(w, n, i, "uCP", la, NULL);
			if (i < n && memchr(w[i].s, '=', w[i].len) != NULL && w[i].s[0] != '=') {
				i++;
				continue;
			}
			break;
		}
		for (size_t k = 1; k < i; k++)
			if (wpre(&w[k], "--split-string") || wpre(&w[k], "-S") ||
			    (w[k].len > 1 && w[k].s[0] == '-' && w[k].s[1] != '-' &&
			    memchr(w[k].s, 'S', w[k].len)))
				return deny(out, "env", "env -S splits its argument into a command");
		return i < n ? inner(out, "env", i, n) : 0;
	}
	if (strcmp(name, "nice") == 0) {
		static const char *const la[] = { "--adjustment", NULL };
		size_t i = skip_opts(w, n, 1, "n", la, NULL);
		return i < n ? inner(out, "nice", i, n) : 0;
	}
	if (strcmp(name, "ionice") == 0) {
		static const char *const la[] = { "--class", "--classdata", NULL };
		size_t i = skip_opts(w, n, 1, "cnpPu", la, NULL);
		if (has_short(w, 1, i, 'p') || has_short(w, 1, i, 'P') || has_short(w, 1, i, 'u'))
			return 0;
		return i < n ? inner(out, "ionice", i, n) : 0;
	}
	if (strcmp(name, "timeout") == 0) {
		static const char *const la[] = { "--signal", "--kill-after", NULL };
		size_t i = skip_opts(w, n, 1, "sk", la, NULL);
		i++;	/* DURATION */
		return i < n ? inner(out, "timeout", i, n) : 0;
	}
	if (strcmp(name, "nohup") == 0 || strcmp(name, "builtin") == 0 ||
	    strcmp(name, "busybox") == 0) {
		size_t i = skip_opts(w, n, 1, "", NULL, NULL);
		const char *nm = name[0] == 'n' ? "nohup" : name[1] == 'u' ? "builtin" : "busybox";
		return i < n ? inner(out, nm, i, n) : 0;
	}
	if (strcmp(name, "setsid") == 0) {
		size_t i = skip_opts(w, n, 1, "", NULL, NULL);
		return i < n ? inner(out, "setsid", i, n) : 0;
	}
	if (strcmp(name, "stdbuf") == 0) {
		static const char *const la[] = { "--input", "--output", "--error", NULL };
		size_t i = skip_opts(w, n, 1, "ioe", la, NULL);
		return i < n ? inner(out, "stdbuf", i, n) : 0;
	}
	if (strcmp(name, "time") == 0) {
		static const char *const la[] = { "--format", "--output", NULL };
		size_t i = skip_opts(w, n, 1, "fo", la, NULL);
		return i < n ? inner(out, "time", i, n) : 0;
	}
	if (strcmp(name, "command") == 0) {
		size_t i = skip_opts(w, n, 1, "", NULL, NULL);
		if (has_short(w, 1, i, 'v') || has_short(w, 1, i, 'V'))
			return 0;	/* lookup only */
		return i < n ? inner(out, "command", i, n) : 0;
	}
	if (strcmp(name, "exec") == 0) {
		size_t i = skip_opts(w, n, 1, "a", NULL, NULL);
		return i < n ? inner(out, "exec", i, n) : 0;
	}
	if (strcmp(name, "chroot") == 0) {
		static const char *const la[] = { "--userspec", "--groups", NULL };
		size_t i = skip_opts(w, n, 1, "", la, NULL);
		i++;	/* NEWROOT */
		return i < n ? inner(out, "chroot", i, n) : 0;
	}
	if (strcmp(name, "taskset") == 0 || strcmp(name, "chrt") == 0) {
		const char *nm = name[0] == 't' ? "taskset" : "chrt";
		size_t i = skip_opts(w, n, 1, "", NULL, NULL);
		if (has_short(w, 1, i, 'p'))
			return 0;
		i++;	/* mask or priority */
		return i < n ? inner(out, nm, i, n) : 0;
	}
	if (strcmp(name, "flock") == 0) {
		static const char *const la[] = { "--timeout", "--conflict-exit-code", "--command", NULL };
		size_t i = skip_opts(w, n, 1, "wEc", la, NULL);
		for (size_t k = 1; k + 1 < n && k < i; k++)
			if (weq(&w[k], "-c") || weq(&w[k], "--command"))
				return shell_text(out, "flock", w, k + 1, k + 2);
		i++;	/* lock file */
		if (i < n && (weq(&w[i], "-c") || weq(&w[i], "--command")))
			return i + 1 < n ? shell_text(out, "flock", w, i + 1, i + 2) : 0;
		return i < n ? inner(out, "flock", i, n) : 0;
	}
	if (strcmp(name, "watch") == 0) {
		static const char *const la[] = { "--interval", "--differences", NULL };
		size_t i = skip_opts(w, n, 1, "nq", la, NULL);
		if (has_short(w, 1, i, 'x'))
			return i < n ? inner(out, "watch", i, n) : 0;
		return i < n ? shell_text(out, "watch", w, i, n) : 0;
	}
	if (strcmp(name, "eval") == 0)
		return n > 1 ? shell_text(out, "eval", w, 1, n) : 0;
	if (strcmp(name, "su") == 0 || strcmp(name, "runuser") == 0) {
		const char *nm = name[0] == 's' ? "su" : "runuser";
		for (size_t k = 1; k < n; k++)
			if (weq(&w[k], "-c") || weq(&w[k], "--command") ||
			    weq(&w[k], "--session-command"))
				return k + 1 < n ? shell_text(out, nm, w, k + 1, k + 2) :
				    deny(out, nm, "-c without a command");
			else if (wpre(&w[k], "--command=") || wpre(&w[k], "--session-command="))
				return deny(out, nm, "write su -c as two words");
		/* runuser -u USER COMMAND...: the tail may be a command */
		return suffixes(out, nm, 1, n);
	}
	if (strcmp(name, "sg") == 0)
		return n > 2 ? shell_text(out, "sg", w, 2, 3) : 0;
	if (strcmp(name, "script") == 0) {
		for (size_t k = 1; k + 1 < n; k++)
			if (weq(&w[k], "-c") || weq(&w[k], "--command"))
				return shell_text(out, "script", w, k + 1, k + 2);
		return 0;
	}
	for (int k = 0; opaque[k]; k++)
		if (strcmp(name, opaque[k]) == 0)
			return suffixes(out, opaque[k], 1, n);
	if (strcmp(name, "xargs") == 0) {
		static const char *const la[] = { "--arg-file", "--delimiter", "--max-args",
			"--max-lines", "--max-procs", "--max-chars", "--eof", "--replace",
			"--process-slot-var", NULL };
		size_t i = skip_opts(w, n, 1, "adEIiLlnPs", la, NULL);
		if (i >= n)
			return 0;	/* runs echo */
		inner(out, "xargs", i, n);
		out->open_tail = true;
		out->placeholders = true;	/* -I {} stands for input */
		return 1;
	}
	if (strcmp(name, "find") == 0) {
		int cnt = 0;
		for (size_t k = 1; k < n && cnt < max; k++) {
			if (weq(&w[k], "-exec") || weq(&w[k], "-execdir") || weq(&w[k], "-ok") ||
			    weq(&w[k], "-okdir")) {
				size_t e = k + 1;
				while (e < n && !weq(&w[e], ";") && !weq(&w[e], "+"))
					e++;
				if (e == k + 1)
					return deny(&out[0], "find", "-exec without a command");
				inner(&out[cnt], "find", k + 1, e);
				out[cnt].placeholders = true;
				cnt++;
				k = e;
			} else if (weq(&w[k], "-fprint") || weq(&w[k], "-fprint0") ||
			    weq(&w[k], "-fprintf") || weq(&w[k], "-fls")) {
				return deny(&out[0], "find", "find writes to a file");
			}
		}
		return cnt;
	}
	return 0;
}

void
wrap_inner_clear(struct wrap_inner *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].shell);
		v[i].shell = NULL;
	}
}
