/* Unit tests: scp exec command classification and scp_watch fed real
 * legacy scp streams (built byte by byte, and captured from OpenSSH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "proxy/px_error.h"
#include "policy/policy.h"
#include "proxy/xfer_scp.h"
#include "tests/unit/san.h"

/* ---- command lines ---------------------------------------------------- */

static void
test_cmd_classify(void **state)
{
	static const struct {
		const char *line;
		enum scp_cmd_kind kind;
		const char *path;
		int r, d;
	} t[] = {
		{ "scp -t /tmp", SCP_CMD_UPLOAD, "/tmp", 0, 0 },
		{ "scp -v -r -t -- /tmp", SCP_CMD_UPLOAD, "/tmp", 1, 0 },
		{ "scp -r -p -d -t /srv/x/", SCP_CMD_UPLOAD, "/srv/x/", 1, 1 },
		{ "scp -prdt /a", SCP_CMD_UPLOAD, "/a", 1, 1 },
		{ "/usr/bin/scp -f /etc/hosts", SCP_CMD_NONE, NULL, 0, 0 },
		{ "./scp -f /etc/hosts", SCP_CMD_NONE, NULL, 0, 0 },
		{ "'scp' -f /etc/hosts", SCP_CMD_DOWNLOAD, "/etc/hosts", 0, 0 },
		/* split by the policy's parser: '#' is no comment, an
		 * assignment prefix is a command, a continuation inside a word
		 * is refused */
		{ "scp -t #x", SCP_CMD_UPLOAD, "#x", 0, 0 },
		{ "scp -t '/a b' \\\n", SCP_CMD_UPLOAD, "/a b", 0, 0 },
		{ "X=1 scp -t /a", SCP_CMD_NONE, NULL, 0, 0 },
		{ "scp -t /a\\\nb", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t \"$HOME\"", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -f -- -odd-name", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t -- -f", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t -f", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t *", SCP_CMD_UPLOAD, "*", 0, 0 },
		{ "scp -f '/tmp/my file'", SCP_CMD_DOWNLOAD, "/tmp/my file", 0, 0 },
		{ "scp -f '/tmp/my file' /tmp/b", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -f \"/tmp/q\\\"x\"", SCP_CMD_DOWNLOAD, "/tmp/q\"x", 0, 0 },
		{ "scp -f /tmp/*.log", SCP_CMD_DOWNLOAD, "/tmp/*.log", 0, 0 },
		{ "  scp   -t\t/tmp  ", SCP_CMD_UPLOAD, "/tmp", 0, 0 },
		{ "scp -P 22 -t /tmp", SCP_CMD_NONE, NULL, 0, 0 },	/* exec policy */
		{ "scp -oFoo=bar -t /tmp", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -S /tmp/x -t /tmp", SCP_CMD_NONE, NULL, 0, 0 },
		{ "scp -t ''", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t /tmp; rm -rf /", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t $(id)", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t `id`", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t /a | sh", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t /a > /etc/x", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t '/a", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t /a /b", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t -f /a", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -tf /a", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -t", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -Z -t /a", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -f /a -t", SCP_CMD_INVALID, NULL, 0, 0 },
		{ "scp -i key host:x .", SCP_CMD_NONE, NULL, 0, 0 },
		{ "scp a b", SCP_CMD_NONE, NULL, 0, 0 },
		{ "scpx -t /tmp", SCP_CMD_NONE, NULL, 0, 0 },
		{ "uptime", SCP_CMD_NONE, NULL, 0, 0 },
		{ "echo scp -t /tmp", SCP_CMD_NONE, NULL, 0, 0 },
		{ "ls; scp -t /x", SCP_CMD_NONE, NULL, 0, 0 },
		{ "", SCP_CMD_NONE, NULL, 0, 0 },
	};
	struct scp_cmd c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(scp_cmd_parse(t[i].line, &c), PX_OK);
		if (c.kind != t[i].kind)
			fail_msg("\"%s\": kind %d, want %d", t[i].line, c.kind,
			    t[i].kind);
		if (t[i].path != NULL)
			assert_string_equal(c.path, t[i].path);
		if (t[i].kind == SCP_CMD_INVALID)
			assert_non_null(c.reason);
		if (t[i].kind == SCP_CMD_UPLOAD) {
			assert_int_equal(c.recursive, t[i].r);
			assert_int_equal(c.dir_target, t[i].d);
		}
		scp_cmd_free(&c);
	}
}

