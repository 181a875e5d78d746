/*
 * Fuzzer: scp exec command classification and scp_watch.
 *
 * Input: one settings byte.  With bit 7 set the rest is an exec command
 * line for scp_cmd_parse.  Otherwise bits 0-1 pick the command the channel
 * runs (scp -t /t/, scp -r -t /t, scp -f /f, scp -r -f /d/), bit 3 the
 * watcher in filter mode with a real policy's transfer rules, then chunks: a
 * tag byte (bit 4 set: server bytes, else client bytes), a big-endian u16
 * length, the bytes -- the format of the captures in tests/unit/data/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "proxy/px_error.h"
#include "proxy/xfer_scp.h"

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
drain(struct scp_watch *w)
{
	struct xfer_record *r;

	while ((r = scp_watch_take_record(w)) != NULL) {
		if (r->path == NULL)
			abort();
		if (r->op == XFER_OP_FILE && r->outcome == XFER_OUT_OK &&
		    strlen(r->sha256_hex) != 64)
			abort();
		xfer_record_free(r);
	}
}

/* The rebuilt command parses back to the same kind, options and paths
 * (but for "~" forms, which become relative paths). */
static void
check_render(const struct scp_cmd *c)
{
	struct scp_cmd back;
	char *line;
	size_t i;

	if (c->kind != SCP_CMD_UPLOAD && c->kind != SCP_CMD_DOWNLOAD)
		return;
	if (scp_cmd_render(c, &line) != PX_OK)
		abort();
	if (scp_cmd_parse(line, &back) != PX_OK)
		abort();
	if (back.kind != c->kind || back.npaths != c->npaths || back.recursive != c->recursive ||
	    back.preserve != c->preserve || back.dir_target != c->dir_target)
		abort();
	for (i = 0; i < c->npaths; i++)
		if (c->paths[i][0] != '~' && strcmp(back.paths[i], c->paths[i]) != 0)
			abort();
	scp_cmd_free(&back);
	free(line);
}

static uint64_t fuzz_ids;

/* A tap never gets bytes of a transfer the watcher did not number. */
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
	static const char *const cmds[] = {
		"scp -t /t/", "scp -r -t /t", "scp -f /f", "scp -r -f /d/",
	};
	struct scp_cmd cmd;
	struct scp_watch *w;
	size_t i, k;
	int r = PX_OK;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		char *line = strndup((const char *)data + 1, size - 1);

		if (line == NULL)
			return 0;
		if (scp_cmd_parse(line, &cmd) == PX_OK) {
			if ((cmd.kind == SCP_CMD_UPLOAD ||
			    cmd.kind == SCP_CMD_DOWNLOAD) && cmd.path == NULL)
				abort();
			if (cmd.kind == SCP_CMD_INVALID && cmd.reason == NULL)
				abort();
			check_render(&cmd);
			scp_cmd_free(&cmd);
		}
		free(line);
		return 0;
	}
	if (scp_cmd_parse(cmds[data[0] & 3], &cmd) != PX_OK)
		return 0;
	w = scp_watch_new(&cmd, (data[0] & 4) ? 10 : 1 << 20);
	scp_cmd_free(&cmd);
	if (w == NULL)
		return 0;
	{
		/* start records and the tap always on */
		struct xfer_ids ids = { &fuzz_ids };
		struct xfer_tap tap = { fuzz_tap, NULL };

		scp_watch_set_ids(w, &ids);
		scp_watch_set_tap(w, &tap);
	}
	if (data[0] & 8) {
		struct xfer_check check = { fuzz_check, NULL };

		fuzz_check_init();
		scp_watch_set_check(w, &check);
	}
	for (i = 1; i + 3 <= size && r == PX_OK; i += 3 + k) {
		k = (size_t)data[i + 1] << 8 | data[i + 2];
		if (k > size - i - 3)
			k = size - i - 3;
		if (data[i] & 0x10)
			r = scp_watch_server(w, data + i + 3, k);
		else
			r = scp_watch_client(w, data + i + 3, k);
		if (r != PX_OK && scp_watch_error(w)[0] == '\0')
			abort();
		drain(w);
		for (int side = 0; side < 2; side++) {
			size_t n;

			(void)scp_watch_output(w, side, &n);
			scp_watch_output_consume(w, side, n);
		}
	}
	scp_watch_finish(w);
	drain(w);
	scp_watch_free(w);
	return 0;
}
