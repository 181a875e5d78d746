/*
 * envreq.c: SSH environment requests ("env" channel requests, ssh's SendEnv
 * and SetEnv) against the `env` lines of a session's admitting rules.
 *
 * A name passes only when every admitting rule that has an `env` line lists
 * it (by name or by a '*' glob such as LC_*), and at least one does; a name
 * that changes how the target's shell or loader runs (LD_*, BASH_ENV, PATH,
 * ...) never passes, and no `env` line may name it.  Values: LANG and LC_*
 * only as a plain locale name; any other value printable ASCII, at most
 * POL_ENV_VALUE_MAX bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

/* Variables that make the target's shell, loader or tools run code or
 * other programs.  '*' matches any run of characters. */
static const char *const env_danger[] = {
	"LD_*", "BASH_ENV", "ENV", "BASH_FUNC_*", "PATH", "IFS", "SHELLOPTS", "BASHOPTS", "PS4",
	"PROMPT_COMMAND", "CDPATH", "GLOBIGNORE", "HOME", "SHELL", "USER", "LOGNAME", "MAIL",
	"PYTHON*", "PERL5*", "PERLLIB", "PERL_*", "RUBY*", "NODE_*", "GIT_*", "GCONV_PATH",
	"HOSTALIASES", "LESSOPEN", "LESSCLOSE", "LESSKEY*", "EDITOR", "VISUAL", "PAGER", "MANPAGER",
	"SYSTEMD_*", "TMPDIR", "LOCPATH", "NLSPATH", "MALLOC_*", "GLIBC_*", "SSH_*", "XDG_*",
	"INPUTRC", "HISTFILE", "TERMINFO*", "TERMCAP", "ZDOTDIR", "KRB5*", "OPENSSL_*", "SSL_*",
	"CURL_*", "TZDIR", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "CLASSPATH", NULL
};

/* Real names of the families above, for globs such as *_PRELOAD that the
 * sample names below do not meet. */
static const char *const env_danger_names[] = {
	"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_FUNC_x%%", "PYTHONPATH", "PYTHONSTARTUP",
	"PYTHONHOME", "PERL5LIB", "PERL5OPT", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH",
	"GIT_SSH_COMMAND", "GIT_EXEC_PATH", "GIT_CONFIG", "SYSTEMD_PAGER", "MALLOC_CHECK_",
	"GLIBC_TUNABLES", "SSH_AUTH_SOCK", "SSH_ASKPASS", "XDG_CONFIG_HOME", "LESSKEYIN",
	"TERMINFO_DIRS", "KRB5CCNAME", "KRB5_CONFIG", "OPENSSL_CONF", "SSL_CERT_FILE",
	"CURL_CA_BUNDLE", NULL
};

/* A name standing for each entry above, to test a policy's glob against. */
static void
danger_sample(const char *d, char *out, size_t cap)
{
	size_t k = 0;
	for (; *d && k + 2 < cap; d++)
		out[k++] = *d == '*' ? 'X' : *d;
	out[k] = '\0';
}

/* Both sides may hold '*': true when some name matches both. */
static bool
globs_meet(const char *a, const char *b)
{
	char s[64];
	danger_sample(b, s, sizeof(s));
	if (pol__word_glob(a, strlen(a), s, strlen(s)))
		return true;
	danger_sample(a, s, sizeof(s));
	return pol__word_glob(b, strlen(b), s, strlen(s));
}

bool
pol_env_name_dangerous(const char *name)
{
	for (size_t i = 0; env_danger[i] != NULL; i++)
		if (pol__word_glob(env_danger[i], strlen(env_danger[i]), name, strlen(name)))
			return true;
	return false;
}

