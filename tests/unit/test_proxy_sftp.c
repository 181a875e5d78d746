/* Unit tests: sftp_filter fed real SFTP v3 packets built byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "policy/policy.h"
#include "proxy/px_error.h"
#include "proxy/xfer_sftp_filter.h"
#include "tests/unit/san.h"

/* ---- packet building -------------------------------------------------- */

struct pk {
	uint8_t b[300000];
	size_t n;
	size_t start;
};

static void
put_u8(struct pk *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static void
put_u32(struct pk *p, uint32_t v)
{
	put_u8(p, v >> 24); put_u8(p, v >> 16); put_u8(p, v >> 8); put_u8(p, v);
}

static void
put_u64(struct pk *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p, (uint32_t)v);
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

/* Starts a message of this type (length filled by end()). */
static void
begin(struct pk *p, uint8_t type)
{
	p->start = p->n;
	put_u32(p, 0);
	put_u8(p, type);
}

static void
end(struct pk *p)
{
	uint32_t len = (uint32_t)(p->n - p->start - 4);

	p->b[p->start] = len >> 24;
	p->b[p->start + 1] = len >> 16;
	p->b[p->start + 2] = len >> 8;
	p->b[p->start + 3] = len;
}

enum { INIT = 1, VERSION = 2, OPEN = 3, CLOSE = 4, READ = 5, WRITE = 6,
	SETSTAT = 9, FSETSTAT = 10, OPENDIR = 11, READDIR = 12, REMOVE = 13,
	MKDIR = 14, RMDIR = 15, REALPATH = 16, STAT = 17, RENAME = 18,
	SYMLINK = 20, STATUS = 101, HANDLE = 102, DATA = 103, NAME = 104,
	ATTRS = 105, EXTENDED = 200, EXTENDED_REPLY = 201 };

static void
m_init(struct pk *p)
{
	begin(p, INIT); put_u32(p, 3); end(p);
}

static void
m_version(struct pk *p)
{
	begin(p, VERSION); put_u32(p, 3);
	put_str(p, "posix-rename@openssh.com"); put_str(p, "1");
	end(p);
}

static void
m_open(struct pk *p, uint32_t id, const char *path, uint32_t pflags)
{
	begin(p, OPEN); put_u32(p, id); put_str(p, path); put_u32(p, pflags);
	put_u32(p, 0);	/* attrs: no flags */
	end(p);
}

static void
m_handle(struct pk *p, uint32_t id, const char *h)
{
	begin(p, HANDLE); put_u32(p, id); put_str(p, h); end(p);
}

static void
m_status(struct pk *p, uint32_t id, uint32_t code, const char *msg)
{
	begin(p, STATUS); put_u32(p, id); put_u32(p, code);
	put_str(p, msg); put_str(p, ""); end(p);
}

static void
m_write(struct pk *p, uint32_t id, const char *h, uint64_t off,
    const void *d, uint32_t n)
{
	begin(p, WRITE); put_u32(p, id); put_str(p, h); put_u64(p, off);
	put_u32(p, n); put_bytes(p, d, n); end(p);
}

static void
m_read(struct pk *p, uint32_t id, const char *h, uint64_t off, uint32_t n)
{
	begin(p, READ); put_u32(p, id); put_str(p, h); put_u64(p, off);
	put_u32(p, n); end(p);
}

static void
m_data(struct pk *p, uint32_t id, const void *d, uint32_t n)
{
	begin(p, DATA); put_u32(p, id); put_u32(p, n); put_bytes(p, d, n);
	end(p);
}

static void
m_close(struct pk *p, uint32_t id, const char *h)
{
	begin(p, CLOSE); put_u32(p, id); put_str(p, h); end(p);
}

static void
m_path(struct pk *p, uint8_t type, uint32_t id, const char *path)
{
	begin(p, type); put_u32(p, id); put_str(p, path);
	if (type == MKDIR || type == SETSTAT)
		put_u32(p, 0);
	end(p);
}

static void
m_path2(struct pk *p, uint8_t type, uint32_t id, const char *a, const char *b)
{
	begin(p, type); put_u32(p, id); put_str(p, a); put_str(p, b); end(p);
}

/* ---- a channel under test --------------------------------------------- */

struct chan {
	struct sftp_filter *f;
	uint8_t *up, *down;	/* everything the filter released */
	size_t nup, ndown;
	struct xfer_record *rec[64];
	size_t nrec_total;
	size_t nrec;
};

static void
drain(struct chan *c)
{
	const uint8_t *p;
	size_t n;
	struct xfer_record *r;

	p = sftp_filter_upstream(c->f, &n);
	c->up = realloc(c->up, c->nup + n + 1);
	memcpy(c->up + c->nup, p, n);
	c->nup += n;
	sftp_filter_upstream_consume(c->f, n);
	p = sftp_filter_downstream(c->f, &n);
	c->down = realloc(c->down, c->ndown + n + 1);
	memcpy(c->down + c->ndown, p, n);
	c->ndown += n;
	sftp_filter_downstream_consume(c->f, n);
	while ((r = sftp_filter_take_record(c->f)) != NULL) {
		c->nrec_total++;
		if (c->nrec >= 64) {	/* keep the first 64 */
			xfer_record_free(r);
			continue;
		}
		c->rec[c->nrec++] = r;
	}
}

static void
chan_open(struct chan *c, enum xfer_mode mode)
{
	struct sftp_filter_config cfg;

	memset(c, 0, sizeof(*c));
	sftp_filter_config_init(&cfg);
	cfg.mode = mode;
	c->f = sftp_filter_new(&cfg);
	assert_non_null(c->f);
}

static void
chan_close(struct chan *c)
{
	size_t i;

	sftp_filter_free(c->f);
	for (i = 0; i < c->nrec; i++)
		xfer_record_free(c->rec[i]);
	free(c->up);
	free(c->down);
}

/* Feeds the client bytes in pieces of at most chunk; returns the result. */
static int
cl(struct chan *c, const struct pk *p, size_t chunk)
{
	size_t i, k;
	int r = PX_OK;

	for (i = 0; i < p->n && r == PX_OK; i += k) {
		k = p->n - i < chunk ? p->n - i : chunk;
		r = sftp_filter_client(c->f, p->b + i, k);
		drain(c);
	}
	return r;
}

static int
sv(struct chan *c, const struct pk *p, size_t chunk)
{
	size_t i, k;
	int r = PX_OK;

	for (i = 0; i < p->n && r == PX_OK; i += k) {
		k = p->n - i < chunk ? p->n - i : chunk;
		r = sftp_filter_server(c->f, p->b + i, k);
		drain(c);
	}
	return r;
}

static struct pk P1, P2;	/* scratch packets (large: static) */

/* INIT and VERSION exchanged. */
static void
handshake(struct chan *c)
{
	P1.n = 0; m_init(&P1);
	assert_int_equal(cl(c, &P1, 1 << 20), PX_OK);
	P2.n = 0; m_version(&P2);
	assert_int_equal(sv(c, &P2, 1 << 20), PX_OK);
	assert_int_equal(c->nup, P1.n);
	assert_int_equal(c->ndown, P2.n);
}

static void
hex(const uint8_t *d, size_t n, char out[65])
{
	uint8_t md[32];
	int i;

	SHA256(d, n, md);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static uint8_t filedata[300000];

static void
fill(void)
{
	size_t i;
	uint32_t x = 12345;

	for (i = 0; i < sizeof(filedata); i++) {
		x = x * 1103515245 + 12345;
		filedata[i] = (uint8_t)(x >> 16);
	}
}

/* ---- tests ------------------------------------------------------------ */

/* Upload of 100000 bytes in pipelined 32 KiB WRITEs; bytes pass unchanged. */
static void
test_upload_pipelined(void **state)
{
	struct chan c;
	char want[65];
	uint32_t id, off, n;
	size_t upto;

	(void)state;
	fill();
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/tmp/up.bin", 0x02 | 0x08 | 0x10);
	assert_int_equal(cl(&c, &P1, 7), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "H1");
	assert_int_equal(sv(&c, &P2, 3), PX_OK);
	/* four writes in flight before any status comes back */
	P1.n = 0;
	for (id = 2, off = 0; off < 100000; id++, off += n) {
		n = 100000 - off < 32768 ? 100000 - off : 32768;
		m_write(&P1, id, "H1", off, filedata + off, n);
	}
	upto = c.nup;
	assert_int_equal(cl(&c, &P1, 1000), PX_OK);
	assert_int_equal(c.nup - upto, P1.n);
	assert_memory_equal(c.up + upto, P1.b, P1.n);
	P2.n = 0;
	for (id = 2; id < 6; id++)
		m_status(&P2, id, 0, "Success");
	m_status(&P2, 6, 0, "Success");	/* unknown id: ignored */
	assert_int_equal(sv(&c, &P2, 11), PX_OK);
	assert_int_equal(c.nrec, 0);
	P1.n = 0; m_close(&P1, 7, "H1");
	assert_int_equal(cl(&c, &P1, 2), PX_OK);
	P2.n = 0; m_status(&P2, 7, 0, "Success");
	assert_int_equal(sv(&c, &P2, 1), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->op, XFER_OP_FILE);
	assert_int_equal(c.rec[0]->dir, XFER_DIR_UPLOAD);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_OK);
	assert_string_equal(c.rec[0]->path, "/tmp/up.bin");
	assert_int_equal(c.rec[0]->size, 100000);
	assert_int_equal(c.rec[0]->sequential, 1);
	hex(filedata, 100000, want);
	assert_string_equal(c.rec[0]->sha256_hex, want);
	assert_int_equal(c.rec[0]->content_len, 100000);
	assert_memory_equal(c.rec[0]->content, filedata, 100000);
	assert_int_equal(c.rec[0]->content_truncated, 0);
	chan_close(&c);
}

/* Download with pipelined READs, a short read, the client's re-request of
 * the missing part arriving after later data: digest in offset order. */
static void
test_download_short_read(void **state)
{
	struct chan c;
	char want[65];

	(void)state;
	fill();
	chan_open(&c, XFER_MODE_DOWNLOAD);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/etc/data", 0x01);
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "\x00\x00\x00\x05");
	P2.n = 0;
	begin(&P2, HANDLE); put_u32(&P2, 1); put_u32(&P2, 4);
	put_bytes(&P2, "\0\0\0\5", 4); end(&P2);
	assert_int_equal(sv(&c, &P2, 1 << 20), PX_OK);
	P1.n = 0;
	begin(&P1, READ); put_u32(&P1, 2); put_u32(&P1, 4);
	put_bytes(&P1, "\0\0\0\5", 4); put_u64(&P1, 0); put_u32(&P1, 32768);
	end(&P1);
	begin(&P1, READ); put_u32(&P1, 3); put_u32(&P1, 4);
	put_bytes(&P1, "\0\0\0\5", 4); put_u64(&P1, 32768);
	put_u32(&P1, 32768); end(&P1);
	assert_int_equal(cl(&c, &P1, 5), PX_OK);
	/* short read: 10000 of 32768, then the full second block */
	P2.n = 0;
	m_data(&P2, 2, filedata, 10000);
	m_data(&P2, 3, filedata + 32768, 32768);
	assert_int_equal(sv(&c, &P2, 4096), PX_OK);
	/* the client asks for the hole, then reads to EOF */
	P1.n = 0;
	begin(&P1, READ); put_u32(&P1, 4); put_u32(&P1, 4);
	put_bytes(&P1, "\0\0\0\5", 4); put_u64(&P1, 10000);
	put_u32(&P1, 22768); end(&P1);
	begin(&P1, READ); put_u32(&P1, 5); put_u32(&P1, 4);
	put_bytes(&P1, "\0\0\0\5", 4); put_u64(&P1, 65536);
	put_u32(&P1, 32768); end(&P1);
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	P2.n = 0;
	m_data(&P2, 4, filedata + 10000, 22768);
	m_status(&P2, 5, 1, "End of file");
	assert_int_equal(sv(&c, &P2, 999), PX_OK);
	P1.n = 0;
	begin(&P1, CLOSE); put_u32(&P1, 6); put_u32(&P1, 4);
	put_bytes(&P1, "\0\0\0\5", 4); end(&P1);
	assert_int_equal(cl(&c, &P1, 1), PX_OK);
	P2.n = 0; m_status(&P2, 6, 0, "");
	assert_int_equal(sv(&c, &P2, 1), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->dir, XFER_DIR_DOWNLOAD);
	assert_int_equal(c.rec[0]->size, 65536);
	assert_int_equal(c.rec[0]->sequential, 1);
	hex(filedata, 65536, want);
	assert_string_equal(c.rec[0]->sha256_hex, want);
	assert_null(c.rec[0]->content);
	chan_close(&c);
}

