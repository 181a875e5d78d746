/*
 * Fuzzer: sftp_filter fed both directions of a channel.
 *
 * Input: one byte of settings (bits 0-1 the sftp mode, bit 2 a 100-byte
 * content limit, bit 3 every path operation decided by a real policy's
 * transfer rules), then chunks: a tag byte (bit 4 set: server bytes, else
 * client bytes), a big-endian u16 length, the bytes.  The captures in
 * tests/unit/data/ (NAME.cap) have this format and seed the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "proxy/px_error.h"
#include "proxy/xfer_sftp_filter.h"

/* The transfer rules of a real policy (settings bit 3): paths under /etc,
 * anything ending in /secret and /t/a* (approve) are refused. */
static const char fuzz_policy[] =
"user u {\n}\n"
"target t {\n    address 127.0.0.1\n}\n"
"rule r {\n    who user:u\n    where *\n    sftp both\n"
"    deny \"... /etc/* ...\"\n    deny \"... */secret ...\"\n"
"    approve \"... /t/a* ...\"\n}\n";

static struct pol_session *fuzz_session;

static int
fuzz_check(void *ctx, enum pol_xfer_op op, const char *path, const char *path2,
    char *msg, size_t cap)
{
	struct pol_decision d;
	int ok;

	(void)ctx;
	if (path == NULL)
		abort();
	if (policy_decide_transfer(fuzz_session, op, path, path2, POL_ANYTIME, &d) ==
	    POL_E_NOMEM)
		abort();
	ok = d.verdict == POL_ALLOW;
	if (!ok)
		snprintf(msg, cap, "escort: %s", d.reason);
	pol_decision_free(&d);
	return ok;
}

static int
fuzz_check_init(void)
{
	struct policy *p;

	if (fuzz_session != NULL)
		return 0;
	if (policy_load_buffer("fuzz.conf", fuzz_policy, sizeof(fuzz_policy) - 1, 0,
	    &p, NULL) != 0)
		abort();
	if (policy_admit(p, "u", "t", POL_ANYTIME, &fuzz_session, NULL) != 0)
		abort();
	policy_unref(p);
	return 0;
}

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

static uint64_t fuzz_ids;

/* A tap never gets bytes of a transfer the filter did not number. */
static void
fuzz_tap(void *ctx, uint64_t file_id, const uint8_t *p, size_t n)
{
	(void)ctx;
	if (file_id > fuzz_ids || n == 0 || p == NULL)
		abort();
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
	if (data[0] & 8) {
		fuzz_check_init();
		cfg.check.fn = fuzz_check;
	}
	/* start records and the tap always on: ids and in-order bytes */
	cfg.ids.next = &fuzz_ids;
	cfg.tap.fn = fuzz_tap;
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
