/*
 * test_pol_render: the line that runs.  Each row gives a command line, the
 * constructs permitted, and the exact text pol_render must produce (NULL:
 * it must refuse).  Every rendered line is parsed again and must give the
 * same simple commands with the same words, flags and constructs, and
 * rendering it again must give the same text (a fixed point).
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

#define ALL_C 0x3ffffu

struct row {
	const char *line;
	unsigned permitted;
	const char *want;	/* NULL: refused */
};

static const struct row rows[] = {
	/* literals are single-quoted, whatever they were */
	{ "ls -l", 0, "'ls' '-l'" },
	{ "r''m x", 0, "'rm' 'x'" },
	{ "\\rm x", 0, "'rm' 'x'" },
	{ "echo 'a b' \"c d\"", 0, "'echo' 'a b' 'c d'" },
	{ "echo it\\'s", 0, "'echo' 'it'\\''s'" },
	{ "echo ''", 0, "'echo' ''" },
	{ "echo \"\"", 0, "'echo' ''" },
	{ "echo a\\ b", 0, "'echo' 'a b'" },
	{ "echo \"a\\\"b\\\\c\\d\"", 0, "'echo' 'a\"b\\c\\d'" },
	/* what bash would run as code but the parser read as text stays text */
	{ "echo $[1+1]", ALL_C, NULL },			/* arithmetic: refused */
	{ "echo $", 0, "'echo' '$'" },
	{ "time ! ls", ALL_C, NULL },			/* the time keyword: refused */
	{ "\\time ls", 0, "'time' 'ls'" },
	{ "echo {fd}", 0, "'echo' '{fd}'" },
	{ "printf -v 'a[$(id)]' x", 0, "'printf' '-v' 'a[$(id)]' 'x'" },
	{ "echo a\\\nb", 0, NULL },	/* continuation inside a word: refused */
	{ "echo \"a\\\nb\"", 0, NULL },
	{ "echo a \\\n b", 0, "'echo' 'a' 'b'" },	/* between words: a blank */
	{ "echo \r", 0, "'echo' '\r'" },
	{ "echo \xc3\xa9t\xc3\xa9", 0, "'echo' '\xc3\xa9t\xc3\xa9'" },
	{ "echo x=1", 0, "'echo' 'x=1'" },
	{ "echo a#b", 0, "'echo' 'a#b'" },
	{ "echo hi # rm -rf /", 0, "'echo' 'hi'" },
	/* operators come from the parse */
	{ "ls; id", 0, "'ls'; 'id'" },
	{ "ls && id || uptime", 0, "'ls' && 'id' || 'uptime'" },
	{ "ls | grep x", 0, "'ls' | 'grep' 'x'" },
	{ "ls |& grep x", 0, "'ls' |& 'grep' 'x'" },
	{ "ls\nid", 0, "'ls'\n'id'" },
	{ "ls &", POL_C_BACKGROUND, "'ls' & " },
	{ "ls &", 0, NULL },
	/* globs stay globs, and only globs */
	{ "ls *.log", 0, "'ls' *'.log'" },
	{ "ls /var/log/sys?og", 0, "'ls' '/var/log/sys'?'og'" },
	{ "ls [ab]*", 0, "'ls' [ab]*" },
	{ "ls [!a-c]x", 0, "'ls' [!a-c]'x'" },
	{ "ls '*'", 0, "'ls' '*'" },
	{ "ls \\*", 0, "'ls' '*'" },
	{ "ls [a$b]", ALL_C, "'ls' '[a'$b']'" },
	/* brace and tilde */
	{ "echo {a,b}", POL_C_BRACE, "'echo' {'a','b'}" },
	{ "echo {1..3}", POL_C_BRACE, "'echo' {'1'..'3'}" },
	{ "echo a,b x.y", 0, "'echo' 'a,b' 'x.y'" },
	{ "echo {a,b}", 0, NULL },
	{ "cat ~/x", 0, "'cat' ~/'x'" },
	{ "cat ~root/.ssh/k", 0, "'cat' ~root/'.ssh/k'" },
	{ "cat ~", 0, "'cat' ~" },
	{ "cat ~'root'", 0, "'cat' ~'root'" },
	{ "cat x~", 0, "'cat' 'x~'" },
	/* expansions the policy permitted */
	{ "echo $HOME", POL_C_VARIABLE, "'echo' $HOME" },
	{ "echo \"$HOME\"x", POL_C_VARIABLE, "'echo' \"$HOME\"'x'" },
	{ "echo ${HOME}/a", POL_C_VARIABLE, "'echo' ${HOME}'/a'" },
	{ "echo ${x:-a b}", POL_C_VARIABLE, "'echo' ${x:-a b}" },
	{ "echo $1 $@ $?", POL_C_VARIABLE, "'echo' $1 $@ $?" },
	{ "echo $HOME", 0, NULL },
	{ "echo ${x[0]}", ALL_C, NULL },
	{ "echo ${!x}", ALL_C, NULL },
	{ "echo ${x@P}", ALL_C, NULL },
	{ "echo ${x:0:y}", ALL_C, NULL },
	{ "echo ${x/a/b}", ALL_C, NULL },
	{ "X=1 env", POL_C_ASSIGN, "X='1' 'env'" },
	{ "X='a b' Y=$Z env", POL_C_ASSIGN | POL_C_VARIABLE, "X='a b' Y=$Z 'env'" },
	{ "X=~/bin env", POL_C_ASSIGN, NULL },		/* bash expands ~ after = */
	{ "echo $(id -u)", POL_C_SUBST, "'echo' $('id' '-u')" },
	{ "echo \"$(id)\"", POL_C_SUBST, "'echo' \"$('id')\"" },
	{ "echo `id`", POL_C_BACKTICK, "'echo' $('id')" },
	{ "echo $(echo $(id))", POL_C_SUBST, "'echo' $('echo' $('id'))" },
	{ "echo $(ls # )\n)", POL_C_SUBST, NULL },
	{ "diff <(ls a) >(cat)", POL_C_PROCSUBST, "'diff' <('ls' 'a') >('cat')" },
	{ "echo $(id)", 0, NULL },
	/* redirections */
	{ "ls > out", POL_C_REDIRECT, "'ls' >'out'" },
	{ "ls 2>>'my log'", POL_C_REDIRECT, "'ls' 2>>'my log'" },
	{ "ls 2>&1 >/dev/null", 0, "'ls' 2>&1 >'/dev/null'" },
	{ "ls 1>&-", 0, "'ls' 1>&-" },
	{ "ls &> out", POL_C_REDIRECT, "'ls' &>'out'" },
	{ "ls > out", 0, NULL },
	{ "ls >$f", POL_C_REDIRECT | POL_C_VARIABLE, "'ls' >$f" },
	{ "cat <<<word", POL_C_HEREDOC, "'cat' <<<'word'" },
	{ "cat <<EOF\nhello\nEOF", POL_C_HEREDOC, "'cat' <<EOF\nhello\nEOF\n" },
	{ "cat <<'E' | grep x\n$(rm)\nE", POL_C_HEREDOC, "'cat' <<'E' | 'grep' 'x'\n$(rm)\nE\n" },
	{ "cat <<-EOF\n\tx\n\tEOF\nls", POL_C_HEREDOC, "'cat' <<-EOF\n\tx\nEOF\n'ls'" },
	{ "cat <<EOF\n$HOME\nEOF", POL_C_HEREDOC | POL_C_VARIABLE, "'cat' <<EOF\n$HOME\nEOF\n" },
	{ "cat <<EOF\n$[1]\nEOF", ALL_C, NULL },
	{ "cat <<EOF\n${a[$x]}\nEOF", ALL_C, NULL },
	{ "cat <<E\"F\"\nx\nEF", POL_C_HEREDOC, "'cat' <<'EF'\nx\nEF\n" },
	/* anything the parser does not understand is refused */
	{ "if true; then ls; fi", ALL_C, NULL },
	{ "(ls)", ALL_C, NULL },
	{ "echo $'\\x41'", ALL_C, NULL },
	{ "echo 'unterminated", ALL_C, NULL },
};