/* Sparse writes: the digest is withheld, size is the highest offset. */
static void
test_sparse_write_not_sequential(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, XFER_MODE_UPLOAD);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/tmp/sparse", 0x02 | 0x08);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "h");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	P1.n = 0;
	m_write(&P1, 2, "h", 0, "abcd", 4);
	m_write(&P1, 3, "h", 1000, "efgh", 4);
	m_close(&P1, 4, "h");
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0;
	m_status(&P2, 2, 0, ""); m_status(&P2, 3, 0, ""); m_status(&P2, 4, 0, "");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->sequential, 0);
	assert_int_equal(c.rec[0]->size, 1004);
	assert_string_equal(c.rec[0]->sha256_hex, "");
	/* the first bytes in order are still kept */
	assert_int_equal(c.rec[0]->content_len, 4);
	chan_close(&c);
}

/* Replies in another order than the requests (allowed by SFTP): the
 * digest still covers the bytes in offset order; a rewrite of bytes
 * already written makes the upload non-sequential. */
static void
test_out_of_order(void **state)
{
	struct chan c;
	char want[65];

	(void)state;
	fill();
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/r", 1); m_open(&P1, 2, "/w", 0x1a);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "R"); m_handle(&P2, 2, "W");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	P1.n = 0;
	m_read(&P1, 3, "R", 0, 1000);
	m_read(&P1, 4, "R", 1000, 1000);
	m_read(&P1, 5, "R", 2000, 1000);
	m_write(&P1, 6, "W", 0, "aaaa", 4);
	m_write(&P1, 7, "W", 2, "bbbb", 4);	/* overlaps */
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0;
	m_data(&P2, 5, filedata + 2000, 1000);
	m_data(&P2, 3, filedata, 1000);
	m_data(&P2, 4, filedata + 1000, 1000);
	m_status(&P2, 6, 0, ""); m_status(&P2, 7, 0, "");
	assert_int_equal(sv(&c, &P2, 77), PX_OK);
	P1.n = 0; m_close(&P1, 8, "R"); m_close(&P1, 9, "W");
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_status(&P2, 9, 0, ""); m_status(&P2, 8, 0, "");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	assert_int_equal(c.nrec, 2);
	assert_string_equal(c.rec[0]->path, "/w");
	assert_int_equal(c.rec[0]->sequential, 0);
	assert_int_equal(c.rec[0]->size, 6);
	assert_string_equal(c.rec[1]->path, "/r");
	assert_int_equal(c.rec[1]->sequential, 1);
	assert_int_equal(c.rec[1]->size, 3000);
	hex(filedata, 3000, want);
	assert_string_equal(c.rec[1]->sha256_hex, want);
	chan_close(&c);
}

