/*
 * zstd_sweep: stored size and CPU speed of zstd parameter sets on the
 * bench's terminal text, fed as the recorder feeds its writer.
 *
 *   zstd_sweep [--data FILE] [--piece N] [--flush N] [--frame N]
 *              [--reps N] [--mib N] SPEC...
 *
 * SPEC is a comma list of KEY=VALUE: level, strategy (dfast, greedy, lazy,
 * lazy2, btlazy2 or a number), wlog, clog, hlog, slog, mml, tlen, row
 * (0 auto, 1 on, 2 off), ldm (0/1); "writer" alone is the writer's own
 * parameters (rec__tw_zstd_params, level 0).  Each spec compresses the first
 * --mib MiB (default 128) of FILE ($ESCORT_BENCH_DATA, else
 * build/bench/data) in pieces of --piece bytes (default 16384, the size
 * escort-rec-send sends) with ZSTD_e_continue, ends a zstd block
 * (ZSTD_e_flush) whenever --flush raw bytes are pending (default 1048576,
 * RECD_FLUSH_BYTES: every segment ends at a flush) and ends the frame once
 * --frame raw bytes are in it (default 4 MiB, the writer's chunk_raw_max).
 * Specs run in interleaved rounds (--reps, default 3) so that all see the
 * same load; CPU time from getrusage (user + system).  Prints per spec
 *   sweep: SPEC ratio R mbps_cpu MEDIAN (min MIN max MAX) vs_first X
 * with R = compressed bytes / raw bytes (no segment framing) and X the
 * median over the rounds of MB/s / the first spec's MB/s in that round.
 * Built and run by tests/bench/zstd_sweep.sh.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <zstd.h>

#ifdef SWEEP_WITH_WRITER
#include "recorder/tw_internal.h"
#endif

#define SPEC_MAX	64
#define REPS_MAX	15

struct spec {
	const char *text;
	double mbps[REPS_MAX];
	double rel[REPS_MAX];		/* mbps / the first spec's, same round */
	size_t out;
};

static void
die(const char *what)
{
	fprintf(stderr, "zstd_sweep: %s\n", what);
	exit(1);
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static uint8_t *
load(const char *path, size_t want)
{
	uint8_t *p = malloc(want);
	size_t have = 0;
	ssize_t n;
	int fd;

	if (p == NULL || (fd = open(path, O_RDONLY)) < 0)
		die(path);
	while (have < want && (n = read(fd, p + have, want - have)) > 0)
		have += (size_t)n;
	close(fd);
	if (have < want)
		die("data file too short");
	return p;
}

struct key {
	const char *name;
	ZSTD_cParameter param;
};

static const struct key keys[] = {
	{ "level", ZSTD_c_compressionLevel },
	{ "strategy", ZSTD_c_strategy },
	{ "wlog", ZSTD_c_windowLog },
	{ "clog", ZSTD_c_chainLog },
	{ "hlog", ZSTD_c_hashLog },
	{ "slog", ZSTD_c_searchLog },
	{ "mml", ZSTD_c_minMatch },
	{ "tlen", ZSTD_c_targetLength },
	{ "row", ZSTD_c_experimentalParam14 },
	{ "ldm", ZSTD_c_enableLongDistanceMatching },
};

static const char *const strategies[] = {
	"", "fast", "dfast", "greedy", "lazy", "lazy2", "btlazy2", "btopt",
};

/* Sets the parameters of spec on cz. */
static void
apply(ZSTD_CCtx *cz, const char *spec)
{
	char copy[512], *tok, *save = NULL, *eq;
	size_t i;
	int v;

	ZSTD_CCtx_reset(cz, ZSTD_reset_session_and_parameters);
	snprintf(copy, sizeof(copy), "%s", spec);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "writer") == 0) {
#ifdef SWEEP_WITH_WRITER
			rec__tw_zstd_params(cz, 0);
			continue;
#else
			die("built without the writer's parameters");
#endif
		}
		if ((eq = strchr(tok, '=')) == NULL)
			die(tok);
		*eq++ = '\0';
		v = atoi(eq);
		for (i = 1; i < sizeof(strategies) / sizeof(*strategies); i++)
			if (strcmp(eq, strategies[i]) == 0)
				v = (int)i;
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (strcmp(tok, keys[i].name) == 0)
				break;
		if (i == sizeof(keys) / sizeof(*keys))
			die(tok);
		if (ZSTD_isError(ZSTD_CCtx_setParameter(cz, keys[i].param, v)))
			die(spec);
	}
	ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, 0);
}