const char *
pol_env_name_check(const char *pat, char *why, size_t whylen)
{
	size_t n = strlen(pat);
	if (n == 0 || n > 64)
		return "expected a variable name of 1 to 64 characters";
	for (size_t i = 0; i < n; i++) {
		char c = pat[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '*' ||
		    (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return "expected a variable name (letters, digits, _) or a glob with '*'";
	}
	if (strcmp(pat, "TERM") == 0)
		return "TERM travels in the pty request; it needs no env line";
	for (size_t i = 0; env_danger_names[i] != NULL; i++)
		if (pol__word_glob(pat, n, env_danger_names[i], strlen(env_danger_names[i]))) {
			snprintf(why, whylen, "would pass %s, which can make the target run other "
			    "code; it is never passed", env_danger_names[i]);
			return why;
		}
	for (size_t i = 0; env_danger[i] != NULL; i++)
		if (globs_meet(pat, env_danger[i])) {
			char s[64];
			danger_sample(env_danger[i], s, sizeof(s));
			snprintf(why, whylen, "would pass %s, which can make the target run other "
			    "code; it is never passed", strchr(env_danger[i], '*') ? env_danger[i] : s);
			return why;
		}
	return NULL;
}

/* [A-Za-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?, C, POSIX, C.UTF-8 */
bool
pol_env_locale_ok(const char *v)
{
	static const char *const plain[] = { "C", "POSIX", "C.UTF-8", "C.utf8", NULL };
	for (size_t i = 0; plain[i]; i++)
		if (strcmp(v, plain[i]) == 0)
			return true;
#define ALPHA(c) (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define ALNUM(c) (ALPHA(c) || ((c) >= '0' && (c) <= '9'))
	const char *s = v;
	int k = 0;
	while (ALPHA(*s) && k < 4)
		s++, k++;
	if (k < 2 || k > 3)
		return false;
	if (*s == '_') {
		if (!UPPER(s[1]) || !UPPER(s[2]))
			return false;
		s += 3;
	}
	if (*s == '.') {
		s++;
		k = 0;
		while ((ALNUM(*s) || *s == '-') && k < 32)
			s++, k++;
		if (k == 0)
			return false;
	}
	if (*s == '@') {
		s++;
		k = 0;
		while (ALNUM(*s) && k < 32)
			s++, k++;
		if (k == 0)
			return false;
	}
	return *s == '\0';
#undef ALPHA
#undef UPPER
#undef ALNUM
}

static bool
rule_env_lists(const struct pol_rule *r, const char *name)
{
	for (size_t i = 0; i < r->nenv; i++)
		if (pol__word_glob(r->env[i], strlen(r->env[i]), name, strlen(name)))
			return true;
	return false;
}

int
pol_session_env(const struct pol_session *s, const char *name, const char *value,
    char *why, size_t whylen)
{
	size_t nset = 0;
	const struct pol_rule *blocker = NULL;
	for (size_t i = 0; i < s->nrules; i++) {
		const struct pol_rule *r = s->rules[i];
		if (!r->env_set)
			continue;
		nset++;
		if (blocker == NULL && !rule_env_lists(r, name))
			blocker = r;
	}
	size_t vlen = value ? strlen(value) : 0;
	const char *msg = NULL;
	char buf[200];
	if (pol_env_name_check(name, buf, sizeof(buf)) != NULL || pol_env_name_dangerous(name)) {
		msg = "this variable is never passed";
	} else if (nset == 0) {
		msg = "no rule allows environment variables (env)";
	} else if (blocker != NULL) {
		snprintf(buf, sizeof(buf), "rule '%s' (%s:%d) does not list it in 'env'", blocker->name,
		    blocker->file, blocker->env_line ? blocker->env_line : blocker->line);
		msg = buf;
	} else if (strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0) {
		if (!pol_env_locale_ok(value ? value : ""))
			msg = "value is not a locale name (e.g. en_US.UTF-8, C, POSIX)";
	} else if (vlen > POL_ENV_VALUE_MAX) {
		msg = "value longer than 256 bytes";
	} else {
		for (size_t i = 0; i < vlen && msg == NULL; i++)
			if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
				msg = "value has a byte that is not printable ASCII";
	}
	if (msg == NULL)
		return 0;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return POL_E_REFUSED;
}

int
pol_session_env_text(const struct pol_session *s, char *out, size_t cap)
{
	size_t off = 0, nset = 0;
	out[0] = '\0';
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i]->env_set)
			nset++;
	for (size_t i = 0; i < s->nrules && off < cap; i++) {
		const struct pol_rule *r = s->rules[i];
		if (!r->env_set)
			continue;
		if (off)
			off += (size_t)snprintf(out + off, cap - off, " and ");
		if (r->nenv == 0)
			off += (size_t)snprintf(out + off, cap - off, "none");
		for (size_t k = 0; k < r->nenv && off < cap; k++)
			off += (size_t)snprintf(out + off, cap - off, "%s%s", k ? " " : "", r->env[k]);
		if (nset > 1 && off < cap)
			off += (size_t)snprintf(out + off, cap - off, " (rule %s)", r->name);
	}
	if (nset == 0)
		snprintf(out, cap, "none");
	return off >= cap ? POL_E_TOOBIG : 0;
}