/* Upload content is cut at the limit and flagged. */
static void
test_content_limit(void **state)
{
	struct sftp_filter_config cfg;
	struct chan c;
	char want[65];

	(void)state;
	fill();
	memset(&c, 0, sizeof(c));
	sftp_filter_config_init(&cfg);
	cfg.mode = XFER_MODE_BOTH;
	cfg.content_limit = 1000;
	c.f = sftp_filter_new(&cfg);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "big", 0x1a);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "h");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	P1.n = 0; m_write(&P1, 2, "h", 0, filedata, 5000); m_close(&P1, 3, "h");
	assert_int_equal(cl(&c, &P1, 333), PX_OK);
	P2.n = 0; m_status(&P2, 2, 0, ""); m_status(&P2, 3, 0, "");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->size, 5000);
	assert_int_equal(c.rec[0]->content_len, 1000);
	assert_int_equal(c.rec[0]->content_truncated, 1);
	assert_memory_equal(c.rec[0]->content, filedata, 1000);
	hex(filedata, 5000, want);
	assert_string_equal(c.rec[0]->sha256_hex, want);
	chan_close(&c);
}

/* Checks that the client received exactly one STATUS with this id and code
 * at offset *pos of its stream, and advances *pos. */
static void
expect_status(struct chan *c, size_t *pos, uint32_t id, uint32_t code,
    const char *needle)
{
	const uint8_t *p = c->down + *pos;
	uint32_t len, mlen;

	assert_true(c->ndown - *pos >= 17);
	len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	assert_int_equal(p[4], STATUS);
	assert_int_equal((uint32_t)p[5] << 24 | p[6] << 16 | p[7] << 8 | p[8], id);
	assert_int_equal((uint32_t)p[9] << 24 | p[10] << 16 | p[11] << 8 | p[12],
	    code);
	mlen = (uint32_t)p[13] << 24 | p[14] << 16 | p[15] << 8 | p[16];
	assert_true(17 + mlen <= 4 + len);
	if (needle != NULL) {
		char *m = strndup((const char *)p + 17, mlen);

		assert_non_null(strstr(m, needle));
		free(m);
	}
	*pos += 4 + len;
}

