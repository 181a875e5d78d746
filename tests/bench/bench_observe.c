/*
 * bench_observe: memory and speed of observe mode's screen model
 * (proxy/observe.h) on bulk terminal output.
 *
 *   bench_observe [--data FILE] [--mib N]
 *
 * Feeds the first N MiB (default 64) of FILE (else $ESCORT_BENCH_DATA, else
 * generated `ls -l`-like lines), its LF turned into CR LF as a terminal
 * receives it, to an 80x24 model in 16 KiB pieces, as the proxy does with a
 * shell's output.  Beside it, in the same run, the
 * baseline: libvterm's own screen layer (VTermScreen, what escort-replay
 * screen uses) fed the same pieces.  CPU time, median of 5 interleaved
 * runs.  Prints `bench: NAME VALUE UNIT` lines:
 *   observe_model_bytes        bytes the model holds for 80x24, after the
 *                              data and a switch to the alternate screen
 *                              and back (libvterm's allocations and ours,
 *                              counted by their allocator)
 *   observe_vterm_screen_bytes baseline: libvterm's screen layer, 80x24,
 *                              alternate screen enabled, no scrollback
 *   observe_model_cpu_mbps     MB/s per CPU second through the model
 *   observe_vterm_screen_cpu_mbps  baseline: the same through VTermScreen
 *   observe_model_vs_vterm_screen  the first over the second
 *   observe_model_color_cpu_mbps   the model on the same lines each in a
 *                              colour and erased to their end (ls --color,
 *                              grep --color), in MB/s of that output
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vterm.h>

#include "proxy/observe.h"

#define PIECE (16 * 1024)
#define RUNS 5

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the baseline's allocator, counting --------------------------------- */

static size_t vt_bytes;

static void *
count_malloc(size_t n, void *ud)
{
	size_t *p = calloc(1, n + sizeof(max_align_t));

	(void)ud;
	if (p == NULL)
		return NULL;
	*p = n;
	vt_bytes += n;
	return (char *)p + sizeof(max_align_t);
}

static void
count_free(void *q, void *ud)
{
	size_t *p;

	(void)ud;
	if (q == NULL)
		return;
	p = (size_t *)((char *)q - sizeof(max_align_t));
	vt_bytes -= *p;
	free(p);
}

static VTermAllocatorFunctions counting = { count_malloc, count_free };

static VTerm *
screen_new(void)
{
	VTerm *vt = vterm_new_with_allocator(24, 80, &counting, NULL);
	VTermScreen *s;

	if (vt == NULL)
		return NULL;
	vterm_set_utf8(vt, 1);
	s = vterm_obtain_screen(vt);
	vterm_screen_enable_altscreen(s, 1);
	vterm_screen_reset(s, 1);
	return vt;
}

/* ---- data ----------------------------------------------------------------- */

