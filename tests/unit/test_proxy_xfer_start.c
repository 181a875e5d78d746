/* Unit tests: start records and the in-order tap of the SFTP filter and the
 * scp watcher (file ids shared by a transfer's start and end records; the
 * start queued before the bytes that open the transfer are released). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proxy/px_error.h"
#include "proxy/xfer_scp.h"
#include "proxy/xfer_sftp_filter.h"

struct pk {
	uint8_t b[4096];
	size_t n, start;
};

static void
put_u32(struct pk *p, uint32_t v)
{
	p->b[p->n++] = v >> 24; p->b[p->n++] = v >> 16;
	p->b[p->n++] = v >> 8; p->b[p->n++] = v;
}

static void
put_bytes(struct pk *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void
put_str(struct pk *p, const char *s)
{
	put_u32(p, (uint32_t)strlen(s));
	put_bytes(p, s, strlen(s));
}

static void
begin(struct pk *p, uint8_t type)
{
	p->start = p->n;
	put_u32(p, 0);
	p->b[p->n++] = type;
}

static void
end(struct pk *p)
{
	uint32_t len = (uint32_t)(p->n - p->start - 4);

	p->b[p->start] = len >> 24; p->b[p->start + 1] = len >> 16;
	p->b[p->start + 2] = len >> 8; p->b[p->start + 3] = len;
}

/* What the tap received. */
struct tapped {
	uint64_t id[8];
	char data[8][64];
	size_t n;
};

static void
tap_fn(void *ctx, uint64_t file_id, const uint8_t *p, size_t n)
{
	struct tapped *t = ctx;
	size_t i;

	for (i = 0; i < t->n && t->id[i] != file_id; i++)
		;
	if (i == t->n) {
		assert_true(t->n < 8);
		t->id[t->n++] = file_id;
	}
	assert_true(strlen(t->data[i]) + n < sizeof(t->data[i]));
	strncat(t->data[i], (const char *)p, n);
}

static struct sftp_filter *
filter_new(uint64_t *ids, struct tapped *t)
{
	struct sftp_filter_config cfg;
	struct pk c = { 0 }, s = { 0 };
	struct sftp_filter *f;

	sftp_filter_config_init(&cfg);
	cfg.mode = XFER_MODE_BOTH;
	cfg.ids.next = ids;
	cfg.tap.fn = tap_fn;
	cfg.tap.ctx = t;
	f = sftp_filter_new(&cfg);
	assert_non_null(f);
	begin(&c, 1); put_u32(&c, 3); end(&c);
	begin(&s, 2); put_u32(&s, 3); end(&s);
	assert_int_equal(sftp_filter_client(f, c.b, c.n), PX_OK);
	assert_int_equal(sftp_filter_server(f, s.b, s.n), PX_OK);
	return f;
}

static void
open_req(struct sftp_filter *f, uint32_t id, const char *path, uint32_t pflags)
{
	struct pk c = { 0 };

	begin(&c, 3); put_u32(&c, id); put_str(&c, path); put_u32(&c, pflags); put_u32(&c, 0);
	end(&c);
	assert_int_equal(sftp_filter_client(f, c.b, c.n), PX_OK);
}

static void
reply_handle(struct sftp_filter *f, uint32_t id, const char *h)
{
	struct pk s = { 0 };

	begin(&s, 102); put_u32(&s, id); put_str(&s, h); end(&s);
	assert_int_equal(sftp_filter_server(f, s.b, s.n), PX_OK);
}

static void
reply_status(struct sftp_filter *f, uint32_t id, uint32_t code)
{
	struct pk s = { 0 };

	begin(&s, 101); put_u32(&s, id); put_u32(&s, code); put_str(&s, "m"); put_str(&s, "");
	end(&s);
	assert_int_equal(sftp_filter_server(f, s.b, s.n), PX_OK);
}

static void
write_req(struct sftp_filter *f, uint32_t id, const char *h, uint64_t off, const char *d)
{
	struct pk c = { 0 };

	begin(&c, 6); put_u32(&c, id); put_str(&c, h);
	put_u32(&c, (uint32_t)(off >> 32)); put_u32(&c, (uint32_t)off); put_str(&c, d);
	end(&c);
	assert_int_equal(sftp_filter_client(f, c.b, c.n), PX_OK);
}

static void
close_req(struct sftp_filter *f, uint32_t id, const char *h)
{
	struct pk c = { 0 };

	begin(&c, 4); put_u32(&c, id); put_str(&c, h); end(&c);
	assert_int_equal(sftp_filter_client(f, c.b, c.n), PX_OK);
}