/* Download-only: every writing request is answered by the proxy and never
 * reaches the server; reads, listings and read-only extensions pass. */
static void
test_deny_uploads(void **state)
{
	struct chan c;
	size_t pos, up0;
	static const struct { uint8_t type; const char *a, *b; enum xfer_op op; }
	    ops[] = {
		{ REMOVE, "/etc/passwd", NULL, XFER_OP_REMOVE },
		{ RENAME, "/a", "/b", XFER_OP_RENAME },
		{ MKDIR, "/d", NULL, XFER_OP_MKDIR },
		{ RMDIR, "/d", NULL, XFER_OP_RMDIR },
		{ SETSTAT, "/f", NULL, XFER_OP_SETSTAT },
		{ SYMLINK, "/l", "/t", XFER_OP_SYMLINK },
	};
	static const uint32_t wflags[] = { 0x02, 0x04, 0x08, 0x10, 0x20, 0x03 };
	size_t i;
	uint32_t id = 10;

	(void)state;
	chan_open(&c, XFER_MODE_DOWNLOAD);
	handshake(&c);
	pos = c.ndown;
	up0 = c.nup;
	for (i = 0; i < sizeof(wflags) / sizeof(wflags[0]); i++, id++) {
		P1.n = 0; m_open(&P1, id, "/tmp/x", wflags[i]);
		assert_int_equal(cl(&c, &P1, 3), PX_OK);
		expect_status(&c, &pos, id, 3, "sftp download");
		assert_int_equal(c.rec[c.nrec - 1]->outcome, XFER_OUT_DENIED);
		assert_int_equal(c.rec[c.nrec - 1]->dir, XFER_DIR_UPLOAD);
		assert_string_equal(c.rec[c.nrec - 1]->path, "/tmp/x");
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++, id++) {
		P1.n = 0;
		if (ops[i].b != NULL)
			m_path2(&P1, ops[i].type, id, ops[i].a, ops[i].b);
		else
			m_path(&P1, ops[i].type, id, ops[i].a);
		assert_int_equal(cl(&c, &P1, 1), PX_OK);
		expect_status(&c, &pos, id, 3, "escort policy");
		assert_int_equal(c.rec[c.nrec - 1]->op, ops[i].op);
		assert_int_equal(c.rec[c.nrec - 1]->outcome, XFER_OUT_DENIED);
		assert_string_equal(c.rec[c.nrec - 1]->path, ops[i].a);
		if (ops[i].b != NULL)
			assert_string_equal(c.rec[c.nrec - 1]->target, ops[i].b);
	}
	/* posix-rename is an upload-class extension; statvfs is not */
	P1.n = 0;
	begin(&P1, EXTENDED); put_u32(&P1, id); put_str(&P1,
	    "posix-rename@openssh.com"); put_str(&P1, "/x"); put_str(&P1, "/y");
	end(&P1);
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	expect_status(&c, &pos, id, 3, NULL);
	assert_int_equal(c.rec[c.nrec - 1]->op, XFER_OP_RENAME);
	id++;
	assert_int_equal(c.nup, up0);		/* nothing reached the server */
	assert_int_equal(c.ndown, pos);
	P1.n = 0;
	begin(&P1, EXTENDED); put_u32(&P1, id); put_str(&P1,
	    "statvfs@openssh.com"); put_str(&P1, "/"); end(&P1);
	m_open(&P1, id + 1, "/etc/hosts", 0x01);
	m_path(&P1, OPENDIR, id + 2, "/etc");
	m_path(&P1, STAT, id + 3, "/etc");
	m_path(&P1, REALPATH, id + 4, ".");
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	assert_int_equal(c.nup - up0, P1.n);
	assert_memory_equal(c.up + up0, P1.b, P1.n);
	assert_int_equal(c.ndown, pos);
	chan_close(&c);
}

/* Upload-only: opening for reading is refused; none refuses both. */
static void
test_deny_downloads(void **state)
{
	struct chan c;
	size_t pos;

	(void)state;
	chan_open(&c, XFER_MODE_UPLOAD);
	handshake(&c);
	pos = c.ndown;
	P1.n = 0; m_open(&P1, 5, "/etc/shadow", 0x01); m_open(&P1, 6, "/x", 0);
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	expect_status(&c, &pos, 5, 3, "downloads are not allowed");
	expect_status(&c, &pos, 6, 3, "downloads are not allowed");
	assert_int_equal(c.nrec, 2);
	assert_int_equal(c.rec[0]->dir, XFER_DIR_DOWNLOAD);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_DENIED);
	assert_non_null(strstr(c.rec[0]->message, "sftp upload"));
	P1.n = 0; m_open(&P1, 7, "/tmp/new", 0x1a);
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	assert_int_equal(c.ndown, pos);
	chan_close(&c);

	chan_open(&c, XFER_MODE_NONE);
	handshake(&c);
	pos = c.ndown;
	P1.n = 0; m_open(&P1, 1, "/a", 0x01); m_open(&P1, 2, "/b", 0x1a);
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	expect_status(&c, &pos, 1, 3, "sftp none");
	expect_status(&c, &pos, 2, 3, "sftp none");
	chan_close(&c);
}

