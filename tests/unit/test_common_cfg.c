/* Unit tests for common/cfg, the table-driven configuration reader both
 * daemons use: the repeat rule, every problem reported in one read as
 * FILE:LINE: message, quoting, argument counts and the error buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cfg.h"
#include "common/esc_error.h"

/* What the test table's handlers saw. */
struct seen {
	char name[8][64];	/* Name's argument, per call */
	int nname;
	char items[8][64];	/* Item's arguments, joined by '|' */
	int nitem;
	int fail_at;		/* Oom: return ESC_ENOMEM */
};

static int
kw_name(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct seen *s = obj;

	(void)k, (void)ac;
	if (strcmp(av[0], "bad") == 0)
		return cfg_error(p, "Name: \"%s\" is not allowed", av[0]);
	snprintf(s->name[s->nname++ & 7], 64, "%s", av[0]);
	return ESC_OK;
}

static int
kw_item(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct seen *s = obj;
	char *o = s->items[s->nitem++ & 7];

	(void)p, (void)k;
	o[0] = '\0';
	for (int i = 0; i < ac; i++)
		snprintf(o + strlen(o), 64 - strlen(o), "%s%s", i ? "|" : "", av[i]);
	return ESC_OK;
}

static int
kw_oom(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	(void)p, (void)k, (void)obj, (void)av, (void)ac;
	return ESC_ENOMEM;
}

static const struct cfg_keyword table[] = {
	{ "Name", kw_name, 1, 1, 0, "exactly one argument", 0 },
	{ "Item", kw_item, 1, 3, 1, "1 to 3 arguments", 0 },
	{ "Oom", kw_oom, 0, 0, 0, "no arguments", 0 },
};
#define NTAB (sizeof(table) / sizeof(table[0]))

#define FILE_NAME "/etc/test.conf"

/* Reads text through the table; returns cfg_read_stream's result. */
static int
read_text(struct cfg *p, const char *text, char *err, size_t errlen,
    struct seen *s)
{
	FILE *f;
	int rc;

	memset(s, 0, sizeof(*s));
	cfg_init(p, FILE_NAME, err, errlen);
	assert_non_null(f = fmemopen((void *)text, strlen(text), "r"));
	rc = cfg_read_stream(p, f, table, NTAB, s);
	fclose(f);
	return rc;
}

/* A keyword given twice is an error naming both lines, unless its row is
 * repeatable; the first use stays in force. */
static void
test_repeat_rule(void **state)
{
	struct cfg p;
	struct seen s;
	char err[512];

	(void)state;
	assert_int_equal(read_text(&p, "Name a\n# comment\nname b\n", err,
	    sizeof(err), &s), ESC_OK);
	assert_int_equal(cfg_nerrors(&p), 1);
	assert_string_equal(err, FILE_NAME ":3: Name given twice (first at line 1)");
	assert_int_equal(s.nname, 1);
	assert_string_equal(s.name[0], "a");
	assert_int_equal(cfg_seen(&p, "NAME"), 1);

	assert_int_equal(read_text(&p, "Item a\nItem b c\nItem d\n", err,
	    sizeof(err), &s), ESC_OK);
	assert_int_equal(cfg_nerrors(&p), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.nitem, 3);
	assert_string_equal(s.items[1], "b|c");
	assert_int_equal(cfg_seen(&p, "Item"), 1);
	assert_int_equal(cfg_seen(&p, "Name"), 0);
	assert_int_equal(cfg_seen(&p, "Nonesuch"), 0);
}

/* Every problem of the file is reported in one read, in file order, one
 * FILE:LINE: message a line; good lines among them still take effect. */
static void
test_all_errors_at_once(void **state)
{
	static const char text[] =
	    "Colour blue\n"			/* 1: unknown */
	    "Item\n"				/* 2: too few */
	    "Item a b c d\n"			/* 3: too many */
	    "Name bad\n"			/* 4: the handler refuses */
	    "Item ok\n"				/* 5: fine */
	    "Name \"open\n"			/* 6: unterminated */
	    "Name \"x\"y\n"			/* 7: text after the quote */
	    "Item ok too\n"			/* 8: fine */
	    "Name again\n";			/* 9: twice: a refused use counts */
	static const char *const want[] = {
	    FILE_NAME ":1: unknown keyword \"Colour\"",
	    FILE_NAME ":2: Item takes 1 to 3 arguments",
	    FILE_NAME ":3: Item takes 1 to 3 arguments",
	    FILE_NAME ":4: Name: \"bad\" is not allowed",
	    FILE_NAME ":6: unterminated quoted string",
	    FILE_NAME ":7: text after closing quote",
	    FILE_NAME ":9: Name given twice (first at line 4)",
	};
	struct cfg p;
	struct seen s;
	char err[2048], *line, *next;
	size_t i;

	(void)state;
	assert_int_equal(read_text(&p, text, err, sizeof(err), &s), ESC_OK);
	assert_int_equal(cfg_nerrors(&p), 7);
	line = err;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_non_null(line);
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		assert_string_equal(line, want[i]);
		line = next;
	}
	assert_null(line);		/* no trailing newline, nothing more */
	assert_int_equal(s.nitem, 2);
	assert_string_equal(s.items[0], "ok");
	assert_string_equal(s.items[1], "ok|too");
	assert_int_equal(s.nname, 0);

	/* whole-file messages name the file only; cfg_error_at a line */
	assert_int_equal(cfg_line(&p), 0);
	assert_int_equal(cfg_error(&p, "no %s line", "Store"), ESC_ECONFIG);
	assert_int_equal(cfg_error_at(&p, 3, "late"), ESC_ECONFIG);
	assert_int_equal(cfg_nerrors(&p), 9);
}

