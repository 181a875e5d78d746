/* Unit tests: the search index's file and questions (replay/search_index.h):
 * which patterns a record's word list can rule out (a table), records
 * written and read back (escaped values, the file's stamp), and files that
 * must never be believed (a flipped byte, cut short, another magic, ids out
 * of order, a checksum that matches a malformed body). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "recorder/seal.h"
#include "replay/search_index.h"

static char *
dup_str(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

/* An index in memory with one record of the given body. */
static struct search_index *
one(const char *body)
{
	struct search_index *x;
	char note[256];

	assert_int_equal(search_index_open("/nonexistent-store", &x, note,
	    sizeof(note)), 0);
	assert_string_equal(note, "");
	assert_int_equal(search_index_add(x, "s1", 100, 7, 5, dup_str(body),
	    strlen(body)), 0);
	return x;
}

static void
test_text_may(void **state)
{
	static const struct { const char *body; char kind; const char *pat; int may; } t[] = {
		{ "i crontab e \no up \n", 'i', "crontab -e", 1 },
		{ "i crontab e \no up \n", 'i', "crontab -l", 0 },
		{ "i crontab e \no up \n", 'i', "ontab", 1 },	/* inside a word */
		{ "i crontab e \no up \n", 'i', "cron", 1 },
		{ "i crontab e \no up \n", 'i', "ntab -e", 1 },	/* a word's end */
		{ "i crontab e \no up \n", 'i', "tab -e", 1 },	/* "e": a start */
		{ "i crontab e \no up \n", 'i', "tab -ex", 0 },	/* no word starts "ex" */
		{ "i crontab e \no up \n", 'i', "tab -x", 0 },
		{ "i crontab e \no up \n", 'i', "cron tab", 0 },	/* "cron" must end a word */
		{ "i crontab e \no up \n", 'i', "up", 0 },		/* that is output */
		{ "i crontab e \no up \n", 'o', "up", 1 },
		{ "i crontab e \no up \n", 'o', " - ", 1 },	/* no word: cannot say */
		{ "i crontab e \no up \n", 'i', "i", 0 },		/* not the line's key */
		{ "i crontab e \no up \n", 'i', "e", 1 },
		{ "i crontab e \no up \nI\n", 'i', "zzz", 1 },	/* incomplete */
		{ "i crontab e \no up \nO\n", 'i', "zzz", 0 },
		{ "i crontab e \no up \nO\n", 'o', "zzz", 1 },
		{ "u alice\n", 'i', "zzz", 1 },			/* no word list */
		{ "i \xc3\xa9t\xc3\xa9 \no \n", 'i', "\xc3\xa9t\xc3\xa9!", 1 },
		{ "i \xc3\xa9t\xc3\xa9 \no \n", 'i', "t\xc3\xa9", 1 },
		{ "i \xc3\xa9t\xc3\xa9 \no \n", 'o', "t", 0 },
	};
	const struct search_index_rec *r;
	struct search_index *x;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		x = one(t[i].body);
		assert_non_null(r = search_index_find(x, "s1", 100, 7));
		if (search_index_text_may(r, t[i].kind, t[i].pat, strlen(t[i].pat)) !=
		    t[i].may)
			fail_msg("row %zu: %c \"%s\" in \"%s\": want %d", i, t[i].kind,
			    t[i].pat, t[i].body, t[i].may);
		search_index_free(x);
	}
}

static int
collect(void *arg, const char *v)
{
	char *out = arg;

	strcat(out, v);
	strcat(out, "|");
	return 0;
}

static char dir[64];

static void
path_of(char *out, size_t n)
{
	snprintf(out, n, "%s/.index/search-v1", dir);
}

/* Writes body and (when sum) its checksum line as the index file. */
static void
write_index(const char *body, int sum)
{
	uint8_t d[SEAL_HASH_LEN];
	char path[128];
	FILE *f;
	int i;

	path_of(path, sizeof(path));
	assert_non_null(f = fopen(path, "w"));
	fputs(body, f);
	if (sum) {
		seal_sha256(body, strlen(body), d);
		fputs("# sha256 ", f);
		for (i = 0; i < SEAL_HASH_LEN; i++)
			fprintf(f, "%02x", d[i]);
		fputs("\n", f);
	}
	fclose(f);
}