/* The command sent to the target is rebuilt: only understood options,
 * "--", every path single-quoted. */
static void
test_cmd_render(void **state)
{
	static const struct {
		const char *line, *want;
	} t[] = {
		{ "scp -t *", "scp -t -- '*'" },
		{ "scp -v -r -p -d -t -- /tmp/a b", NULL },
		{ "scp -v -r -p -d -t -- '/tmp/a b'", "scp -v -r -p -d -t -- '/tmp/a b'" },
		{ "scp -f \"/tmp/it's\"", "scp -f -- '/tmp/it'\\''s'" },
		{ "scp -pt ~/x", "scp -p -t -- 'x'" },
		{ "scp -t ~", "scp -t -- '.'" },
		{ "scp -t .", "scp -t -- '.'" },
		{ "scp -f '$(id)'", "scp -f -- '$(id)'" },
	};
	struct scp_cmd c;
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(scp_cmd_parse(t[i].line, &c), PX_OK);
		if (t[i].want == NULL) {
			assert_int_equal(c.kind, SCP_CMD_INVALID);
			assert_int_equal(scp_cmd_render(&c, &out), PX_EINVAL);
		} else {
			assert_int_equal(scp_cmd_render(&c, &out), PX_OK);
			if (strcmp(out, t[i].want) != 0)
				fail_msg("\"%s\": rendered %s, want %s", t[i].line, out,
				    t[i].want);
			free(out);
		}
		scp_cmd_free(&c);
	}
}

/* ---- a channel under test --------------------------------------------- */

struct chan {
	struct scp_watch *w;
	struct xfer_record *rec[32];
	size_t nrec;
};

static void
take(struct chan *c)
{
	struct xfer_record *r;

	while ((r = scp_watch_take_record(c->w)) != NULL) {
		assert_true(c->nrec < 32);
		c->rec[c->nrec++] = r;
	}
}

static void
chan_open(struct chan *c, const char *cmdline, size_t limit)
{
	struct scp_cmd cmd;

	memset(c, 0, sizeof(*c));
	assert_int_equal(scp_cmd_parse(cmdline, &cmd), PX_OK);
	c->w = scp_watch_new(&cmd, limit);
	scp_cmd_free(&cmd);
	assert_non_null(c->w);
}

static void
chan_close(struct chan *c)
{
	size_t i;

	scp_watch_free(c->w);
	for (i = 0; i < c->nrec; i++)
		xfer_record_free(c->rec[i]);
}

static int
cl(struct chan *c, const void *p, size_t n)
{
	int r = scp_watch_client(c->w, p, n);

	take(c);
	return r;
}

static int
sv(struct chan *c, const void *p, size_t n)
{
	int r = scp_watch_server(c->w, p, n);

	take(c);
	return r;
}

#define CL(c, s) cl(c, s, sizeof(s) - 1)
#define SV(c, s) sv(c, s, sizeof(s) - 1)

static void
hex(const void *d, size_t n, char out[65])
{
	uint8_t md[32];
	int i;

	SHA256(d, n, md);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* One file up into a directory target, with -p times. */
static void
test_upload_one_file(void **state)
{
	struct chan c;
	char want[65];

	(void)state;
	chan_open(&c, "scp -p -t /tmp/", 1 << 20);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "T1700000000 0 1700000000 0\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0640 11 hello.txt\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "hello "), PX_OK);
	assert_int_equal(CL(&c, "world\0"), PX_OK);
	assert_int_equal(c.nrec, 0);		/* not acknowledged yet */
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->op, XFER_OP_FILE);
	assert_int_equal(c.rec[0]->dir, XFER_DIR_UPLOAD);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_OK);
	assert_string_equal(c.rec[0]->path, "/tmp/hello.txt");
	assert_string_equal(c.rec[0]->name, "hello.txt");
	assert_int_equal(c.rec[0]->file_mode, 0640);
	assert_int_equal(c.rec[0]->size, 11);
	hex("hello world", 11, want);
	assert_string_equal(c.rec[0]->sha256_hex, want);
	assert_int_equal(c.rec[0]->content_len, 11);
	assert_memory_equal(c.rec[0]->content, "hello world", 11);
	chan_close(&c);
}