static struct xfer_record *
take(struct sftp_filter *f, enum xfer_outcome out, enum xfer_dir dir, uint64_t id,
    const char *path)
{
	struct xfer_record *r = sftp_filter_take_record(f);

	assert_non_null(r);
	assert_int_equal(r->op, XFER_OP_FILE);
	assert_int_equal(r->outcome, out);
	assert_int_equal(r->dir, dir);
	assert_int_equal(r->file_id, id);
	assert_string_equal(r->path, path);
	return r;
}

/* An upload: start record (id 1) queued as the OPEN is released, before
 * its bytes; the end record reuses id 1; the tap gets the bytes in offset
 * order (a WRITE ahead of a gap waits for it). */
static void
test_sftp_upload_start_and_end(void **state)
{
	struct tapped t = { 0 };
	uint64_t ids = 0;
	struct sftp_filter *f = filter_new(&ids, &t);
	const uint8_t *up;
	size_t n;

	(void)state;
	(void)sftp_filter_upstream(f, &n);
	sftp_filter_upstream_consume(f, n);
	open_req(f, 5, "/t/up", 0x02 | 0x08 | 0x10);
	up = sftp_filter_upstream(f, &n);
	assert_true(n > 0 && up[4] == 3);	/* the OPEN waits to be sent... */
	xfer_record_free(take(f, XFER_OUT_STARTED, XFER_DIR_UPLOAD, 1, "/t/up"));	/* ...after this */
	assert_null(sftp_filter_take_record(f));
	reply_handle(f, 5, "H1");
	write_req(f, 6, "H1", 3, "def");
	write_req(f, 7, "H1", 0, "abc");
	close_req(f, 8, "H1");
	reply_status(f, 6, 0);
	reply_status(f, 7, 0);
	reply_status(f, 8, 0);
	xfer_record_free(take(f, XFER_OUT_OK, XFER_DIR_UPLOAD, 1, "/t/up"));
	assert_int_equal(t.n, 1);
	assert_int_equal(t.id[0], 1);
	assert_string_equal(t.data[0], "abcdef");
	assert_int_equal(ids, 1);
	sftp_filter_free(f);
}

/* A read-write OPEN starts two transfers; the server refuses it: both end
 * failed with their ids.  A download left open at the end is incomplete. */
static void
test_sftp_failed_and_incomplete(void **state)
{
	struct tapped t = { 0 };
	uint64_t ids = 10;
	struct sftp_filter *f = filter_new(&ids, &t);
	struct pk s = { 0 };
	struct pk c = { 0 };

	(void)state;
	open_req(f, 1, "/t/rw", 0x01 | 0x02);
	xfer_record_free(take(f, XFER_OUT_STARTED, XFER_DIR_UPLOAD, 11, "/t/rw"));
	xfer_record_free(take(f, XFER_OUT_STARTED, XFER_DIR_DOWNLOAD, 12, "/t/rw"));
	reply_status(f, 1, 3);
	xfer_record_free(take(f, XFER_OUT_FAILED, XFER_DIR_UPLOAD, 11, "/t/rw"));
	xfer_record_free(take(f, XFER_OUT_FAILED, XFER_DIR_DOWNLOAD, 12, "/t/rw"));
	open_req(f, 2, "/t/down", 0x01);
	xfer_record_free(take(f, XFER_OUT_STARTED, XFER_DIR_DOWNLOAD, 13, "/t/down"));
	reply_handle(f, 2, "H2");
	begin(&c, 5); put_u32(&c, 3); put_str(&c, "H2"); put_u32(&c, 0); put_u32(&c, 0);
	put_u32(&c, 100); end(&c);
	assert_int_equal(sftp_filter_client(f, c.b, c.n), PX_OK);
	begin(&s, 103); put_u32(&s, 3); put_str(&s, "xyz"); end(&s);
	assert_int_equal(sftp_filter_server(f, s.b, s.n), PX_OK);
	sftp_filter_finish(f);
	xfer_record_free(take(f, XFER_OUT_INCOMPLETE, XFER_DIR_DOWNLOAD, 13, "/t/down"));
	assert_null(sftp_filter_take_record(f));
	assert_int_equal(t.n, 1);
	assert_int_equal(t.id[0], 13);
	assert_string_equal(t.data[0], "xyz");
	sftp_filter_free(f);
}

