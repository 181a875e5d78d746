/* screen.c: "escort-replay screen ID (--at SECONDS | --command N)
 * [--no-cache]": the technician's terminal screen as it stood at that
 * moment of the session, or just before decision N of "commands ID"
 * (libvterm, through vtmodel.h).  A closed session is read from the
 * nearest snapshot before that moment (screen_cache.h, built on first use);
 * --no-cache reads it from its start, every byte through libvterm (the
 * reference the snapshots are tested against).  A time past the session's
 * last event is an error (exit 1). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"
#include "replay/screen_at.h"

/* The window size an event records, if any: 1 when it has one. */
static int
screen_size_of(const struct ev *e, uint64_t *cols, uint64_t *rows)
{
	uint64_t c, r;

	if (e->type != EV_RESIZE && e->type != EV_CHANNEL)
		return 0;
	if (ev_fields_get_u64(e->data, e->len, EVF_COLS, &c) != REC_OK ||
	    ev_fields_get_u64(e->data, e->len, EVF_ROWS, &r) != REC_OK)
		return 0;
	if (c == 0 || r == 0 || c > VTM_MAX_DIM || r > VTM_MAX_DIM)
		c = 80, r = 24;
	*cols = c;
	*rows = r;
	return 1;
}

/* Applies one event to the run.  Returns 0 or -1 (out of memory). */
int
screen_apply(struct screen_run *s, const struct ev *e)
{
	if (screen_size_of(e, &s->cols, &s->rows)) {
		if (s->open)
			vtm_resize(&s->m, (int)s->rows, (int)s->cols);
		return 0;
	}
	if (e->type != EV_OUTPUT && e->type != EV_STDERR)
		return 0;
	if (!s->open) {
		if (vtm_open(&s->m, (int)s->rows, (int)s->cols) != 0)
			return -1;
		s->m.exact = s->exact;
		s->open = 1;
	}
	return vtm_write(&s->m, e->data, e->len);
}

/* Reads the whole session once and keeps a checked snapshot every
 * SCACHE_EVERY bytes of output.  Returns 0, or a REC_E* code. */
static int
screen_build(struct tr *r, struct scache *c)
{
	struct screen_run s = { .cols = 80, .rows = 24 };
	struct buf snap;
	uint64_t since = 0;
	struct ev e;
	int x, t;

	buf_init(&snap, 0);
	while ((x = tr_next(r, &e)) == 1) {
		if (screen_apply(&s, &e) != 0) {
			x = REC_ENOMEM;
			break;
		}
		if (e.type != EV_OUTPUT && e.type != EV_STDERR)
			continue;
		if ((since += e.len) < SCACHE_EVERY)
			continue;
		buf_reset(&snap);
		if ((t = vtm_snapshot(&s.m, &snap)) < 0 || (t == 1 &&
		    scache_add(c, e.seq + 1, tr_frame_offset(r), e.t_ns, s.m.rows,
		    s.m.cols,
		    buf_ptr(&snap), buf_len(&snap)) != 0)) {
			x = REC_ENOMEM;
			break;
		}
		if (t == 1)
			since = 0;
	}
	buf_free(&snap);
	if (s.open)
		vtm_free(&s.m);
	return x < 0 ? x : tr_seek_seq(r, 1);
}

/* Positions r at snapshot sn's next event: from the frame the cache
 * names when the first event read there is that one, else through the
 * index (a cache naming another frame costs time, not truth).  Returns
 * REC_OK or a read error. */
static int
screen_seek(struct tr *r, const struct scache_snap *sn)
{
	struct ev e;

	if (tr_seek_frame(r, sn->frame_off, sn->seq) == REC_OK &&
	    tr_next(r, &e) == 1 && e.seq == sn->seq)
		return tr_seek_frame(r, sn->frame_off, sn->seq);
	return tr_seek_seq(r, sn->seq);
}

/* The cache file of session id and its key (no summary read yet).
 * Returns 0, or -1 when there is none to use (path not named, file not
 * readable). */
static int
screen_cache_name(const char *store, const char *id, char *cpath, size_t csz,
    struct scache_key *k)
{
	char path[4096];
	struct stat st;

	if (tw_path(store, id, path, sizeof(path)) != REC_OK ||
	    stat(path, &st) != 0 ||
	    scache_key_make(path, id, (uint64_t)st.st_size, 0, 0, k) != 0)
		return -1;
	return scache_path(store, id, cpath, csz);
}

/* Builds the cache of a closed session and saves it; a cache that cannot
 * be saved is used anyway, with a warning.  Returns 0, or a REC_E* code. */
static int
screen_cache_build(struct tr *r, const char *cpath, struct scache *c)
{
	int x;

	if ((x = screen_build(r, c)) != REC_OK)
		return x;
	if (scache_save(c, cpath) != 0)
		replay_err("screen: warning: the snapshot cache %s could not be "
		    "written: %s (the screen is shown all the same)", cpath,
		    strerror(errno));
	return REC_OK;
}

int
screen_at_init(struct screen_at *sa, const char *store, const char *id,
    struct tr *r, int no_cache)
{
	struct scache_key key;
	int x;

	memset(sa, 0, sizeof(*sa));
	buf_init(&sa->cache.data, 0);
	sa->no_cache = no_cache;
	sa->have_cache = !no_cache && screen_cache_name(store, id, sa->cpath,
	    sizeof(sa->cpath), &key) == 0;
	if (sa->have_cache && scache_load(&sa->cache, sa->cpath, &key) == 1) {
		sa->sum.finished = 1;
		sa->sum.last_seq = sa->cache.key.last_seq;
		sa->sum.last_t_ns = sa->cache.key.last_t_ns;
		sa->have_cache = 2;
		return REC_OK;
	}
	if ((x = tr_summarize(r, &sa->sum)) != REC_OK)
		return x;
	return tr_seek_seq(r, 1);
}