/* A refusal while a server DATA frame is half through waits for its end. */
static void
test_reply_waits_for_frame_boundary(void **state)
{
	struct chan c;
	size_t pos, half;

	(void)state;
	fill();
	chan_open(&c, XFER_MODE_DOWNLOAD);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/f", 1);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "h");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	P1.n = 0; m_read(&P1, 2, "h", 0, 8000);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	pos = c.ndown;
	P2.n = 0; m_data(&P2, 2, filedata, 8000);
	half = P2.n / 2;
	assert_int_equal(sftp_filter_server(c.f, P2.b, half), PX_OK);
	drain(&c);
	P1.n = 0; m_path(&P1, REMOVE, 3, "/f");
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	assert_int_equal(c.ndown - pos, half);	/* nothing inserted yet */
	assert_int_equal(sftp_filter_server(c.f, P2.b + half, P2.n - half), PX_OK);
	drain(&c);
	assert_memory_equal(c.down + pos, P2.b, P2.n);
	pos += P2.n;
	expect_status(&c, &pos, 3, 3, NULL);
	assert_int_equal(pos, c.ndown);
	chan_close(&c);
}

/* Refusals held behind a server frame that never ends are bounded. */
static void
test_held_refusals_bounded(void **state)
{
	struct chan c;
	uint32_t id;
	int r = PX_OK;

	(void)state;
	chan_open(&c, XFER_MODE_DOWNLOAD);
	handshake(&c);
	assert_int_equal(sftp_filter_server(c.f, "\0\0\1\0\x67", 5), PX_OK);
	for (id = 1; id < 20000 && r == PX_OK; id++) {
		P1.n = 0; m_path(&P1, REMOVE, id, "/x");
		r = sftp_filter_client(c.f, P1.b, P1.n);
		drain(&c);
	}
	assert_int_equal(r, PX_EINVAL);
	assert_true(id > 5000);
	assert_non_null(strstr(sftp_filter_error(c.f), "refusals"));
	chan_close(&c);
}

/* A refusal before the server's VERSION is held until it has passed. */
static void
test_reply_waits_for_version(void **state)
{
	struct chan c;
	size_t pos = 0;

	(void)state;
	chan_open(&c, XFER_MODE_NONE);
	P1.n = 0; m_init(&P1); m_path(&P1, REMOVE, 1, "/x");
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	assert_int_equal(c.ndown, 0);
	P2.n = 0; m_version(&P2);
	assert_int_equal(sv(&c, &P2, 1 << 20), PX_OK);
	assert_memory_equal(c.down, P2.b, P2.n);
	pos = P2.n;
	expect_status(&c, &pos, 1, 3, NULL);
	chan_close(&c);
}

/* File-system operations are recorded with the server's verdict. */
static void
test_ops_recorded(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0;
	m_path2(&P1, RENAME, 1, "/old", "/new");
	m_path(&P1, MKDIR, 2, "/d");
	m_path(&P1, REMOVE, 3, "/nope");
	m_open(&P1, 4, "/missing", 1);
	m_path(&P1, OPENDIR, 5, "/etc");
	assert_int_equal(cl(&c, &P1, 17), PX_OK);
	assert_int_equal(c.nup, 9 + P1.n);
	P2.n = 0;
	m_status(&P2, 2, 0, "Success");
	m_status(&P2, 1, 0, "Success");
	m_status(&P2, 3, 2, "No such file");
	m_status(&P2, 4, 2, "No such file");
	m_handle(&P2, 5, "D");
	assert_int_equal(sv(&c, &P2, 17), PX_OK);
	assert_int_equal(c.nrec, 4);
	assert_int_equal(c.rec[0]->op, XFER_OP_MKDIR);
	assert_int_equal(c.rec[1]->op, XFER_OP_RENAME);
	assert_string_equal(c.rec[1]->target, "/new");
	assert_int_equal(c.rec[1]->outcome, XFER_OUT_OK);
	assert_int_equal(c.rec[2]->op, XFER_OP_REMOVE);
	assert_int_equal(c.rec[2]->outcome, XFER_OUT_FAILED);
	assert_int_equal(c.rec[2]->status, 2);
	assert_string_equal(c.rec[2]->message, "No such file");
	assert_int_equal(c.rec[3]->op, XFER_OP_FILE);
	assert_int_equal(c.rec[3]->outcome, XFER_OUT_FAILED);
	/* a listing of 3 + 2 names */
	P1.n = 0;
	begin(&P1, READDIR); put_u32(&P1, 6); put_str(&P1, "D"); end(&P1);
	begin(&P1, READDIR); put_u32(&P1, 7); put_str(&P1, "D"); end(&P1);
	begin(&P1, READDIR); put_u32(&P1, 8); put_str(&P1, "D"); end(&P1);
	m_close(&P1, 9, "D");
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	P2.n = 0;
	begin(&P2, NAME); put_u32(&P2, 6); put_u32(&P2, 3);
	for (int i = 0; i < 3; i++) {
		put_str(&P2, "f"); put_str(&P2, "-rw f"); put_u32(&P2, 0);
	}
	end(&P2);
	begin(&P2, NAME); put_u32(&P2, 7); put_u32(&P2, 2);
	for (int i = 0; i < 2; i++) {
		put_str(&P2, "g"); put_str(&P2, "-rw g"); put_u32(&P2, 0);
	}
	end(&P2);
	m_status(&P2, 8, 1, "EOF");
	m_status(&P2, 9, 0, "");
	assert_int_equal(sv(&c, &P2, 5), PX_OK);
	assert_int_equal(c.nrec, 5);
	assert_int_equal(c.rec[4]->op, XFER_OP_LISTDIR);
	assert_string_equal(c.rec[4]->path, "/etc");
	assert_int_equal(c.rec[4]->size, 5);
	chan_close(&c);
}

/* A failed WRITE marks the upload failed even if CLOSE succeeds. */
static void
test_failed_write(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/full", 0x1a);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "h");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	P1.n = 0; m_write(&P1, 2, "h", 0, "data", 4); m_close(&P1, 3, "h");
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_status(&P2, 2, 4, "No space left on device");
	m_status(&P2, 3, 0, "");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_FAILED);
	assert_int_equal(c.rec[0]->status, 4);
	assert_string_equal(c.rec[0]->message, "No space left on device");
	chan_close(&c);
}

