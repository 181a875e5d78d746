/*
 * bench_transcript: size and speed of the transcript format.
 *
 *   bench_transcript [--data FILE] [--level N] [--chunk-kib N] [--no-deep]
 *
 * Writes 128 MiB of terminal text (FILE, else $ESCORT_BENCH_DATA, else
 * `find / -xdev -ls` output generated into a temp file and repeated as
 * needed) as OUTPUT events of 4-16 KiB into a session through the writer,
 * flushing a segment whenever 256 KiB raw are pending (the recorder's
 * policy), then verifies the store and reads the session back.  Prints
 * `bench: NAME VALUE UNIT` lines:
 *   transcript_size_ratio   stored bytes / raw bytes
 *   transcript_write_mbps   raw MB/s per core (CPU time of the writer)
 *   transcript_verify_mbps  stored MB/s verified (chain, CRC, signatures)
 *   transcript_verify_anchor_mbps  same with an anchor file (verify --all
 *                           --anchor: tree heads against the journal's
 *                           Merkle tree); _raw_mbps: in raw bytes
 *   transcript_verify_deep_mbps  same, decoding every event as well
 *   transcript_read_mbps    raw MB/s read back through the reader
 *   transcript_zstd3_size_ratio, transcript_zstd3_write_mbps
 *                           the same text at plain zstd level 3, beside
 *                           the default parameters (without --level)
 * and, side by side with a baseline measured in the same run (CPU time, so
 * that other load on a shared machine moves them little; each the median
 * of 5 interleaved runs, with min and max printed beside it):
 *   transcript_zstd_only_mbps      baseline: raw MB/s per core of zstd
 *                           alone, the writer's parameters, the same pieces
 *                           and flushes, no framing, hashing or signing
 *   transcript_write_cpu_mbps      the writer's raw MB/s per core, again
 *                           (a session per run, interleaved with zstd alone)
 *   transcript_write_vs_zstd_only  writer MB/s per core / zstd alone (the
 *                           median of the ratios of each pair of runs)
 *   transcript_verify_anchor_cpu_mbps  stored MB/s per CPU second of
 *                           verify --all --anchor
 *   transcript_sha256_cpu_mbps     baseline: stored MB/s per CPU second of
 *                           reading the session file and SHA-256 over it
 *                           (OpenSSL, the floor of any check of every byte)
 *   transcript_verify_anchor_vs_sha256  the first over the second
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <zstd.h>

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "recorder/treehead.h"
#include "recorder/tw_internal.h"
#include "recorder/verify.h"

#define BENCH_SIZE	(128u << 20)
#define BENCH_FLUSH_RAW	(256u << 10)

static double
now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "bench_transcript: %s: %s\n", what, r ? rec_strerror(r) : "failed");
	exit(1);
}

/* Loads BENCH_SIZE bytes from path, repeating its content when shorter. */
static uint8_t *
load(const char *path)
{
	uint8_t *p = malloc(BENCH_SIZE);
	size_t have = 0;
	ssize_t n;
	int fd;

	if (p == NULL || (fd = open(path, O_RDONLY)) < 0)
		die(path, 0);
	while (have < BENCH_SIZE) {
		n = read(fd, p + have, BENCH_SIZE - have);
		if (n < 0)
			die(path, 0);
		if (n == 0) {
			if (have == 0)
				die("empty data file", 0);
			lseek(fd, 0, SEEK_SET);
			continue;
		}
		have += (size_t)n;
	}
	close(fd);
	return p;
}

static void
gen_data(const char *path)
{
	char cmd[4400];

	snprintf(cmd, sizeof(cmd), "nice find / -xdev -ls > '%s' 2>/dev/null", path);
	if (system(cmd) == -1)
		die("find / -xdev -ls", 0);
}

static void
write_key(const char *path)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f = fopen(path, "w");

	if (k == NULL || f == NULL)
		die("key generation", 0);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(k);
}

#define BENCH_REPS	5

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Prints "bench: NAME MEDIAN UNIT" and the spread of v[0..n) (sorted). */
static double
print_median(const char *name, double *v, int n, const char *unit)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("bench: %s %.1f %s\n", name, v[n / 2], unit);
	printf("%s: min %.1f, median %.1f, max %.1f %s over %d runs\n", name,
	    v[0], v[n / 2], v[n - 1], unit, n);
	fflush(stdout);
	return v[n / 2];
}