/* Compresses text as the writer does; returns CPU seconds, *out bytes. */
static double
run(ZSTD_CCtx *cz, const char *spec, const uint8_t *text, size_t size,
    size_t piece, size_t flush, size_t frame, size_t *out)
{
	size_t cap = ZSTD_CStreamOutSize(), off = 0, n, pending = 0, inframe = 0,
	    zr, total = 0;
	static uint8_t outb[1u << 18];
	ZSTD_EndDirective how;
	double c0;

	if (cap > sizeof(outb))
		die("output buffer");
	apply(cz, spec);
	c0 = cpu_s();
	while (off < size) {
		n = size - off < piece ? size - off : piece;
		ZSTD_inBuffer in = { text + off, n, 0 };
		while (in.pos < in.size) {
			ZSTD_outBuffer zo = { outb, cap, 0 };

			if (ZSTD_isError(ZSTD_compressStream2(cz, &zo, &in,
			    ZSTD_e_continue)))
				die("compress");
			total += zo.pos;
		}
		off += n;
		pending += n;
		inframe += n;
		if (pending < flush && off < size)
			continue;
		how = inframe >= frame || off >= size ? ZSTD_e_end : ZSTD_e_flush;
		do {
			ZSTD_inBuffer none = { NULL, 0, 0 };
			ZSTD_outBuffer zo = { outb, cap, 0 };

			zr = ZSTD_compressStream2(cz, &zo, &none, how);
			if (ZSTD_isError(zr))
				die("compress");
			total += zo.pos;
		} while (zr != 0);
		pending = 0;
		if (how == ZSTD_e_end)
			inframe = 0;
	}
	*out = total;
	return cpu_s() - c0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "piece", required_argument, NULL, 'p' },
		{ "flush", required_argument, NULL, 'f' },
		{ "frame", required_argument, NULL, 'F' },
		{ "reps", required_argument, NULL, 'r' },
		{ "mib", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = getenv("ESCORT_BENCH_DATA");
	size_t piece = 16384, flush = 1u << 20, frame = 4u << 20, mib = 128;
	struct spec specs[SPEC_MAX];
	int c, i, k, nspec, reps = 3;
	ZSTD_CCtx *cz;
	uint8_t *text;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'p': piece = strtoul(optarg, NULL, 0); break;
		case 'f': flush = strtoul(optarg, NULL, 0); break;
		case 'F': frame = strtoul(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		case 'm': mib = strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (data == NULL || *data == '\0')
		data = "build/bench/data";
	nspec = argc - optind;
	if (nspec < 1 || nspec > SPEC_MAX || reps < 1 || reps > REPS_MAX ||
	    piece == 0)
		die("usage: zstd_sweep [--data F] [--piece N] [--flush N] "
		    "[--frame N] [--reps N] [--mib N] SPEC...");
	text = load(data, mib << 20);
	if ((cz = ZSTD_createCCtx()) == NULL)
		die("ZSTD_createCCtx");
	for (i = 0; i < nspec; i++)
		specs[i].text = argv[optind + i];
	/* Untimed: the first run pays the context's tables and page faults. */
	run(cz, specs[0].text, text, (mib < 8 ? mib : 8) << 20, piece, flush,
	    frame, &specs[0].out);
	for (k = 0; k < reps; k++) {
		for (i = 0; i < nspec; i++) {
			double s = run(cz, specs[i].text, text, mib << 20, piece,
			    flush, frame, &specs[i].out);

			specs[i].mbps[k] = (mib << 20) / 1e6 / (s > 0 ? s : 1e-9);
			specs[i].rel[k] = specs[i].mbps[k] / specs[0].mbps[k];
		}
	}
	for (i = 0; i < nspec; i++) {
		struct spec *p = &specs[i];

		qsort(p->mbps, (size_t)reps, sizeof(double), cmp_double);
		qsort(p->rel, (size_t)reps, sizeof(double), cmp_double);
		printf("sweep: %s ratio %.4f mbps_cpu %.1f (min %.1f max %.1f) "
		    "vs_first %.3f\n", p->text,
		    (double)p->out / (double)(mib << 20), p->mbps[reps / 2],
		    p->mbps[0], p->mbps[reps - 1], p->rel[reps / 2]);
	}
	fflush(stdout);
	ZSTD_freeCCtx(cz);
	free(text);
	return 0;
}