/* The channel ends with a file open: an INCOMPLETE record. */
static void
test_finish_incomplete(void **state)
{
	struct chan c;

	(void)state;
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0; m_open(&P1, 1, "/half", 0x1a);
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	P2.n = 0; m_handle(&P2, 1, "h");
	assert_int_equal(sv(&c, &P2, 99), PX_OK);
	P1.n = 0; m_write(&P1, 2, "h", 0, "abc", 3); m_path(&P1, REMOVE, 3, "/r");
	assert_int_equal(cl(&c, &P1, 99), PX_OK);
	sftp_filter_finish(c.f);
	drain(&c);
	assert_int_equal(c.nrec, 2);
	assert_int_equal(c.rec[0]->outcome, XFER_OUT_INCOMPLETE);
	assert_int_equal(c.rec[0]->size, 3);
	assert_int_equal(c.rec[1]->op, XFER_OP_REMOVE);
	assert_int_equal(c.rec[1]->outcome, XFER_OUT_INCOMPLETE);
	assert_int_not_equal(sftp_filter_client(c.f, "x", 1), PX_OK);
	chan_close(&c);
}

/* Frames over 256 KiB end the channel, in either direction. */
static void
test_oversized_frames(void **state)
{
	struct chan c;
	uint8_t hdr[5] = { 0, 4, 0, 1, WRITE };	/* 262145 bytes */

	(void)state;
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	assert_int_equal(sftp_filter_client(c.f, hdr, 5), PX_EINVAL);
	assert_non_null(strstr(sftp_filter_error(c.f), "client"));
	assert_non_null(strstr(sftp_filter_error(c.f), "262145"));
	assert_int_equal(sftp_filter_server(c.f, "", 0), PX_EINVAL);
	chan_close(&c);

	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	hdr[4] = DATA;
	assert_int_equal(sftp_filter_server(c.f, hdr, 3), PX_OK);
	assert_int_equal(sftp_filter_server(c.f, hdr + 3, 2), PX_EINVAL);
	assert_non_null(strstr(sftp_filter_error(c.f), "server"));
	chan_close(&c);

	/* exactly 256 KiB is accepted */
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0;
	m_write(&P1, 1, "h", 0, filedata, 262144 - 1 - 4 - 5 - 8 - 4);
	assert_int_equal(P1.n, 262148);
	assert_int_equal(cl(&c, &P1, 65536), PX_OK);
	chan_close(&c);
}

/* Garbage and protocol violations. */
static void
test_garbage(void **state)
{
	struct chan c;
	size_t pos;

	(void)state;
	chan_open(&c, XFER_MODE_BOTH);
	assert_int_equal(sftp_filter_client(c.f, "GET / HTTP/1.0\r\n", 16),
	    PX_EINVAL);
	chan_close(&c);

	chan_open(&c, XFER_MODE_BOTH);
	P2.n = 0; begin(&P2, VERSION); put_u32(&P2, 6); end(&P2);
	assert_int_equal(sv(&c, &P2, 99), PX_EINVAL);
	assert_non_null(strstr(sftp_filter_error(c.f), "version"));
	chan_close(&c);

	/* malformed and unknown requests are answered, not forwarded */
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	pos = c.ndown;
	P1.n = 0;
	begin(&P1, OPEN); put_u32(&P1, 1); put_u32(&P1, 1000); put_str(&P1, "x");
	end(&P1);
	begin(&P1, 77); put_u32(&P1, 2); end(&P1);
	begin(&P1, WRITE); put_u32(&P1, 3); put_str(&P1, "h"); put_u64(&P1, 0);
	put_u32(&P1, 100); put_bytes(&P1, "short", 5); end(&P1);
	begin(&P1, WRITE); put_u32(&P1, 4); put_u32(&P1, 9999); end(&P1);
	m_path(&P1, STAT, 5, "/");
	assert_int_equal(cl(&c, &P1, 3), PX_OK);
	expect_status(&c, &pos, 1, 5, NULL);
	expect_status(&c, &pos, 2, 8, NULL);
	expect_status(&c, &pos, 3, 5, NULL);
	expect_status(&c, &pos, 4, 5, NULL);
	assert_int_equal(c.nup, 9 + 4 + 1 + 4 + 4 + 1);	/* INIT + STAT */
	chan_close(&c);

	/* a frame too short to hold an id */
	chan_open(&c, XFER_MODE_BOTH);
	handshake(&c);
	P1.n = 0; begin(&P1, OPEN); put_u8(&P1, 1); end(&P1);
	assert_int_equal(cl(&c, &P1, 99), PX_EINVAL);
	chan_close(&c);
}

/* One whole session, replayed with every split point of each message
 * batch: what is forwarded and recorded never depends on fragmentation.
 * Batches alternate client, server, client, server as a real exchange. */
static struct pk SEG[4];

static void
build_session(void)
{
	int i;

	fill();
	for (i = 0; i < 4; i++)
		SEG[i].n = 0;
	m_init(&SEG[0]); m_version(&SEG[1]);
	m_open(&SEG[0], 1, "/tmp/a", 0x1a); m_handle(&SEG[1], 1, "ha");
	m_open(&SEG[0], 2, "/tmp/b", 0x01); m_handle(&SEG[1], 2, "hb");
	m_write(&SEG[2], 3, "ha", 0, filedata, 300);
	m_write(&SEG[2], 4, "ha", 300, filedata + 300, 200);
	m_read(&SEG[2], 5, "hb", 0, 400);
	m_path(&SEG[2], REMOVE, 6, "/tmp/zz");
	m_close(&SEG[2], 7, "ha"); m_close(&SEG[2], 8, "hb");
	m_status(&SEG[3], 3, 0, ""); m_status(&SEG[3], 4, 0, "");
	m_data(&SEG[3], 5, filedata + 1000, 400);
	m_status(&SEG[3], 6, 0, "");
	m_status(&SEG[3], 7, 0, ""); m_status(&SEG[3], 8, 0, "");
}