/* Opens the store's index; returns its record count, the note in note. */
static size_t
reopen(char *note, size_t n)
{
	struct search_index *x;
	size_t k;

	assert_int_equal(search_index_open(dir, &x, note, n), 0);
	k = search_index_count(x);
	search_index_free(x);
	return k;
}

static void
test_written_and_read_back(void **state)
{
	const struct search_index_rec *r;
	struct search_index *x;
	char note[512], got[256] = "";

	(void)state;
	x = one("u al%0Aice\nc rm -rf %25x\nc ls\ni ls \no \n");
	assert_int_equal(search_index_add(x, "s0", 9, 9, 9, dup_str("u bob\n"), 6), 0);
	assert_int_equal(search_index_save(dir, x, note, sizeof(note)), 0);
	search_index_free(x);
	assert_int_equal(search_index_open(dir, &x, note, sizeof(note)), 0);
	assert_string_equal(note, "");
	assert_int_equal(search_index_count(x), 2);
	assert_null(search_index_find(x, "s1", 101, 7));	/* the file grew */
	assert_null(search_index_find(x, "s1", 100, 8));	/* it changed */
	assert_non_null(r = search_index_find(x, "s1", 100, 7));
	assert_int_equal(r->start, 5);
	search_index_each(r, 'c', collect, got);
	assert_string_equal(got, "rm -rf %x|ls|");
	search_index_get(r, 'u', got, sizeof(got));
	assert_string_equal(got, "al\nice");
	assert_non_null(r = search_index_find(x, "s0", 9, 9));
	search_index_get(r, 'u', got, sizeof(got));
	assert_string_equal(got, "bob");
	search_index_free(x);
}

static void
test_never_believed(void **state)
{
	static const char good[] = "escort-replay-index 1\n@a 1 2 3\nu x\n.\n"
	    "@b 1 2 3\nu y\n.\n";
	static const struct { const char *body; int sum; const char *why; } t[] = {
		{ good, 0, "no checksum line" },
		{ "escort-replay-index 2\n@a 1 2 3\nu x\n.\n", 1, "not an index" },
		{ "escort-replay-index 1\n@b 1 2 3\n.\n@a 1 2 3\n.\n", 1, "not an index" },
		{ "escort-replay-index 1\n@a 1 2\n.\n", 1, "not an index" },
		{ "escort-replay-index 1\n@../a 1 2 3\n.\n", 1, "not an index" },
		{ "escort-replay-index 1\n@a 1 2 3\nu x\n", 1, "not an index" },
	};
	char note[512], path[128];
	size_t i;
	FILE *f;

	(void)state;
	write_index(good, 1);
	assert_int_equal(reopen(note, sizeof(note)), 2);
	assert_string_equal(note, "");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		write_index(t[i].body, t[i].sum);
		if (reopen(note, sizeof(note)) != 0 || strstr(note, t[i].why) == NULL)
			fail_msg("row %zu: note \"%s\", want \"%s\"", i, note, t[i].why);
	}
	/* a flipped byte */
	write_index(good, 1);
	path_of(path, sizeof(path));
	assert_non_null(f = fopen(path, "r+"));
	fseek(f, 25, SEEK_SET);
	fputc('b', f);
	fclose(f);
	assert_int_equal(reopen(note, sizeof(note)), 0);
	assert_non_null(strstr(note, "checksum does not match"));
	/* cut short */
	assert_int_equal(truncate(path, 30), 0);
	assert_int_equal(reopen(note, sizeof(note)), 0);
	assert_non_null(strstr(note, "damaged"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_may),
		cmocka_unit_test(test_written_and_read_back),
		cmocka_unit_test(test_never_believed),
	};
	char sub[96];
	int r;

	snprintf(dir, sizeof(dir), "/tmp/test-search-index-%ld", (long)getpid());
	snprintf(sub, sizeof(sub), "%s/.index", dir);
	if (mkdir(dir, 0700) != 0 || mkdir(sub, 0700) != 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	if (system(sub) != 0)
		r = 1;
	return r;
}