/* CPU seconds of zstd alone over the text with the writer's parameters,
 * fed and flushed as write_session feeds the writer. */
static double
zstd_only(const uint8_t *text, const struct tw_opts *o)
{
	ZSTD_CCtx *cz = ZSTD_createCCtx();
	size_t cap = ZSTD_CStreamOutSize(), off = 0, piece, pending = 0,
	    frame = 0, zr;
	size_t chunk = o->chunk_raw_max ? o->chunk_raw_max : 4u << 20;
	uint8_t *outb = malloc(cap);
	uint64_t rnd = 88172645463325252ull;
	ZSTD_EndDirective how;
	double c0;

	if (cz == NULL || outb == NULL)
		die("zstd", 0);
	rec__tw_zstd_params(cz, o->zstd_level);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	while (off < BENCH_SIZE) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		piece = 4096 + (size_t)(rnd % 12289);
		if (piece > BENCH_SIZE - off)
			piece = BENCH_SIZE - off;
		ZSTD_inBuffer in = { text + off, piece, 0 };
		while (in.pos < in.size) {
			ZSTD_outBuffer zo = { outb, cap, 0 };

			if (ZSTD_isError(ZSTD_compressStream2(cz, &zo, &in,
			    ZSTD_e_continue)))
				die("zstd", 0);
		}
		off += piece;
		pending += piece;
		frame += piece;
		if (pending < BENCH_FLUSH_RAW && off < BENCH_SIZE)
			continue;
		how = frame >= chunk || off >= BENCH_SIZE ? ZSTD_e_end : ZSTD_e_flush;
		do {
			ZSTD_inBuffer none = { NULL, 0, 0 };
			ZSTD_outBuffer zo = { outb, cap, 0 };

			zr = ZSTD_compressStream2(cz, &zo, &none, how);
			if (ZSTD_isError(zr))
				die("zstd", 0);
		} while (zr != 0);
		pending = 0;
		if (how == ZSTD_e_end)
			frame = 0;
	}
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	ZSTD_freeCCtx(cz);
	free(outb);
	return c0;
}