/* A target without a trailing slash: the path is the target itself. */
static void
test_upload_plain_target(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, "scp -t /tmp/renamed", 4);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0644 6 orig\nabcdef\0"), PX_OK);
	assert_int_equal(SV(&c, "\0\0"), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_string_equal(c.rec[0]->path, "/tmp/renamed");
	assert_string_equal(c.rec[0]->name, "orig");
	assert_int_equal(c.rec[0]->content_len, 4);
	assert_int_equal(c.rec[0]->content_truncated, 1);
	chan_close(&c);
}

/* The sink refuses a file: its bytes never come, the next file is parsed
 * from the next line. */
static void
test_upload_refused_file(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, "scp -d -t /ro", 1 << 20);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0644 5 a\n"), PX_OK);
	assert_int_equal(SV(&c, "\1scp: /ro/a: Permission denied\n"), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_FAILED);
	assert_int_equal(c.rec[0]->status, 1);
	assert_string_equal(c.rec[0]->message, "scp: /ro/a: Permission denied");
	/* "C0644 2 b" would be file bytes had the refusal been missed */
	assert_int_equal(CL(&c, "C0644 2 b\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "xy\0"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(c.nrec, 2);
	assert_string_equal(c.rec[1]->path, "/ro/b");
	assert_int_equal(c.rec[1]->outcome, XFER_OUT_OK);
	assert_int_equal(c.rec[1]->size, 2);
	chan_close(&c);
}

/* The source sends its bytes before the sink's answer (not OpenSSH, but
 * legal on the wire): they are held until the answer says what they are. */
static void
test_source_ahead_of_ack(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, "scp -t /d/", 1 << 20);
	assert_int_equal(CL(&c, "C0644 3 f\nabc\0C0644 1 g\nz\0"), PX_OK);
	assert_int_equal(c.nrec, 0);
	assert_int_equal(SV(&c, "\0\0\0"), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_string_equal(c.rec[0]->path, "/d/f");
	assert_int_equal(SV(&c, "\0\0"), PX_OK);
	assert_int_equal(c.nrec, 2);
	assert_string_equal(c.rec[1]->path, "/d/g");
	chan_close(&c);
}

/* Recursive upload: D/E lines nest paths; MKDIR records. */
static void
test_upload_recursive(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, "scp -r -t /srv", 1 << 20);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "D0755 0 top\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0644 1 a\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "1\0"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "D0700 0 in\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0600 0 empty\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "E\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0644 1 b\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "2\0E\n"), PX_OK);
	assert_int_equal(SV(&c, "\0\0"), PX_OK);
	assert_int_equal(c.nrec, 5);
	assert_int_equal(c.rec[0]->op, XFER_OP_MKDIR);
	assert_string_equal(c.rec[0]->path, "/srv/top");
	assert_string_equal(c.rec[1]->path, "/srv/top/a");
	assert_string_equal(c.rec[2]->path, "/srv/top/in");
	assert_string_equal(c.rec[3]->path, "/srv/top/in/empty");
	assert_int_equal(c.rec[3]->size, 0);
	assert_string_equal(c.rec[3]->sha256_hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(c.rec[4]->path, "/srv/top/b");
	chan_close(&c);
}

/* Download: the server is the source; paths from the -f directory. */
static void
test_download(void **state)
{
	struct chan c;
	char want[65];

	(void)state;
	chan_open(&c, "scp -r -f /var/log/app/", 1 << 20);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "D0755 0 app\n"), PX_OK);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "C0644 4 x.log\n"), PX_OK);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "logs\0"), PX_OK);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "E\n"), PX_OK);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->dir, XFER_DIR_DOWNLOAD);
	assert_string_equal(c.rec[0]->path, "/var/log/app/x.log");
	hex("logs", 4, want);
	assert_string_equal(c.rec[0]->sha256_hex, want);
	assert_null(c.rec[0]->content);
	chan_close(&c);

	chan_open(&c, "scp -f notes.txt", 1 << 20);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "C0644 2 notes.txt\nhi\0"), PX_OK);
	assert_int_equal(CL(&c, "\0\0"), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_string_equal(c.rec[0]->path, "notes.txt");
	chan_close(&c);
}