/* Without ids: no start records, end records without an id (as before). */
static void
test_sftp_no_ids(void **state)
{
	struct tapped t = { 0 };
	struct sftp_filter *f = filter_new(NULL, &t);

	(void)state;
	open_req(f, 1, "/t/x", 0x02);
	assert_null(sftp_filter_take_record(f));
	reply_status(f, 1, 3);
	xfer_record_free(take(f, XFER_OUT_FAILED, XFER_DIR_UPLOAD, 0, "/t/x"));
	sftp_filter_free(f);
}

/* scp upload in filter mode: the C line is released only with its start
 * record queued; the end reuses the id; the tap gets the file. */
static void
test_scp_upload_start(void **state)
{
	struct scp_cmd cmd;
	struct scp_watch *w;
	struct xfer_check check = { NULL, NULL };
	struct xfer_tap tap;
	struct tapped t = { 0 };
	struct xfer_ids ids;
	struct xfer_record *r;
	uint64_t next = 0;
	const uint8_t *p;
	size_t n;

	(void)state;
	ids.next = &next;
	tap.fn = tap_fn;
	tap.ctx = &t;
	assert_int_equal(scp_cmd_parse("scp -t /t/dir/", &cmd), PX_OK);
	w = scp_watch_new(&cmd, 1024);
	assert_non_null(w);
	scp_watch_set_check(w, &check);
	scp_watch_set_ids(w, &ids);
	scp_watch_set_tap(w, &tap);
	assert_int_equal(scp_watch_server(w, "\0", 1), PX_OK);
	assert_int_equal(scp_watch_client(w, "C0644 5 f.txt\n", 14), PX_OK);
	p = scp_watch_output(w, 1, &n);
	assert_true(n == 14 && memcmp(p, "C0644", 5) == 0);
	r = scp_watch_take_record(w);
	assert_non_null(r);
	assert_int_equal(r->outcome, XFER_OUT_STARTED);
	assert_int_equal(r->file_id, 1);
	assert_int_equal(r->dir, XFER_DIR_UPLOAD);
	assert_string_equal(r->path, "/t/dir/f.txt");
	xfer_record_free(r);
	assert_int_equal(scp_watch_server(w, "\0", 1), PX_OK);
	assert_int_equal(scp_watch_client(w, "hello\0", 6), PX_OK);
	assert_int_equal(scp_watch_server(w, "\0", 1), PX_OK);
	r = scp_watch_take_record(w);
	assert_non_null(r);
	assert_int_equal(r->outcome, XFER_OUT_OK);
	assert_int_equal(r->file_id, 1);
	assert_int_equal(r->size, 5);
	xfer_record_free(r);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.data[0], "hello");
	scp_watch_free(w);
	scp_cmd_free(&cmd);
}

/* scp -r upload: the D line has a start record (mkdir) whose id the
 * directory's end record reuses. */
static void
test_scp_upload_dir_start(void **state)
{
	struct scp_cmd cmd;
	struct scp_watch *w;
	struct xfer_ids ids;
	struct xfer_record *r;
	uint64_t next = 4;

	(void)state;
	ids.next = &next;
	assert_int_equal(scp_cmd_parse("scp -r -t /t", &cmd), PX_OK);
	w = scp_watch_new(&cmd, 0);
	assert_non_null(w);
	scp_watch_set_check(w, NULL);
	scp_watch_set_ids(w, &ids);
	assert_int_equal(scp_watch_server(w, "\0", 1), PX_OK);
	assert_int_equal(scp_watch_client(w, "D0755 0 sub\n", 12), PX_OK);
	r = scp_watch_take_record(w);
	assert_non_null(r);
	assert_int_equal(r->op, XFER_OP_MKDIR);
	assert_int_equal(r->outcome, XFER_OUT_STARTED);
	assert_int_equal(r->file_id, 5);
	assert_string_equal(r->path, "/t/sub");
	xfer_record_free(r);
	assert_int_equal(scp_watch_server(w, "\0", 1), PX_OK);
	r = scp_watch_take_record(w);
	assert_non_null(r);
	assert_int_equal(r->op, XFER_OP_MKDIR);
	assert_int_equal(r->outcome, XFER_OUT_OK);
	assert_int_equal(r->file_id, 5);
	xfer_record_free(r);
	scp_watch_free(w);
	scp_cmd_free(&cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sftp_upload_start_and_end),
		cmocka_unit_test(test_sftp_failed_and_incomplete),
		cmocka_unit_test(test_sftp_no_ids),
		cmocka_unit_test(test_scp_upload_start),
		cmocka_unit_test(test_scp_upload_dir_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
