/*
 * bench_proxy_xfer: CPU cost of parsing file transfers in passing.
 *
 *   bench_proxy_xfer [--mib N]
 *
 * Pushes N MiB (default 256) of file bytes through the SFTP filter as an
 * OpenSSH client would (32 KiB WRITEs or READ/DATA pairs, 64 in flight)
 * and through the scp watcher (one C line, 64 KiB pieces), and beside them
 * the floor every recorder of transfers pays: one SHA-256 pass and one
 * copy of the same bytes.  Prints `bench: NAME VALUE UNIT` lines:
 *   xfer_sha256_copy_mbps     the floor, MB/s per core
 *   sftp_filter_upload_mbps   client WRITEs + server STATUS through the filter
 *   sftp_filter_download_mbps client READs + server DATA through the filter
 *   scp_watch_upload_mbps     scp -t stream through the watcher
 *   sftp_filter_upload_ratio  upload MB/s over the floor (1.0 = no overhead)
 * Exits 1 if a digest the parsers report differs from the floor's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "proxy/px_error.h"
#include "proxy/xfer_scp.h"
#include "proxy/xfer_sftp_filter.h"

#define BLOCK		32768u
#define INFLIGHT	64u

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t *pk;
static size_t pkn;

static void
p8(uint8_t v) { pk[pkn++] = v; }
static void
p32(uint32_t v) { p8(v >> 24); p8(v >> 16); p8(v >> 8); p8(v); }
static void
p64(uint64_t v) { p32((uint32_t)(v >> 32)); p32((uint32_t)v); }
static void
pstr(const void *s, uint32_t n) { p32(n); memcpy(pk + pkn, s, n); pkn += n; }

static size_t
begin(uint8_t type)
{
	size_t at = pkn;

	p32(0);
	p8(type);
	return at;
}

static void
end(size_t at)
{
	uint32_t len = (uint32_t)(pkn - at - 4);

	pk[at] = len >> 24; pk[at + 1] = len >> 16;
	pk[at + 2] = len >> 8; pk[at + 3] = len;
}

static char want_hex[65];
static int digests_ok;

static void
check(const struct xfer_record *r)
{
	if (r->op == XFER_OP_FILE && strcmp(r->sha256_hex, want_hex) == 0)
		digests_ok++;
}

static void
drain(struct sftp_filter *f)
{
	struct xfer_record *r;
	size_t n;

	(void)sftp_filter_upstream(f, &n);
	sftp_filter_upstream_consume(f, n);
	(void)sftp_filter_downstream(f, &n);
	sftp_filter_downstream_consume(f, n);
	while ((r = sftp_filter_take_record(f)) != NULL) {
		check(r);
		xfer_record_free(r);
	}
}

static void
feed(struct sftp_filter *f, int client)
{
	int r = client ? sftp_filter_client(f, pk, pkn) :
	    sftp_filter_server(f, pk, pkn);

	if (r != PX_OK) {
		fprintf(stderr, "bench_proxy_xfer: %s\n", sftp_filter_error(f));
		exit(1);
	}
	drain(f);
	pkn = 0;
}

/* One file of size bytes from data, up (1) or down (0); returns CPU s. */
static double
sftp_run(const uint8_t *data, size_t size, int up)
{
	struct sftp_filter_config cfg;
	struct sftp_filter *f;
	uint32_t id = 1;
	uint64_t off = 0;
	size_t at, i;
	double t0;

	sftp_filter_config_init(&cfg);
	cfg.mode = XFER_MODE_BOTH;
	f = sftp_filter_new(&cfg);
	t0 = cpu_now();
	at = begin(1); p32(3); end(at); feed(f, 1);
	at = begin(2); p32(3); end(at); feed(f, 0);
	at = begin(3); p32(id); pstr("/bench", 6); p32(up ? 0x1a : 0x01);
	p32(0); end(at); feed(f, 1);
	at = begin(102); p32(id); pstr("H", 1); end(at); feed(f, 0);
	while (off < size) {
		uint64_t base = off;
		uint32_t base_id = id + 1;
		size_t cnt;

		for (cnt = 0; cnt < INFLIGHT && off < size; cnt++, off += BLOCK) {
			at = begin(up ? 6 : 5); p32(base_id + (uint32_t)cnt);
			pstr("H", 1); p64(off);
			if (up)
				pstr(data + off, BLOCK);
			else
				p32(BLOCK);
			end(at);
		}
		feed(f, 1);
		for (i = 0; i < cnt; i++) {
			if (up) {
				at = begin(101); p32(base_id + (uint32_t)i);
				p32(0); pstr("", 0); pstr("", 0);
			} else {
				at = begin(103); p32(base_id + (uint32_t)i);
				pstr(data + base + i * BLOCK, BLOCK);
			}
			end(at);
			if (!up)
				feed(f, 0);
		}
		if (pkn)
			feed(f, 0);
		id += (uint32_t)cnt;
	}
	at = begin(4); p32(++id); pstr("H", 1); end(at); feed(f, 1);
	at = begin(101); p32(id); p32(0); pstr("", 0); pstr("", 0); end(at);
	feed(f, 0);
	sftp_filter_free(f);
	return cpu_now() - t0;
}