/* The source cannot read its file part way: FAILED with its message. */
static void
test_source_read_error(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, "scp -f /f", 1 << 20);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "C0644 3 f\nab?"), PX_OK);
	assert_int_equal(SV(&c, "\1scp: /f: Input/output error\n"), PX_OK);
	assert_int_equal(c.nrec, 0);
	assert_int_equal(CL(&c, "\0\0"), PX_OK);	/* C line, then file */
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_FAILED);
	assert_string_equal(c.rec[0]->message, "scp: /f: Input/output error");
	chan_close(&c);
}

/* Channel closed mid-file: INCOMPLETE with the bytes seen so far. */
static void
test_finish_incomplete(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, "scp -t /t/", 1 << 20);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0644 100 big\n"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "0123456789"), PX_OK);
	scp_watch_finish(c.w);
	take(&c);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_INCOMPLETE);
	assert_int_equal(c.rec[0]->size, 10);
	assert_int_equal(c.rec[0]->content_len, 10);
	chan_close(&c);
}

/* Streams the OpenSSH sink would reject are errors naming the peer. */
static void
test_garbage(void **state)
{
	static const char *bad[] = {
		"X1 2 3\n", "C064 3 a\n", "C0644 x a\n", "C0644 3 ../a\n",
		"C0644 3 a/b\n", "C0644 3 ..\n", "T1 2 3\n", "E\n", "\n",
		"C0999 1 a\n", "C0644 99999999999999999999 a\n",
	};
	struct chan c;
	size_t i;
	char big[70000];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chan_open(&c, "scp -t /x/", 100);
		assert_int_equal(SV(&c, "\0"), PX_OK);
		if (cl(&c, bad[i], strlen(bad[i])) != PX_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(scp_watch_error(c.w), "scp client"));
		assert_int_equal(cl(&c, "C0644 1 a\n", 10), PX_EINVAL);
		chan_close(&c);
	}
	/* an endless line */
	memset(big, 'C', sizeof(big));
	chan_open(&c, "scp -t /x/", 100);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(cl(&c, big, sizeof(big)), PX_EINVAL);
	chan_close(&c);
	/* a source that never waits */
	chan_open(&c, "scp -t /x/", 100);
	assert_int_equal(cl(&c, big, sizeof(big)), PX_EINVAL);
	assert_non_null(strstr(scp_watch_error(c.w), "without waiting"));
	chan_close(&c);
	/* an answer that is neither \0, \1 nor \2 is fatal, as in scp */
	chan_open(&c, "scp -t /x/", 100);
	assert_int_equal(SV(&c, "\nscp: odd\n"), PX_OK);
	assert_int_equal(CL(&c, "C0644 1 a\n"), PX_OK);
	assert_int_equal(c.nrec, 0);
	chan_close(&c);
	/* a \2 fatal answer ends everything quietly */
	chan_open(&c, "scp -t /x/", 100);
	assert_int_equal(SV(&c, "\2scp: ambiguous target\n"), PX_OK);
	assert_int_equal(cl(&c, big, sizeof(big)), PX_OK);
	assert_int_equal(c.nrec, 0);
	chan_close(&c);
}

/* ---- captured OpenSSH streams ----------------------------------------- */

static uint8_t *
load(const char *name, size_t *n)
{
	char path[512];
	const char *dir = getenv("ESCORT_TEST_DATA");
	FILE *f;
	uint8_t *b;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/data",
	    name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (run from the source tree)", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)len + 1);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	b[len] = 0;
	fclose(f);
	*n = (size_t)len;
	return b;
}

