/*
 * Fuzzer: scp exec command classification and scp_watch.
 *
 * Input: one settings byte.  With bit 7 set the rest is an exec command
 * line for scp_cmd_parse.  Otherwise bits 0-1 pick the command the channel
 * runs (scp -t /t/, scp -r -t /t, scp -f /f, scp -r -f /d/), then chunks: a
 * tag byte (bit 4 set: server bytes, else client bytes), a big-endian u16
 * length, the bytes -- the format of the captures in tests/unit/data/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/scp_watch.h"

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
	}
	scp_watch_finish(w);
	drain(w);
	scp_watch_free(w);
	return 0;
}