static double
scp_run(const uint8_t *data, size_t size)
{
	struct scp_cmd cmd;
	struct scp_watch *w;
	struct xfer_record *r;
	char line[64];
	size_t off;
	double t0;

	scp_cmd_parse("scp -t /tmp/", &cmd);
	w = scp_watch_new(&cmd, 1 << 20);
	t0 = cpu_now();
	scp_watch_server(w, "", 1);
	snprintf(line, sizeof(line), "C0644 %zu bench\n", size);
	scp_watch_client(w, line, strlen(line));
	scp_watch_server(w, "", 1);
	for (off = 0; off < size; off += 65536)
		scp_watch_client(w, data + off, size - off < 65536 ? size - off :
		    65536);
	scp_watch_client(w, "", 1);
	scp_watch_server(w, "", 1);
	while ((r = scp_watch_take_record(w)) != NULL) {
		check(r);
		xfer_record_free(r);
	}
	scp_watch_free(w);
	scp_cmd_free(&cmd);
	return cpu_now() - t0;
}

int
main(int argc, char **argv)
{
	size_t mib = 256, size, i;
	uint8_t *data, *copy, md[32];
	double floor_s, up_s, down_s, scp_s, mb;
	uint32_t x = 1;

	if (argc == 3 && strcmp(argv[1], "--mib") == 0)
		mib = (size_t)strtoul(argv[2], NULL, 10);
	if (mib == 0 || mib > 4096) {
		fprintf(stderr, "usage: bench_proxy_xfer [--mib N]\n");
		return 2;
	}
	size = mib << 20;
	data = malloc(size);
	copy = malloc(BLOCK);
	pk = malloc((INFLIGHT + 2) * (BLOCK + 64) + (2u << 20));
	if (data == NULL || copy == NULL || pk == NULL)
		return 1;
	for (i = 0; i < size; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (uint8_t)(x >> 16);
	}
	mb = size / 1e6;
	/* the floor: copy each 32 KiB block once (into a reused buffer, as a
	 * relay does) and hash it */
	memset(copy, 0, BLOCK);
	floor_s = cpu_now();
	{
		EVP_MD_CTX *c = EVP_MD_CTX_new();

		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
		for (i = 0; i < size; i += BLOCK) {
			memcpy(copy, data + i, BLOCK);
			EVP_DigestUpdate(c, copy, BLOCK);
		}
		EVP_DigestFinal_ex(c, md, NULL);
		EVP_MD_CTX_free(c);
	}
	floor_s = cpu_now() - floor_s;
	for (i = 0; i < 32; i++)
		sprintf(want_hex + 2 * i, "%02x", md[i]);
	up_s = sftp_run(data, size, 1);
	down_s = sftp_run(data, size, 0);
	scp_s = scp_run(data, size);
	if (digests_ok != 3) {
		fprintf(stderr, "bench_proxy_xfer: %d of 3 digests right\n",
		    digests_ok);
		return 1;
	}
	printf("bench: xfer_sha256_copy_mbps %.0f MB/s\n", mb / floor_s);
	printf("bench: sftp_filter_upload_mbps %.0f MB/s\n", mb / up_s);
	printf("bench: sftp_filter_download_mbps %.0f MB/s\n", mb / down_s);
	printf("bench: scp_watch_upload_mbps %.0f MB/s\n", mb / scp_s);
	printf("bench: sftp_filter_upload_ratio %.2f x\n", floor_s / up_s);
	free(data);
	free(copy);
	free(pk);
	return 0;
}