/* CPU seconds of reading path and hashing it with SHA-256. */
static double
sha256_file(const char *path)
{
	static uint8_t b[1u << 20];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t md[32];
	double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		die(path, 0);
	while ((n = read(fd, b, sizeof(b))) > 0)
		EVP_DigestUpdate(c, b, (size_t)n);
	EVP_DigestFinal_ex(c, md, NULL);
	close(fd);
	EVP_MD_CTX_free(c);
	return now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

struct counter {
	int problems;
};

static void
count_cb(void *arg, int ok, const char *session, uint32_t index, uint64_t off,
    const char *msg)
{
	struct counter *c = arg;

	(void)index;
	(void)off;
	if (!ok) {
		c->problems++;
		fprintf(stderr, "verify: %s: %s\n", session, msg);
	}
}

/* Writes the whole text as session id, flushing at BENCH_FLUSH_RAW; returns
 * the CPU seconds spent. */
static double
write_session(const char *store, const char *id, struct journal *j,
    const struct seal_signer *signer, const struct tw_opts *o,
    const uint8_t *text)
{
	struct tw *w;
	struct buf b;
	size_t off = 0, piece, pending = 0;
	uint64_t seq = 1, rnd = 88172645463325252ull;
	double c0, w0;
	int r;

	buf_init(&b, 0);
	ev_encode_parts(&b, 1, 0, EV_META, 0, NULL, 0);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now_s(CLOCK_MONOTONIC);
	if ((r = tw_create(store, id, buf_ptr(&b), buf_len(&b), signer, j, o,
	    &w)) != REC_OK)
		die("tw_create", r);
	while (off < BENCH_SIZE) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		piece = 4096 + (size_t)(rnd % 12289);
		if (piece > BENCH_SIZE - off)
			piece = BENCH_SIZE - off;
		buf_reset(&b);
		seq++;
		ev_encode_parts(&b, seq, seq * 1000, EV_OUTPUT, 0, text + off, piece);
		if ((r = tw_append(w, buf_ptr(&b), buf_len(&b))) != REC_OK)
			die("tw_append", r);
		off += piece;
		pending += buf_len(&b);
		if (pending >= BENCH_FLUSH_RAW) {
			if ((r = tw_flush(w, NULL)) != REC_OK)
				die("tw_flush", r);
			pending = 0;
		}
	}
	buf_reset(&b);
	seq++;
	ev_encode_parts(&b, seq, seq * 1000, EV_END, 0, NULL, 0);
	if ((r = tw_append(w, buf_ptr(&b), buf_len(&b))) != REC_OK ||
	    (r = tw_close(w, NULL, NULL)) != REC_OK)
		die("tw_close", r);
	buf_free(&b);
	fprintf(stderr, "bench_transcript: session %s written in %.2f s\n", id,
	    now_s(CLOCK_MONOTONIC) - w0);
	return now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "level", required_argument, NULL, 'l' },
		{ "chunk-kib", required_argument, NULL, 'c' },
		{ "no-deep", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = getenv("ESCORT_BENCH_DATA");
	const char *tmpbase = getenv("ESCORT_BENCH_TMP");
	char dir[4096], store[4200], key[4200], gen[4200], path[4300], cmd[4300];
	struct tw_opts o;
	struct seal_signer *signer;
	struct seal_verifier *v;
	struct journal *j;
	struct tr *rd;
	struct ev e;
	struct stat st;
	struct counter cnt;
	uint8_t *text;
	size_t off = 0;
	uint64_t rawread = 0;
	double c0, c1, w0, w1;
	int c, r, deep = 1;

	memset(&o, 0, sizeof(o));
	o.no_sync = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'l': o.zstd_level = atoi(optarg); break;
		case 'c': o.chunk_raw_max = (size_t)atoi(optarg) << 10; break;
		case 'n': deep = 0; break;
		default: return 2;
		}
	}
	snprintf(dir, sizeof(dir), "%s/bench-transcript-XXXXXX",
	    tmpbase && *tmpbase ? tmpbase : "/tmp");
	mkdir(tmpbase && *tmpbase ? tmpbase : "/tmp", 0700);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", 0);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (data == NULL || *data == '\0') {
		snprintf(gen, sizeof(gen), "%s/find-ls.txt", dir);
		gen_data(gen);
		data = gen;
	}
	text = load(data);
	write_key(key);
	if ((r = seal_signer_load(key, &signer)) != REC_OK)
		die("signer", r);
	if ((r = rec__seal_signer_verifier(signer, &v)) != REC_OK)
		die("verifier", r);
	if ((r = rec__journal_open(store, signer, 1, &j)) != REC_OK)
		die("journal", r);

	c1 = write_session(store, "bench", j, signer, &o, text);
	c0 = 0;
	tw_path(store, "bench", path, sizeof(path));
	stat(path, &st);
	printf("bench: transcript_size_ratio %.4f stored/raw\n",
	    (double)st.st_size / BENCH_SIZE);
	printf("bench: transcript_stored_bytes %lld bytes\n", (long long)st.st_size);
	printf("bench: transcript_write_mbps %.0f MB/s\n",
	    BENCH_SIZE / 1e6 / (c1 - c0));
	fflush(stdout);

	memset(&cnt, 0, sizeof(cnt));
	w0 = now_s(CLOCK_MONOTONIC);
	r = verify_store(store, v, NULL, 0, 0, count_cb, &cnt);
	w1 = now_s(CLOCK_MONOTONIC);
	if (r != 0)
		die("verify found problems", r < 0 ? r : 0);
	printf("bench: transcript_verify_mbps %.0f MB/s\n", st.st_size / 1e6 / (w1 - w0));
	fflush(stdout);
	{
		/* verify --all --anchor: the same, plus every head of an
		 * anchor file checked against the journal's Merkle tree. */
		struct tree_head h;
		char anchor[4300], line[TREEHEAD_LINE_MAX];
		FILE *af;

		snprintf(anchor, sizeof(anchor), "%s/anchor.txt", dir);
		if ((r = journal_head_issue(j, 1, &h)) != REC_OK ||
		    (af = fopen(anchor, "w")) == NULL)
			die("tree head", r);
		treehead_format(&h, line, sizeof(line));
		fprintf(af, "%s\n", line);
		fclose(af);
		w0 = now_s(CLOCK_MONOTONIC);
		r = verify_store_anchored(store, v, NULL, 0, 0, anchor, count_cb,
		    &cnt);
		w1 = now_s(CLOCK_MONOTONIC);
		if (r != 0)
			die("verify --anchor found problems", r < 0 ? r : 0);
		printf("bench: transcript_verify_anchor_mbps %.0f MB/s\n",
		    st.st_size / 1e6 / (w1 - w0));
		printf("bench: transcript_verify_anchor_raw_mbps %.0f MB/s\n",
		    BENCH_SIZE / 1e6 / (w1 - w0));
		fflush(stdout);
	}
	{
		/* CPU time, side by side with their baselines, interleaved. */
		double vc[BENCH_REPS], sc[BENCH_REPS], zc[BENCH_REPS];
		double wc[BENCH_REPS], pr[BENCH_REPS], wv, ws;
		char anchor[4300], wid[32], wstore[4300];
		struct journal *wj;
		int k;

		/* The writer's runs go to a store of their own: the one
		 * verified keeps its single session. */
		snprintf(anchor, sizeof(anchor), "%s/anchor.txt", dir);
		snprintf(wstore, sizeof(wstore), "%s/wstore", dir);
		if ((r = rec__journal_open(wstore, signer, 1, &wj)) != REC_OK)
			die("journal", r);
		for (k = 0; k < BENCH_REPS; k++) {
			c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
			r = verify_store_anchored(store, v, NULL, 0, 0, anchor,
			    count_cb, &cnt);
			vc[k] = st.st_size / 1e6 /
			    (now_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
			if (r != 0)
				die("verify --anchor found problems", r < 0 ? r : 0);
			sc[k] = st.st_size / 1e6 / sha256_file(path);
			zc[k] = BENCH_SIZE / 1e6 / zstd_only(text, &o);
			snprintf(wid, sizeof(wid), "bench-w%d", k);
			wc[k] = BENCH_SIZE / 1e6 / write_session(wstore, wid, wj,
			    signer, &o, text);
			pr[k] = wc[k] / zc[k];
		}
		wv = print_median("transcript_verify_anchor_cpu_mbps", vc,
		    BENCH_REPS, "MB/s");
		ws = print_median("transcript_sha256_cpu_mbps", sc, BENCH_REPS,
		    "MB/s");
		printf("bench: transcript_verify_anchor_vs_sha256 %.4f x\n", wv / ws);
		print_median("transcript_zstd_only_mbps", zc, BENCH_REPS, "MB/s");
		print_median("transcript_write_cpu_mbps", wc, BENCH_REPS, "MB/s");
		qsort(pr, BENCH_REPS, sizeof(*pr), cmp_double);
		printf("bench: transcript_write_vs_zstd_only %.4f x\n",
		    pr[BENCH_REPS / 2]);
		journal_close(wj);
		fflush(stdout);
	}
	if (deep) {
		w0 = now_s(CLOCK_MONOTONIC);
		r = verify_store(store, v, NULL, 0, VERIFY_DEEP, count_cb, &cnt);
		w1 = now_s(CLOCK_MONOTONIC);
		if (r != 0)
			die("deep verify found problems", r < 0 ? r : 0);
		printf("bench: transcript_verify_deep_mbps %.0f MB/s\n",
		    st.st_size / 1e6 / (w1 - w0));
		fflush(stdout);
	}
	w0 = now_s(CLOCK_MONOTONIC);
	if ((r = tr_open(path, &rd)) != REC_OK)
		die("tr_open", r);
	off = 0;
	while ((r = tr_next(rd, &e)) == 1) {
		if (e.type == EV_OUTPUT) {
			if (memcmp(e.data, text + off, e.len) != 0)
				die("read back differs", 0);
			off += e.len;
		}
		rawread += e.len + EV_HDR_LEN;
	}
	w1 = now_s(CLOCK_MONOTONIC);
	if (r < 0 || off != BENCH_SIZE)
		die("read back incomplete", r);
	tr_free(rd);
	printf("bench: transcript_read_mbps %.0f MB/s\n", rawread / 1e6 / (w1 - w0));

	if (o.zstd_level == 0) {
		/* The same text at plain zstd level 3, side by side. */
		struct tw_opts o3 = o;
		char path3[4300];
		struct stat st3;

		o3.zstd_level = 3;
		c1 = write_session(store, "bench-zstd3", j, signer, &o3, text);
		tw_path(store, "bench-zstd3", path3, sizeof(path3));
		stat(path3, &st3);
		printf("bench: transcript_zstd3_size_ratio %.4f stored/raw\n",
		    (double)st3.st_size / BENCH_SIZE);
		printf("bench: transcript_zstd3_write_mbps %.0f MB/s\n",
		    BENCH_SIZE / 1e6 / c1);
	}
	journal_close(j);
	seal_verifier_free(v);
	seal_signer_free(signer);
	free(text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}
