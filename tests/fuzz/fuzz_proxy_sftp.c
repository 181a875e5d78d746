/*
 * Fuzzer: sftp_filter fed both directions of a channel.
 *
 * Input: one byte of settings (bits 0-1 the sftp mode, bit 2 a 100-byte
 * content limit), then chunks: a tag byte (bit 4 set: server bytes, else
 * client bytes), a big-endian u16 length, the bytes.  The captures in
 * tests/unit/data/ (NAME.cap) have this format and seed the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/sftp_filter.h"

static void
check_record(const struct xfer_record *r)
{
	if (r->path == NULL)
		abort();
	if (r->op == XFER_OP_FILE && r->outcome != XFER_OUT_DENIED &&
	    r->sequential && strlen(r->sha256_hex) != 64)
		abort();
	if (r->content_len > 0 && r->content == NULL)
		abort();
	if (r->outcome == XFER_OUT_OK && r->status != 0)
		abort();
}

static void
drain(struct sftp_filter *f)
{
	struct xfer_record *r;
	size_t n;

	(void)sftp_filter_upstream(f, &n);
	sftp_filter_upstream_consume(f, n);
	(void)sftp_filter_downstream(f, &n);
	sftp_filter_downstream_consume(f, n / 2 + 1);
	while ((r = sftp_filter_take_record(f)) != NULL) {
		check_record(r);
		xfer_record_free(r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp_filter_config cfg;
	struct sftp_filter *f;
	size_t i, k;
	int r = PX_OK;

	if (size < 1)
		return 0;
	sftp_filter_config_init(&cfg);
	cfg.mode = (enum xfer_mode)(data[0] & 3);
	if (data[0] & 4)
		cfg.content_limit = 100;
	if ((f = sftp_filter_new(&cfg)) == NULL)
		return 0;
	for (i = 1; i + 3 <= size && r == PX_OK; i += 3 + k) {
		k = (size_t)data[i + 1] << 8 | data[i + 2];
		if (k > size - i - 3)
			k = size - i - 3;
		if (data[i] & 0x10)
			r = sftp_filter_server(f, data + i + 3, k);
		else
			r = sftp_filter_client(f, data + i + 3, k);
		if (r != PX_OK && sftp_filter_error(f)[0] == '\0')
			abort();
		drain(f);
	}
	sftp_filter_finish(f);
	drain(f);
	sftp_filter_free(f);
	return 0;
}