/* Backquotes are rebuilt as $(...). */
static unsigned
norm_c(unsigned c)
{
	return (c & POL_C_BACKTICK) ? (c & ~POL_C_BACKTICK) | POL_C_SUBST : c;
}

/* Compares two parses command by command (top level and nested). */
static void
same_parse(const char *line, const struct pol_cmdline *a, const struct pol_cmdline *b)
{
	if (a->nsimple != b->nsimple) {
		print_error("'%s': %zu commands, rendered gives %zu\n", line, a->nsimple, b->nsimple);
		fail();
	}
	for (size_t i = 0; i < a->nsimple; i++) {
		const struct pol_simple *x = &a->simple[i], *y = &b->simple[i];
		assert_int_equal(x->nwords, y->nwords);
		assert_int_equal(x->nassign, y->nassign);
		assert_int_equal(x->nredirs, y->nredirs);
		assert_int_equal(x->depth, y->depth);
		/* the rendering may only take away: a '[' the parser counted as a
		 * glob to be safe reaches the shell quoted */
		unsigned cx = norm_c(x->constructs), cy = norm_c(y->constructs);
		if ((cy & ~cx) != 0 || ((cx ^ cy) & ~(POL_C_COMMENT | POL_C_GLOB)) != 0) {
			print_error("'%s': constructs %#x became %#x\n", line, x->constructs,
			    y->constructs);
			fail();
		}
		for (size_t k = 0; k < x->nwords; k++) {
			/* a substitution's text is its rebuilt body; the commands in
			 * it are compared as commands */
			if (!(x->words[k].flags & POL_W_SUBST) && (x->words[k].len != y->words[k].len ||
			    memcmp(x->words[k].s, y->words[k].s, x->words[k].len) != 0)) {
				print_error("'%s': word %zu '%s' became '%s'\n", line, k,
				    x->words[k].s, y->words[k].s);
				fail();
			}
			unsigned fx = x->words[k].flags & ~POL_W_QUOTED;
			unsigned fy = y->words[k].flags & ~POL_W_QUOTED;
			if ((fy & ~fx) != 0 || ((fx ^ fy) & ~POL_W_GLOB) != 0) {
				print_error("'%s': word %zu flags %#x became %#x\n", line, k, fx, fy);
				fail();
			}
		}
		for (size_t k = 0; k < x->nassign; k++)
			assert_string_equal(x->assign[k], y->assign[k]);
		for (size_t k = 0; k < x->nredirs; k++) {
			assert_string_equal(x->redirs[k].op, y->redirs[k].op);
			assert_string_equal(x->redirs[k].target, y->redirs[k].target);
		}
	}
}