static uint8_t *
load(const char *path, size_t want, size_t *got)
{
	uint8_t *d = malloc(want);
	size_t n = 0;
	int fd = path ? open(path, O_RDONLY) : -1;

	if (d == NULL)
		return NULL;
	if (fd >= 0) {	/* as a terminal shows it: LF becomes CR LF (onlcr) */
		uint8_t buf[65536];
		ssize_t r;
		while (n < want && (r = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < r && n < want; i++) {
				if (buf[i] == '\n' && n + 1 < want)
					d[n++] = '\r';
				d[n++] = buf[i];
			}
		close(fd);
	}
	if (n < want) {		/* no data file: ls -l-like lines, LF turned to CR LF by a tty */
		size_t i = 0;
		while (n < want) {
			char line[160];
			int l = snprintf(line, sizeof(line), "-rw-r--r-- 1 root root %8zu Dec  5 13:00 "
			    "/usr/share/doc/package-%zu/changelog.Debian.gz\r\n", i * 37 % 99991, i);
			for (int k = 0; k < l && n < want; k++)
				d[n++] = (uint8_t)line[k];
			i++;
		}
	}
	*got = n;
	return d;
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
		{ "mib", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("ESCORT_BENCH_DATA");
	size_t mib = 64, n, off;
	double model[RUNS], screen[RUNS], ratio[RUNS], t0;
	size_t model_bytes = 0, screen_bytes = 0;
	uint8_t *d;
	int c;

	while ((c = getopt_long(argc, argv, "d:m:", opts, NULL)) != -1) {
		if (c == 'd')
			path = optarg;
		else if (c == 'm')
			mib = (size_t)strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: bench_observe [--data FILE] [--mib N]\n");
			return 2;
		}
	}
	if (mib == 0 || (d = load(path, mib << 20, &n)) == NULL) {
		fprintf(stderr, "bench_observe: no memory for %zu MiB\n", mib);
		return 1;
	}
	for (int run = 0; run < RUNS; run++) {
		struct obs *o = px__obs_new(24, 80, 1);
		VTerm *vt;

		if (o == NULL) {
			fprintf(stderr, "bench_observe: px__obs_new failed\n");
			return 1;
		}
		t0 = cpu_s();
		for (off = 0; off < n; off += PIECE)
			px__obs_output(o, d + off, n - off < PIECE ? n - off : PIECE);
		model[run] = (double)n / (cpu_s() - t0) / 1e6;
		px__obs_output(o, (const uint8_t *)"\033[?1049hfull screen\033[?1049l$ ", 30);
		if (px__obs_mem_bytes(o) > model_bytes)
			model_bytes = px__obs_mem_bytes(o);
		px__obs_free(o);

		vt_bytes = 0;
		if ((vt = screen_new()) == NULL) {
			fprintf(stderr, "bench_observe: vterm_new failed\n");
			return 1;
		}
		t0 = cpu_s();
		for (off = 0; off < n; off += PIECE)
			vterm_input_write(vt, (const char *)d + off, n - off < PIECE ? n - off : PIECE);
		screen[run] = (double)n / (cpu_s() - t0) / 1e6;
		vterm_input_write(vt, "\033[?1049hfull screen\033[?1049l$ ", 30);
		if (vt_bytes > screen_bytes)
			screen_bytes = vt_bytes;
		vterm_free(vt);
		ratio[run] = model[run] / screen[run];
	}
	printf("bench: observe_model_bytes %zu bytes\n", model_bytes);
	printf("bench: observe_vterm_screen_bytes %zu bytes\n", screen_bytes);
	qsort(model, RUNS, sizeof(double), cmp_double);
	qsort(screen, RUNS, sizeof(double), cmp_double);
	qsort(ratio, RUNS, sizeof(double), cmp_double);
	printf("bench: observe_model_cpu_mbps %.1f MB/s\n", model[RUNS / 2]);
	printf("bench: observe_vterm_screen_cpu_mbps %.1f MB/s\n", screen[RUNS / 2]);
	printf("bench: observe_model_vs_vterm_screen %.4f x\n", ratio[RUNS / 2]);
	fflush(stdout);
	fprintf(stderr, "bench_observe: %zu MiB x %d runs; model %.1f..%.1f MB/s, "
	    "VTermScreen %.1f..%.1f MB/s\n", n >> 20, RUNS, model[0], model[RUNS - 1],
	    screen[0], screen[RUNS - 1]);
	/* the same lines in colour */
	{
		size_t cn = 0, i = 0, cap = n + n / 4 + 64;
		uint8_t *cd = malloc(cap);
		double best[RUNS];
		if (cd == NULL)
			return 1;
		while (i < n && cn + 32 < cap) {
			int l = snprintf((char *)cd + cn, cap - cn, "\033[01;3%dm", (int)(i % 7) + 1);
			cn += (size_t)l;
			while (i < n && d[i] != '\r' && cn + 16 < cap)
				cd[cn++] = d[i++];
			memcpy(cd + cn, "\033[0m\033[K", 7);
			cn += 7;
			while (i < n && (d[i] == '\r' || d[i] == '\n') && cn < cap)
				cd[cn++] = d[i++];
		}
		for (int run = 0; run < RUNS; run++) {
			struct obs *o = px__obs_new(24, 80, 1);
			if (o == NULL)
				return 1;
			t0 = cpu_s();
			for (off = 0; off < cn; off += PIECE)
				px__obs_output(o, cd + off, cn - off < PIECE ? cn - off : PIECE);
			best[run] = (double)cn / (cpu_s() - t0) / 1e6;
			px__obs_free(o);
		}
		qsort(best, RUNS, sizeof(double), cmp_double);
		printf("bench: observe_model_color_cpu_mbps %.1f MB/s\n", best[RUNS / 2]);
		free(cd);
	}
	free(d);
	return 0;
}
