/* argv_trace: the stand-in for every external command in the differential
 * test (tests/diff/bash_diff.py links it under each command name).  It runs
 * nothing: it writes its argv as one record to the file descriptor named by
 * ESCORT_ARGV_FD (the harness's trace pipe) and exits 0, so that lists like
 * `a && b` go on as if `a` had succeeded.
 *
 * Record: "\001ARGV ID" (ID: the value of ESCORT_LINE, the number of the
 * command line being run, or "-") then " HEX" per argument, then "\n", in
 * one write()
 * (records longer than PIPE_BUF may interleave with other writers; the
 * harness then reports a decoding problem, never a wrong match).
 * No library but libc, linked statically (an exec per external command of
 * the corpus: no dynamic loader to run); built as
 * $(BUILD)/tools/pol-argv-trace. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	const char *e = getenv("ESCORT_ARGV_FD");
	if (e == NULL)
		return 0;
	int fd = atoi(e);
	const char *id = getenv("ESCORT_LINE");
	if (id == NULL || strlen(id) > 20 || strspn(id, "0123456789") != strlen(id) || !*id)
		id = "-";
	size_t n = 8 + strlen(id);
	for (int i = 0; i < argc; i++)
		n += 1 + 2 * strlen(argv[i]);
	char *rec = malloc(n + 1);
	if (rec == NULL)
		return 0;
	static const char hx[] = "0123456789abcdef";
	size_t k = 0;
	memcpy(rec, "\001ARGV ", 6);
	k = 6;
	memcpy(rec + k, id, strlen(id));
	k += strlen(id);
	for (int i = 0; i < argc; i++) {
		rec[k++] = ' ';
		for (const unsigned char *p = (const unsigned char *)argv[i]; *p; p++) {
			rec[k++] = hx[*p >> 4];
			rec[k++] = hx[*p & 15];
		}
	}
	rec[k++] = '\n';
	ssize_t w = write(fd, rec, k);
	(void)w;
	free(rec);
	return 0;
}