static void
test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct pol_cmdline *c;
		char *out = NULL;
		(void)pol_cmdline_parse(r->line, strlen(r->line), &c);
		assert_non_null(c);
		int rc = pol_render(c, r->line, strlen(r->line), r->permitted, &out);
		if (r->want == NULL) {
			if (rc == 0) {
				print_error("'%s' rendered as '%s', expected a refusal\n", r->line, out);
				fail();
			}
			assert_null(out);
			pol_cmdline_free(c);
			continue;
		}
		if (rc != 0) {
			print_error("'%s' refused (%d), expected '%s'\n", r->line, rc, r->want);
			fail();
		}
		if (strcmp(out, r->want) != 0) {
			print_error("'%s' rendered as '%s', expected '%s'\n", r->line, out, r->want);
			fail();
		}
		/* the rendered line parses to what the policy saw */
		struct pol_cmdline *c2;
		assert_int_equal(pol_cmdline_parse(out, strlen(out), &c2), 0);
		same_parse(r->line, c, c2);
		/* and renders to itself */
		char *again = NULL;
		assert_int_equal(pol_render(c2, out, strlen(out), norm_c(r->permitted), &again), 0);
		assert_string_equal(again, out);
		free(again);
		pol_cmdline_free(c2);
		pol_cmdline_free(c);
		free(out);
	}
}

/* Through the engine: an allowed line carries its rendering, a denied one
 * none, and a line the renderer cannot rebuild is denied. */
static const char policy_text[] =
    "user alice {\n"
    "    key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq8vHn8zRhwYkGJZ0xZV1WvF5qZ0qv0q3r8b7h2gq1x a\"\n"
    "}\n"
    "target web01 {\n    address 127.0.0.1:22\n}\n"
    "rule r {\n"
    "    who user:alice\n    where *\n    exec yes\n"
    "    construct variable\n"
    "    allow \"echo ...\"\n"
    "    allow \"cat /var/log/*\"\n"
    "    deny \"rm ...\"\n"
    "}\n";

static void
test_decide_renders(void **state)
{
	(void)state;
	struct policy *p = NULL;
	assert_int_equal(policy_load_buffer("t.conf", policy_text, strlen(policy_text), 0, &p,
	    NULL), 0);
	struct pol_decision d;
	const char *line = "echo \"$HOME\" 'a b'";
	assert_int_equal(policy_decide_for(p, "alice", "web01", line, strlen(line),
	    POL_ANYTIME, &d), 0);
	assert_int_equal(d.verdict, POL_ALLOW);
	assert_string_equal(d.rendered, "'echo' \"$HOME\" 'a b'");
	pol_decision_free(&d);

	line = "echo hi; rm -rf /";
	assert_int_equal(policy_decide_for(p, "alice", "web01", line, strlen(line),
	    POL_ANYTIME, &d), 0);
	assert_int_equal(d.verdict, POL_DENY);
	assert_null(d.rendered);
	pol_decision_free(&d);

	/* parses, is allowed word by word, but ${x[...]} is refused */
	line = "echo ${x[$(id)]}";
	assert_int_equal(policy_decide_for(p, "alice", "web01", line, strlen(line),
	    POL_ANYTIME, &d), 0);
	assert_int_equal(d.verdict, POL_DENY);
	assert_null(d.rendered);
	pol_decision_free(&d);
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_decide_renders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