static void
run_session(struct chan *c, size_t split, enum xfer_mode m)
{
	int i;
	size_t k;

	chan_open(c, m);
	for (i = 0; i < 4; i++) {
		int (*feed)(struct sftp_filter *, const void *, size_t) =
		    i % 2 == 0 ? sftp_filter_client : sftp_filter_server;

		k = split < SEG[i].n ? split : SEG[i].n;
		assert_int_equal(feed(c->f, SEG[i].b, k), PX_OK);
		drain(c);
		assert_int_equal(feed(c->f, SEG[i].b + k, SEG[i].n - k), PX_OK);
		drain(c);
	}
}

static void
test_every_split_point(void **state)
{
	struct chan ref, c;
	size_t i, k, maxn = 0, ncl, nsv;

	(void)state;
	build_session();
	for (i = 0; i < 4; i++)
		if (SEG[i].n > maxn)
			maxn = SEG[i].n;
	ncl = SEG[0].n + SEG[2].n;
	nsv = SEG[1].n + SEG[3].n;
	for (int mode = XFER_MODE_DOWNLOAD; mode <= XFER_MODE_BOTH; mode += 2) {
		run_session(&ref, maxn, mode);
		if (mode == XFER_MODE_BOTH) {
			assert_int_equal(ref.nup, ncl);
			assert_int_equal(ref.ndown, nsv);
			assert_int_equal(ref.nrec, 3);
		} else {
			assert_true(ref.nup < ncl);
			assert_true(ref.ndown > nsv);
		}
		for (i = 0; i <= maxn; i++) {
			run_session(&c, i, mode);
			assert_int_equal(c.nup, ref.nup);
			assert_memory_equal(c.up, ref.up, ref.nup);
			assert_int_equal(c.ndown, ref.ndown);
			assert_memory_equal(c.down, ref.down, ref.ndown);
			assert_int_equal(c.nrec, ref.nrec);
			for (k = 0; k < c.nrec; k++) {
				assert_int_equal(c.rec[k]->op, ref.rec[k]->op);
				assert_int_equal(c.rec[k]->outcome,
				    ref.rec[k]->outcome);
				assert_string_equal(c.rec[k]->path,
				    ref.rec[k]->path);
				assert_string_equal(c.rec[k]->sha256_hex,
				    ref.rec[k]->sha256_hex);
			}
			chan_close(&c);
		}
		chan_close(&ref);
	}
	/* and one byte at a time */
	run_session(&ref, maxn, XFER_MODE_BOTH);
	chan_open(&c, XFER_MODE_BOTH);
	for (k = 0; k < 4; k++)
		for (i = 0; i < SEG[k].n; i++)
			assert_int_equal((k % 2 == 0 ? sftp_filter_client :
			    sftp_filter_server)(c.f, SEG[k].b + i, 1), PX_OK);
	drain(&c);
	assert_int_equal(c.nrec, ref.nrec);
	assert_int_equal(c.nup, ref.nup);
	assert_memory_equal(c.up, ref.up, ref.nup);
	assert_memory_equal(c.down, ref.down, ref.ndown);
	chan_close(&c);
	chan_close(&ref);
}

/* ---- a captured OpenSSH sftp session ----------------------------------- */

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

/* Replays the real sftp client against the real sftp-server (captured by
 * tests/unit/data/capture.py) in pieces of at most chunk. */
static void
golden_sftp(size_t chunk)
{
	uint8_t *cap, *cbytes;
	char *exp, *line, *save = NULL;
	size_t ncap, nexp, i, k, ncb = 0, matched = 0, files = 0;
	struct chan c;

	cap = load("sftp_session.cap", &ncap);
	cbytes = malloc(ncap);
	chan_open(&c, cap[0]);
	for (i = 1; i + 3 <= ncap; i += 3 + k) {
		size_t off;

		k = (size_t)cap[i + 1] << 8 | cap[i + 2];
		assert_true(i + 3 + k <= ncap);
		if (cap[i] == 'C') {
			memcpy(cbytes + ncb, cap + i + 3, k);
			ncb += k;
		}
		for (off = 0; off < k; off += chunk) {
			size_t m = k - off < chunk ? k - off : chunk;

			assert_int_equal((cap[i] == 'C' ? sftp_filter_client :
			    sftp_filter_server)(c.f, cap + i + 3 + off, m), PX_OK);
			drain(&c);
		}
	}
	free(cap);
	/* in mode both, every client byte went on unchanged */
	assert_int_equal(c.nup, ncb);
	assert_memory_equal(c.up, cbytes, ncb);
	free(cbytes);
	exp = (char *)load("sftp_session.expect", &nexp);
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
			fail_msg("no record for %s", path);
		assert_string_equal(xfer_dir_name(c.rec[k]->dir), dir);
		assert_int_equal(c.rec[k]->outcome, XFER_OUT_OK);
		assert_int_equal(c.rec[k]->size, size);
		assert_int_equal(c.rec[k]->sequential, 1);
		assert_string_equal(c.rec[k]->sha256_hex, sha);
		matched++;
	}
	free(exp);
	for (k = 0; k < c.nrec; k++)
		files += c.rec[k]->op == XFER_OP_FILE;
	assert_int_equal(matched, 2);
	assert_int_equal(files, 2);
	/* mkdir, rename, remove and the listing are there too */
	for (k = 0, i = 0; k < c.nrec; k++)
		i |= 1u << c.rec[k]->op;
	assert_true(i & (1u << XFER_OP_MKDIR));
	assert_true(i & (1u << XFER_OP_RENAME));
	assert_true(i & (1u << XFER_OP_REMOVE));
	assert_true(i & (1u << XFER_OP_LISTDIR));
	chan_close(&c);
}