/* Words: blanks separate, double quotes group (with \" and \\), '#' starts
 * a comment only at the start of a word, keywords are case-insensitive. */
static void
test_quoting(void **state)
{
	static const struct {
		const char *text, *want;
	} ok[] = {
		{ "Item a\tb  c\n", "a|b|c" },
		{ "  ITEM \"a b\"   # comment\n", "a b" },
		{ "item \"say \\\"hi\\\" \\\\ \\n\"\n", "say \"hi\" \\ \\n" },
		{ "Item \"\" x\n", "|x" },
		{ "Item a#b #c d\n", "a#b" },
		{ "Item /last/line/without/newline", "/last/line/without/newline" },
		{ "Item \"a\"\t\"b\"\r\n", "a|b" },
	};
	struct cfg p;
	struct seen s;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(read_text(&p, ok[i].text, err, sizeof(err), &s), ESC_OK);
		if (cfg_nerrors(&p) != 0 || s.nitem != 1 || strcmp(s.items[0], ok[i].want) != 0)
			fail_msg("case %zu: got \"%s\" (%s), want \"%s\"", i,
			    s.nitem ? s.items[0] : "", err, ok[i].want);
	}
	/* split on its own: too many words */
	{
		char line[CFG_WORDS_MAX * 2 + 8], *av[CFG_WORDS_MAX];
		size_t n = 0;

		for (int i = 0; i <= CFG_WORDS_MAX; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "w ");
		cfg_init(&p, FILE_NAME, err, sizeof(err));
		assert_int_equal(cfg_split(&p, line, av, CFG_WORDS_MAX), ESC_ECONFIG);
		assert_string_equal(err, FILE_NAME ": too many arguments");
	}
}

/* A line over CFG_LINE_MAX is one error, and the lines after it keep their
 * numbers. */
static void
test_long_line(void **state)
{
	struct cfg p;
	struct seen s;
	char err[512], *text;
	size_t n = CFG_LINE_MAX * 2 + 100;

	(void)state;
	assert_non_null(text = malloc(n + 64));
	memset(text, 'x', n);
	memcpy(text, "Item ", 5);
	snprintf(text + n, 64, "\nName after\n");
	assert_int_equal(read_text(&p, text, err, sizeof(err), &s), ESC_OK);
	free(text);
	assert_int_equal(cfg_nerrors(&p), 1);
	assert_non_null(strstr(err, FILE_NAME ":1: line too long"));
	assert_int_equal(s.nitem, 0);
	assert_int_equal(s.nname, 1);
	assert_int_equal(cfg_seen(&p, "Name"), 2);
}

/* A full error buffer stays terminated and the count stays exact; a
 * message is never cut in the middle: those left out are counted in a last
 * line. */
static void
test_small_error_buffer(void **state)
{
	struct cfg p;
	struct seen s;
	char err[120];

	(void)state;
	memset(err, 'z', sizeof(err));
	assert_int_equal(read_text(&p, "A\nB\nC\nD\n", err, sizeof(err), &s), ESC_OK);
	assert_int_equal(cfg_nerrors(&p), 4);
	assert_true(memchr(err, '\0', sizeof(err)) != NULL);
	assert_string_equal(err, FILE_NAME ":1: unknown keyword \"A\"\n"
	    FILE_NAME ": 3 more problems not shown");
	memset(err, 'z', 40);
	assert_int_equal(read_text(&p, "A\nB\n", err, 40, &s), ESC_OK);
	assert_int_equal(cfg_nerrors(&p), 2);
	assert_true(memchr(err, '\0', 40) != NULL);
	assert_null(strstr(err, "unknown keyword \"B"));
}

/* ESC_ENOMEM from a handler stops the read; a missing file is ESC_EIO with
 * "FILE: reason"; a real file is read by name. */
static void
test_stop_and_files(void **state)
{
	struct cfg p;
	struct seen s;
	char err[512], path[] = "/tmp/test_common_cfg.XXXXXX";
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(read_text(&p, "Oom\nColour x\n", err, sizeof(err), &s), ESC_ENOMEM);
	assert_int_equal(cfg_nerrors(&p), 0);

	cfg_init(&p, "/nonexistent/x.conf", err, sizeof(err));
	assert_int_equal(cfg_read(&p, table, NTAB, &s), ESC_EIO);
	assert_string_equal(err, "/nonexistent/x.conf: No such file or directory");

	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("Name one\nName two\n", f);
	fclose(f);
	memset(&s, 0, sizeof(s));
	cfg_init(&p, path, err, sizeof(err));
	assert_int_equal(cfg_read(&p, table, NTAB, &s), ESC_OK);
	unlink(path);
	assert_int_equal(cfg_nerrors(&p), 1);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_string_equal(err + strlen(path), ":2: Name given twice (first at line 1)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeat_rule),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_stop_and_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