/* Replays NAME.cap in pieces of at most chunk and checks NAME.expect. */
static void
golden(const char *name, size_t chunk)
{
	char fn[128], *exp, *line, *save = NULL, cmdline[1024] = "";
	uint8_t *cap;
	size_t ncap, nexp, i, k, matched = 0;
	struct chan c;

	snprintf(fn, sizeof(fn), "%s.expect", name);
	exp = (char *)load(fn, &nexp);
	for (line = strtok_r(exp, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "cmd ", 4) == 0)
			snprintf(cmdline, sizeof(cmdline), "%s", line + 4);
	free(exp);
	chan_open(&c, cmdline, 1 << 20);
	snprintf(fn, sizeof(fn), "%s.cap", name);
	cap = load(fn, &ncap);
	for (i = 1; i + 3 <= ncap; i += 3 + k) {
		size_t off;

		k = (size_t)cap[i + 1] << 8 | cap[i + 2];
		assert_true(i + 3 + k <= ncap);
		for (off = 0; off < k; off += chunk) {
			size_t m = k - off < chunk ? k - off : chunk;

			if (cap[i] == 'C')
				assert_int_equal(cl(&c, cap + i + 3 + off, m), PX_OK);
			else
				assert_int_equal(sv(&c, cap + i + 3 + off, m), PX_OK);
		}
	}
	free(cap);
	scp_watch_finish(c.w);
	take(&c);
	snprintf(fn, sizeof(fn), "%s.expect", name);
	exp = (char *)load(fn, &nexp);
	for (line = strtok_r(exp, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char dir[16], path[512], sha[65];
		unsigned long long size;

		if (sscanf(line, "file %15s %511s %llu %64s", dir, path, &size,
		    sha) != 4)
			continue;
		for (k = 0; k < c.nrec; k++)
			if (c.rec[k]->op == XFER_OP_FILE &&
			    strcmp(c.rec[k]->path, path) == 0)
				break;
		if (k == c.nrec)
			fail_msg("%s: no record for %s", name, path);
		assert_string_equal(xfer_dir_name(c.rec[k]->dir), dir);
		assert_int_equal(c.rec[k]->outcome, XFER_OUT_OK);
		assert_int_equal(c.rec[k]->size, size);
		assert_string_equal(c.rec[k]->sha256_hex, sha);
		matched++;
	}
	free(exp);
	assert_true(matched > 0);
	for (k = 0, i = 0; k < c.nrec; k++)
		i += c.rec[k]->op == XFER_OP_FILE;
	assert_int_equal(i, matched);
	chan_close(&c);
}

static void
test_captured_openssh(void **state)
{
	static const size_t chunks[] = { 65536, 4096, UNDER_SAN ? 61 : 7,
	    UNDER_SAN ? 13 : 1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		golden("scp_upload", chunks[i]);
		golden("scp_download", chunks[i]);
	}
}

/* A recursive upload replayed at every split point of one stream. */
static void
test_every_split_point(void **state)
{
	static const char src[] = "T1 0 1 0\nD0755 0 d\nC0644 5 f\nhello\0"
	    "C0644 0 g\n\0E\n";
	static const char snk[] = "\0\0\0\0\0\0\0\0";
	struct chan ref, c;
	size_t i, j, k;

	(void)state;
	chan_open(&ref, "scp -r -t /r", 1 << 20);
	assert_int_equal(sv(&ref, snk, sizeof(snk) - 1), PX_OK);
	assert_int_equal(cl(&ref, src, sizeof(src) - 1), PX_OK);
	assert_int_equal(ref.nrec, 3);
	for (i = 0; i <= sizeof(src) - 1; i++)
		for (j = 0; j <= sizeof(snk) - 1; j += 3) {
			chan_open(&c, "scp -r -t /r", 1 << 20);
			assert_int_equal(sv(&c, snk, j), PX_OK);
			assert_int_equal(cl(&c, src, i), PX_OK);
			assert_int_equal(sv(&c, snk + j, sizeof(snk) - 1 - j),
			    PX_OK);
			assert_int_equal(cl(&c, src + i, sizeof(src) - 1 - i),
			    PX_OK);
			assert_int_equal(c.nrec, ref.nrec);
			for (k = 0; k < c.nrec; k++) {
				assert_string_equal(c.rec[k]->path,
				    ref.rec[k]->path);
				assert_string_equal(c.rec[k]->sha256_hex,
				    ref.rec[k]->sha256_hex);
			}
			chan_close(&c);
		}
	chan_close(&ref);
}

/* ---- filter mode with the transfer rules of a real policy ---------------- */

static const char xfer_policy[] =
"user u {\n}\n"
"target t {\n    address 127.0.0.1\n}\n"
"rule vendors {\n    who user:u\n    where *\n    sftp both\n"
"    deny \"... */secret ...\"\n}\n";

static int
policy_check(void *ctx, enum pol_xfer_op op, const char *path, const char *path2,
    char *msg, size_t cap)
{
	struct pol_decision d;
	int ok;

	policy_decide_transfer(ctx, op, path, path2, POL_ANYTIME, &d);
	ok = d.verdict == POL_ALLOW;
	if (!ok)
		snprintf(msg, cap, "escort: %s", d.reason);
	pol_decision_free(&d);
	return ok;
}

/* Appends what the watcher released toward one side to out. */
static void
out_take(struct chan *c, int to_target, char *out, size_t *n)
{
	size_t k;
	const uint8_t *p = scp_watch_output(c->w, to_target, &k);

	memcpy(out + *n, p, k);
	*n += k;
	out[*n] = '\0';
	scp_watch_output_consume(c->w, to_target, k);
}

static void
test_filter_refuses_by_policy(void **state)
{
	struct policy *pol;
	struct pol_session *ps;
	struct xfer_check check = { policy_check, NULL };
	struct chan c;
	char to_t[4096], to_c[4096];
	size_t nt = 0, nc = 0;
	const char *rule = "\1escort: denied by rule 'vendors' (line 10): \"... */secret ...\"\n";

	(void)state;
	assert_int_equal(policy_load_buffer("t.conf", xfer_policy, sizeof(xfer_policy) - 1, 0,
	    &pol, NULL), 0);
	assert_int_equal(policy_admit(pol, "u", "t", POL_ANYTIME, &ps, NULL), 0);
	check.ctx = ps;
	/* upload into a target that may be a folder: the name inside is
	 * decided too */
	chan_open(&c, "scp -t /srv", 1 << 20);
	scp_watch_set_check(c.w, &check);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "C0644 3 secret\n"), PX_OK);
	out_take(&c, 1, to_t, &nt);
	out_take(&c, 0, to_c, &nc);
	assert_int_equal(nt, 0);			/* the target saw nothing */
	assert_int_equal(nc, 1 + strlen(rule));
	assert_memory_equal(to_c + 1, rule, strlen(rule));
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_DENIED);
	assert_string_equal(c.rec[0]->path, "/srv/secret");
	/* the client goes on with the next file, which passes */
	assert_int_equal(CL(&c, "C0644 3 ok.txt\n"), PX_OK);
	out_take(&c, 1, to_t, &nt);
	assert_string_equal(to_t, "C0644 3 ok.txt\n");
	assert_int_equal(SV(&c, "\0"), PX_OK);
	assert_int_equal(CL(&c, "abc\0"), PX_OK);
	assert_int_equal(SV(&c, "\0"), PX_OK);
	out_take(&c, 1, to_t, &nt);
	assert_int_equal(nt, 15 + 4);
	assert_int_equal(c.nrec, 2);
	assert_int_equal(c.rec[1]->outcome, XFER_OUT_OK);
	chan_close(&c);
	/* a download: the target's file is refused, both sides are told */
	nt = nc = 0;
	chan_open(&c, "scp -r -f /d", 1 << 20);
	scp_watch_set_check(c.w, &check);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "D0755 0 d\n"), PX_OK);
	assert_int_equal(CL(&c, "\0"), PX_OK);
	assert_int_equal(SV(&c, "C0600 5 secret\n"), PX_OK);
	out_take(&c, 1, to_t, &nt);
	out_take(&c, 0, to_c, &nc);
	assert_memory_equal(to_c, "D0755 0 d\n", 10);
	assert_memory_equal(to_c + 10, rule, strlen(rule));	/* a message */
	assert_int_equal(nc, 10 + strlen(rule));		/* not the C line */
	assert_memory_equal(to_t, "\0\0", 2);
	assert_memory_equal(to_t + 2, rule, strlen(rule));	/* the answer */
	assert_int_equal(c.nrec, 1);
	assert_string_equal(c.rec[0]->path, "/d/secret");
	chan_close(&c);
	pol_session_free(ps);
	policy_unref(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_classify),
		cmocka_unit_test(test_cmd_render),
		cmocka_unit_test(test_filter_refuses_by_policy),
		cmocka_unit_test(test_upload_one_file),
		cmocka_unit_test(test_upload_plain_target),
		cmocka_unit_test(test_upload_refused_file),
		cmocka_unit_test(test_source_ahead_of_ack),
		cmocka_unit_test(test_upload_recursive),
		cmocka_unit_test(test_download),
		cmocka_unit_test(test_source_read_error),
		cmocka_unit_test(test_finish_incomplete),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_captured_openssh),
		cmocka_unit_test(test_every_split_point),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