static void
test_captured_openssh(void **state)
{
	(void)state;
	golden_sftp(1 << 20);
	golden_sftp(4096);
	golden_sftp(UNDER_SAN ? 509 : 13);	/* odd-sized pieces */
}

/* ---- the transfer rules of a real policy --------------------------------- */

static const char xfer_policy[] =
"user u {\n}\n"
"target t {\n    address 127.0.0.1\n}\n"
"rule vendors {\n    who user:u\n    where *\n    sftp both\n"
"    deny \"... /etc/shadow ...\"\n}\n";

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

/* Whether the client got a PERMISSION_DENIED status for id whose message
 * holds want. */
static int
got_denied(const struct chan *c, uint32_t id, const char *want)
{
	size_t i = 0;

	while (i + 9 <= c->ndown) {
		uint32_t len = (uint32_t)c->down[i] << 24 | c->down[i + 1] << 16 |
		    c->down[i + 2] << 8 | c->down[i + 3];
		const uint8_t *b = c->down + i + 4;

		if (b[0] == STATUS && len > 13 &&
		    ((uint32_t)b[1] << 24 | b[2] << 16 | b[3] << 8 | b[4]) == id &&
		    ((uint32_t)b[5] << 24 | b[6] << 16 | b[7] << 8 | b[8]) == 3 &&
		    memmem(b + 13, len - 13, want, strlen(want)) != NULL)
			return 1;
		i += 4 + len;
	}
	return 0;
}

static void
test_policy_decides_paths(void **state)
{
	struct policy *pol;
	struct pol_session *ps;
	struct sftp_filter_config cfg;
	struct chan c;
	const char *rule = "escort: denied by rule 'vendors' (line 10): \"... /etc/shadow ...\"";
	size_t up;

	(void)state;
	assert_int_equal(policy_load_buffer("t.conf", xfer_policy, sizeof(xfer_policy) - 1, 0,
	    &pol, NULL), 0);
	assert_int_equal(policy_admit(pol, "u", "t", POL_ANYTIME, &ps, NULL), 0);
	memset(&c, 0, sizeof(c));
	sftp_filter_config_init(&cfg);
	cfg.mode = XFER_MODE_BOTH;
	cfg.check.fn = policy_check;
	cfg.check.ctx = ps;
	c.f = sftp_filter_new(&cfg);
	assert_non_null(c.f);
	handshake(&c);
	up = c.nup;
	/* refused: never forwarded, answered with the rule */
	P1.n = 0;
	m_open(&P1, 10, "/var/log/../../etc/shadow", 0x01);
	m_path(&P1, STAT, 11, "//etc/./shadow");
	m_path2(&P1, RENAME, 12, "/tmp/a", "/etc/shadow");
	m_path2(&P1, SYMLINK, 13, "/etc/shadow", "/tmp/l");
	m_path(&P1, REMOVE, 14, "/etc/shadow");
	m_path(&P1, SETSTAT, 15, "/etc/shadow");
	m_path(&P1, MKDIR, 16, "/etc/shadow");
	m_path(&P1, OPENDIR, 17, "/etc/shadow");
	m_path(&P1, REALPATH, 18, "/etc/shadow");
	begin(&P1, OPEN); put_u32(&P1, 19); put_u32(&P1, 13);
	put_bytes(&P1, "/etc/shadow\0x", 13); put_u32(&P1, 1); put_u32(&P1, 0); end(&P1);
	begin(&P1, EXTENDED); put_u32(&P1, 20); put_str(&P1, "copy-data@openssh.com");
	put_str(&P1, "h1"); end(&P1);
	begin(&P1, EXTENDED); put_u32(&P1, 21); put_str(&P1, "posix-rename@openssh.com");
	put_str(&P1, "/tmp/x"); put_str(&P1, "/etc//shadow"); end(&P1);
	assert_int_equal(cl(&c, &P1, 7), PX_OK);
	assert_int_equal(c.nup, up);
	for (uint32_t id = 10; id <= 18; id++)
		if (!got_denied(&c, id, rule))
			fail_msg("request %u not refused with the rule", id);
	assert_true(got_denied(&c, 19, "NUL byte"));
	assert_true(got_denied(&c, 20, "copy-data@openssh.com"));
	assert_true(got_denied(&c, 21, rule));
	assert_true(c.nrec >= 12);
	for (size_t i = 0; i < c.nrec; i++)
		assert_int_equal(c.rec[i]->outcome, XFER_OUT_DENIED);
	/* allowed ones pass unchanged */
	P1.n = 0;
	m_open(&P1, 30, "/etc/passwd", 0x01);
	m_path(&P1, STAT, 31, "/etc/shadow.d");
	assert_int_equal(cl(&c, &P1, 1 << 20), PX_OK);
	assert_int_equal(c.nup, up + P1.n);
	assert_memory_equal(c.up + up, P1.b, P1.n);
	chan_close(&c);
	pol_session_free(ps);
	policy_unref(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_pipelined),
		cmocka_unit_test(test_download_short_read),
		cmocka_unit_test(test_sparse_write_not_sequential),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_content_limit),
		cmocka_unit_test(test_deny_uploads),
		cmocka_unit_test(test_deny_downloads),
		cmocka_unit_test(test_reply_waits_for_frame_boundary),
		cmocka_unit_test(test_reply_waits_for_version),
		cmocka_unit_test(test_held_refusals_bounded),
		cmocka_unit_test(test_policy_decides_paths),
		cmocka_unit_test(test_ops_recorded),
		cmocka_unit_test(test_failed_write),
		cmocka_unit_test(test_finish_incomplete),
		cmocka_unit_test(test_oversized_frames),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_every_split_point),
		cmocka_unit_test(test_captured_openssh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