int
screen_at_model(struct screen_at *sa, struct tr *r, uint64_t at_ns,
    uint64_t stop_seq, struct screen_run *s)
{
	const struct scache_snap *sn;
	struct ev e;
	int x;

	memset(s, 0, sizeof(*s));
	s->cols = 80;
	s->rows = 24;
	s->exact = sa->no_cache;
	if (sa->have_cache == 1 && sa->sum.finished && !sa->sum.damaged) {
		sa->cache.key.last_seq = sa->sum.last_seq;
		sa->cache.key.last_t_ns = sa->sum.last_t_ns;
		if ((x = screen_cache_build(r, sa->cpath, &sa->cache)) != REC_OK)
			return x;
		sa->have_cache = 2;
	}
	if ((sn = scache_find(&sa->cache, at_ns, stop_seq)) != NULL) {
		if (vtm_restore(&s->m, sn->rows, sn->cols, scache_bytes(&sa->cache,
		    sn), sn->len) != 0)
			return REC_ENOMEM;
		s->open = 1;
		s->rows = (uint64_t)sn->rows;
		s->cols = (uint64_t)sn->cols;
		if ((x = screen_seek(r, sn)) != REC_OK)
			return x;
	} else if ((x = tr_seek_seq(r, 1)) != REC_OK)
		return x;
	while ((x = tr_next(r, &e)) == 1 &&
	    (stop_seq != 0 ? e.seq < stop_seq : e.t_ns <= at_ns))
		if (screen_apply(s, &e) != 0)
			return REC_ENOMEM;
	return x < 0 ? x : REC_OK;
}

void
screen_run_free(struct screen_run *s)
{
	if (s->open)
		vtm_free(&s->m);
	s->open = 0;
}

void
screen_at_free(struct screen_at *sa)
{
	scache_free(&sa->cache);
}

int
replay_screen(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "command", required_argument, NULL, 'c' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct screen_run s = { .open = 0 };
	struct screen_at sa;
	const char *at_s = NULL;
	double at = -1;
	uint64_t at_ns = 0, cmd_n = 0, stop_seq = 0;
	struct tr *r;
	char *end;
	int c, x, no_cache = 0;

	while ((c = getopt_long(argc, argv, "a:c:n", opts, NULL)) != -1) {
		if (c == 'n') {
			no_cache = 1;
			continue;
		}
		if (c == 'c') {
			if (replay_cmd_parse_n(optarg, &cmd_n) != 0) {
				replay_err("screen: --command wants a command "
				    "number from 1 (as \"commands ID\" numbers them)");
				return 2;
			}
			continue;
		}
		if (c != 'a')
			goto usage;
		at = strtod(at_s = optarg, &end);
		if (*end != '\0' || !(at >= 0) || at > 1e9) {
			replay_err("screen: --at wants seconds >= 0");
			return 2;
		}
	}
	if (argc - optind == 1 && (at < 0) == (cmd_n == 0)) {
		replay_err("screen: give --at SECONDS or --command N%s",
		    at < 0 ? "" : ", not both");
		goto usage;
	}
	if (argc - optind != 1)
		goto usage;
	if (at >= 0)
		at_ns = (uint64_t)(at * 1e9);
	/* The file is verified on a second thread while the model is built
	 * (the two take about as long on a large session); nothing of it is
	 * shown, not even an error about its content, before the verdict. */
	if ((x = replay_open_bg(store, "screen", argv[optind], &r)) != 0)
		return x;
	/* A cache that names this file gives the end and the snapshots;
	 * without one the session's summary gives the end. */
	if ((x = screen_at_init(&sa, store, argv[optind], r, no_cache)) != REC_OK)
		goto rec_error;
	if (cmd_n != 0 || at_ns > sa.sum.last_t_ns) {
		if ((x = replay_open_wait()) != 0)
			goto out;
	}
	if (cmd_n == 0 && at_ns > sa.sum.last_t_ns) {
		replay_err("screen: %s: --at %s is past the end of the session: "
		    "its last event is at %.3f s%s", argv[optind], at_s,
		    (double)sa.sum.last_t_ns / 1e9,
		    sa.sum.finished ? "" : " (it is still open: so far)");
		x = 1;
		goto out;
	}
	if (cmd_n != 0 && (x = replay_cmd_locate(r, "screen", argv[optind], cmd_n,
	    &stop_seq, &at_ns)) != 0)
		goto out;
	if ((x = screen_at_model(&sa, r, at_ns, stop_seq, &s)) != REC_OK)
		goto rec_error;
	if ((x = replay_open_wait()) != 0)
		goto out;
	if (s.open)
		vtm_print(&s.m, stdout);
	x = 0;
	goto out;
rec_error:
	if ((c = replay_open_wait()) != 0) {	/* refused: that says it */
		x = c;
		goto out;
	}
	replay_err("screen: %s: %s at offset %llu", argv[optind],
	    rec_strerror(x), (unsigned long long)tr_error_offset(r));
	x = replay_rec_status(x);
out:
	replay_open_wait();	/* joined before the reader is freed */
	screen_run_free(&s);
	screen_at_free(&sa);
	tr_free(r);
	return x;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] screen ID "
	    "(--at SECONDS | --command N) [--no-cache]\n");
	return 2;
}
