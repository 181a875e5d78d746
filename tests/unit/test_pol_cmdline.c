/*
 * test_pol_cmdline: the shell-subset parser, table-driven.  Each row gives a
 * line, whether it parses, the words of every simple command (joined by
 * '|', commands separated by " ; "), and constructs that must be reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/cmdline.h"
#include "policy/policy.h"

struct row {
	const char *line;
	int rc;			/* 0 or POL_E_UNPARSABLE */
	const char *words;	/* NULL: not checked */
	unsigned constructs;	/* must all be set */
};

static const struct row rows[] = {
	{ "ls -l", 0, "ls|-l", 0 },
	{ "  ls   -l  ", 0, "ls|-l", 0 },
	{ "r''m x", 0, "rm|x", 0 },
	{ "\\rm x", 0, "rm|x", 0 },
	{ "'r'\"m\" x", 0, "rm|x", 0 },
	{ "echo 'a b' \"c d\"", 0, "echo|a b|c d", 0 },
	{ "echo \"a\\\"b\\\\c\\d\"", 0, "echo|a\"b\\c\\d", 0 },
	{ "echo a\\ b", 0, "echo|a b", 0 },
	{ "echo ''", 0, "echo|", 0 },
	{ "ls;rm x", 0, "ls ; rm|x", POL_C_LIST },
	{ "ls && rm x || echo no", 0, "ls ; rm|x ; echo|no", POL_C_LIST },
	{ "ls | grep x", 0, "ls ; grep|x", POL_C_PIPE },
	{ "ls |& grep x", 0, "ls ; grep|x", POL_C_PIPE },
	{ "ls &", 0, "ls", POL_C_BACKGROUND },
	{ "ls & uptime", 0, "ls ; uptime", POL_C_BACKGROUND },
	{ "ls\nuptime", 0, "ls ; uptime", POL_C_LIST },
	{ "ls \\\n -l", 0, "ls|-l", 0 },
	{ "echo $(id -u)", 0, "id|-u ; echo|$(id -u)", POL_C_SUBST },
	{ "echo \"$(id)\"", 0, "id ; echo|$(id)", POL_C_SUBST },
	{ "echo $(echo $(id))", 0, "id ; echo|$(id) ; echo|$(echo $(id))", POL_C_SUBST },
	{ "echo `id`", 0, "id ; echo|`id`", POL_C_BACKTICK },
	{ "diff <(ls a) >(cat)", 0, "ls|a ; cat ; diff|<(ls a)|>(cat)", POL_C_PROCSUBST },
	{ "ls > out", 0, "ls", POL_C_REDIRECT },
	{ "ls >> out", 0, "ls", POL_C_REDIRECT },
	{ "ls 2> err", 0, "ls", POL_C_REDIRECT },
	{ "ls &> out", 0, "ls", POL_C_REDIRECT },
	{ "ls < in", 0, "ls", POL_C_REDIRECT },
	{ "ls 2>&1", 0, "ls", POL_C_REDIR_FD },
	{ "ls >/dev/null", 0, "ls", POL_C_REDIR_FD },
	{ "ls 1>&-", 0, "ls", POL_C_REDIR_FD },
	{ "cat <<EOF\nx\nEOF\nls", 0, "cat ; ls", POL_C_HEREDOC },
	{ "cat <<'EOF'\n$(x)\nEOF", 0, "cat", POL_C_HEREDOC },
	{ "cat <<-EOF\n\tx\n\tEOF", 0, "cat", POL_C_HEREDOC },
	{ "cat <<<word", 0, "cat", POL_C_HEREDOC },
	{ "cat <<EOF\n$(x)\nEOF", POL_E_UNPARSABLE, NULL, 0 },
	{ "cat <<EOF\nno end", POL_E_UNPARSABLE, NULL, 0 },
	{ "A=1 B=2 env", 0, "env", POL_C_ASSIGN },
	{ "A=1", 0, "", POL_C_ASSIGN },
	{ "echo A=1", 0, "echo|A=1", 0 },
	{ "'A'=1 ls", 0, "A=1|ls", 0 },
	{ "ls $HOME", 0, "ls|$HOME", POL_C_VARIABLE },
	{ "ls ${HOME}/x", 0, "ls|${HOME}/x", POL_C_VARIABLE },
	{ "echo $1 $@ $?", 0, NULL, POL_C_VARIABLE },
	{ "echo $", 0, "echo|$", 0 },
	{ "$X y", 0, "$X|y", POL_C_VAR_CMD },
	{ "$(x) y", 0, NULL, POL_C_VAR_CMD | POL_C_SUBST },
	{ "r* x", 0, "r*|x", POL_C_GLOB_CMD },
	{ "ls *.c", 0, "ls|*.c", POL_C_GLOB },
	{ "ls '*.c'", 0, "ls|*.c", 0 },
	{ "[ -f x ]", 0, "[|-f|x|]", 0 },
	{ "ls a[bc]", 0, "ls|a[bc]", POL_C_GLOB },
	{ "echo {a,b}", 0, "echo|{a,b}", POL_C_BRACE },
	{ "echo {1..5}", 0, "echo|{1..5}", POL_C_BRACE },
	{ "find . -exec x {} ;", 0, "find|.|-exec|x|{}", 0 },
	{ "echo !!", 0, NULL, POL_C_HISTORY },
	{ "echo a!b", 0, NULL, POL_C_HISTORY },
	{ "echo 'a!b'", 0, "echo|a!b", 0 },
	{ "echo hi!", 0, "echo|hi!", 0 },
	{ "echo x # note", 0, "echo|x", POL_C_COMMENT },
	{ "echo x#y", 0, "echo|x#y", 0 },
	{ "cd ~/x", 0, "cd|~/x", POL_C_TILDE },
	{ "", 0, "", 0 },
	{ "\n\n", 0, "", 0 },
	{ "echo 'x", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo \"x", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo `x", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo $(x", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo ${x", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo ${x:-$(id)}", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo $((1))", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo $'x'", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo \\", POL_E_UNPARSABLE, NULL, 0 },
	{ "(ls)", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls )", POL_E_UNPARSABLE, NULL, 0 },
	{ "{ ls; }", POL_E_UNPARSABLE, NULL, 0 },
	{ "if x; then y; fi", POL_E_UNPARSABLE, NULL, 0 },
	{ "while x; do y; done", POL_E_UNPARSABLE, NULL, 0 },
	{ "for i in a; do y; done", POL_E_UNPARSABLE, NULL, 0 },
	{ "case a in b) c;; esac", POL_E_UNPARSABLE, NULL, 0 },
	{ "f() { x; }", POL_E_UNPARSABLE, NULL, 0 },
	{ "function f { x; }", POL_E_UNPARSABLE, NULL, 0 },
	{ "! ls", POL_E_UNPARSABLE, NULL, 0 },
	{ "[[ x ]]", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls |", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls &&", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls ||", POL_E_UNPARSABLE, NULL, 0 },
	{ "| ls", POL_E_UNPARSABLE, NULL, 0 },
	{ "; ls", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls ;; ls", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls >", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls 99999>x", POL_E_UNPARSABLE, NULL, 0 },
	{ "echo `a\\`b`", POL_E_UNPARSABLE, NULL, 0 },
	{ "ls && \nuptime", 0, "ls ; uptime", POL_C_LIST },
	{ "ls |\n grep x", 0, "ls ; grep|x", POL_C_PIPE },
};

static void
words_of(const struct pol_cmdline *c, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = '\0';
	/* order by offset, then depth (inner first), as the parser appends */
	for (size_t i = 0; i < c->nsimple; i++) {
		const struct pol_simple *s = &c->simple[i];
		if (i)
			k += (size_t)snprintf(buf + k, cap - k, " ; ");
		for (size_t j = 0; j < s->nwords && k < cap; j++)
			k += (size_t)snprintf(buf + k, cap - k, "%s%s", j ? "|" : "", s->words[j].s);
	}
}

static void
test_rows(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pol_cmdline *c;
		int r = pol_cmdline_parse(rows[i].line, strlen(rows[i].line), &c);
		char w[512];
		assert_non_null(c);
		words_of(c, w, sizeof(w));
		bool ok = r == rows[i].rc && (rows[i].words == NULL || strcmp(w, rows[i].words) == 0) &&
		    (c->constructs & rows[i].constructs) == rows[i].constructs;
		if (r != 0 && c->err_msg[0] == '\0')
			ok = false;
		if (!ok) {
			fprintf(stderr, "row %zu: '%s': want rc %d words '%s' constructs %#x; got rc %d "
			    "words '%s' constructs %#x (%s)\n", i, rows[i].line, rows[i].rc,
			    rows[i].words ? rows[i].words : "*", rows[i].constructs, r, w,
			    c->constructs, c->err_msg);
			bad++;
		}
		pol_cmdline_free(c);
	}
	fprintf(stderr, "%zu parser rows\n", sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(bad, 0);
}

/* Limits: very long lines and deep nesting are refused, not crashed on. */
static void
test_limits(void **state)
{
	(void)state;
	size_t n = 60000 * 2 + 10;
	char *big = malloc(n);
	memset(big, 'a', n);
	struct pol_cmdline *c;
	assert_int_equal(pol_cmdline_parse(big, POL_CMDLINE_MAX + 1, &c), POL_E_TOOBIG);
	pol_cmdline_free(c);
	/* 60000 words in one line */
	for (size_t i = 1; i < 60000 * 2; i += 2)
		big[i] = ' ';
	assert_int_equal(pol_cmdline_parse(big, 8000, &c), 0);
	assert_int_equal(c->simple[0].nwords, 4000);
	pol_cmdline_free(c);
	assert_int_equal(pol_cmdline_parse(big, 60000, &c), POL_E_TOOBIG);
	pol_cmdline_free(c);
	char deep[256] = "";
	for (int i = 0; i < 20; i++)
		strcat(deep, "$(");
	strcat(deep, "x");
	for (int i = 0; i < 20; i++)
		strcat(deep, ")");
	assert_int_equal(pol_cmdline_parse(deep, strlen(deep), &c), POL_E_TOOBIG);
	pol_cmdline_free(c);
	assert_int_equal(pol_cmdline_parse("a\0b", 3, &c), POL_E_UNPARSABLE);
	pol_cmdline_free(c);
	free(big);
}

/* The separator after each command is kept (for explain). */
static void
test_separators(void **state)
{
	(void)state;
	struct pol_cmdline *c;
	const char *l = "a; b && c || d | e & f\ng";
	assert_int_equal(pol_cmdline_parse(l, strlen(l), &c), 0);
	assert_int_equal(c->nsimple, 7);
	const char *want[] = { ";", "&&", "||", "|", "&", "\n", "" };
	for (int i = 0; i < 7; i++)
		assert_string_equal(c->simple[i].sep, want[i]);
	assert_int_equal(c->simple[4].offset, 17);
	pol_cmdline_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_separators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
