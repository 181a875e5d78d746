/* watch: a supervised session's screen model and its watchers (watch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

#include "proxy/vt_guard.h"
#include "proxy/vt_render.h"
#include "proxy/watch.h"

/* Output held back from libvterm (see feed_model): at most this much. */
#define WATCH_LAZY (64 * 1024)

/* Classifying held output: text, CR, LF, TAB, BS, BEL, SGR and EL are
 * "simple" (they cannot move the cursor up, set modes or regions). */
enum { CL_GROUND, CL_ESC, CL_CSI };

struct px_watch {
	struct px_watch *next;          /* the table's list, while open */
	pthread_mutex_t mu;             /* guards everything below */
	int refs;
	int ended;
	char id[64];
	VTerm *vt;
	struct vt_guard guard;          /* what of the output reaches vt */
	int rows;                       /* vt's */
	int altscreen;                  /* vt shows the alternate screen */
	int region;                     /* a scroll region may be set */
	uint8_t *lazy;                  /* guarded output not given to vt yet */
	size_t lazy_len;
	size_t simple_from;             /* lazy[simple_from..] is simple */
	int cl_st, cl_private;          /* classifying: state, CSI with a prefix */
	char cl_par[32];                /* a CSI's parameters */
	size_t cl_parlen;
	struct px_watcher *watchers;
};

/* Terminal sizes kept in range: what a pty request may say is not trusted.
 * At least 2: libvterm 0.3 writes through a NULL pointer when a wide
 * character is printed on a 1-column screen (found by fuzz_proxy_watch). */
static int
clamp(int v, int dflt, int max)
{
	return v <= 0 ? dflt : v > max ? max : v < 2 ? 2 : v;
}

static int
settermprop(VTermProp prop, VTermValue *val, void *user)
{
	struct px_watch *w = user;

	if (prop == VTERM_PROP_ALTSCREEN)
		w->altscreen = val->boolean;
	return 1;
}

static const VTermScreenCallbacks screen_cbs = { .settermprop = settermprop };

/* Notes what byte b of the held output is: the simple part starts after
 * anything else; a scroll region is noted from DECSTBM's parameters. */
static void
classify(struct px_watch *w, uint8_t b, size_t pos)
{
	switch (w->cl_st) {
	case CL_GROUND:
		if (b == 0x1b)
			w->cl_st = CL_ESC;
		else if (b < 0x20 && b != '\r' && b != '\n' && b != '\t' && b != '\b' && b != 0x07)
			w->simple_from = pos + 1;
		return;
	case CL_ESC:
		if (b == '[') {
			w->cl_st = CL_CSI;
			w->cl_private = 0;
			w->cl_parlen = 0;
			return;
		}
		if (b == 'c')
			w->region = 0;	/* RIS */
		w->cl_st = b >= 0x20 && b <= 0x2f ? CL_ESC : CL_GROUND;
		w->simple_from = pos + 1;
		return;
	default:		/* CL_CSI */
		if (b >= 0x40 && b <= 0x7e) {
			w->cl_st = CL_GROUND;
			if (!w->cl_private && (b == 'm' || b == 'K'))
				return;
			w->simple_from = pos + 1;
			if (!w->cl_private && b == 'r') {
				int top = 0, bottom = 0;

				w->cl_par[w->cl_parlen] = '\0';
				(void)sscanf(w->cl_par, "%d;%d", &top, &bottom);
				w->region = !(top <= 1 && (bottom == 0 || bottom >= w->rows));
			}
			return;
		}
		if (b == 0x1b) {
			w->cl_st = CL_ESC;
			w->simple_from = pos + 1;
			return;
		}
		if (b < 0x30 || b > 0x3b)
			w->cl_private = 1;	/* '?', '>', intermediates: not SGR or EL */
		else if (w->cl_parlen < sizeof(w->cl_par) - 1)
			w->cl_par[w->cl_parlen++] = (char)b;
		return;
	}
}

/* Gives the first n held bytes to libvterm. */
static void
model_take(struct px_watch *w, size_t n)
{
	vterm_input_write(w->vt, (const char *)w->lazy, n);
	memmove(w->lazy, w->lazy + n, w->lazy_len - n);
	w->lazy_len -= n;
	w->simple_from = w->simple_from > n ? w->simple_from - n : 0;
}

/* Makes room for more held output.  Bulk output costs a scan, not an
 * emulation (libvterm scrolls its whole screen for each line): of simple
 * output on the main screen without a scroll region, the lines that
 * 2 x rows line feeds after them push off the screen are dropped unseen.
 * What they drew has scrolled away; a colour they set is lost.  The rest
 * is given to libvterm, oldest first. */
static void
model_room(struct px_watch *w, size_t need)
{
	size_t lf = 0, cut = 0, want = 2 * (size_t)w->rows;

	if (w->simple_from > 0)
		model_take(w, w->simple_from);
	if (!w->altscreen && !w->region) {
		for (size_t i = w->lazy_len; i > 0; i--)
			if (w->lazy[i - 1] == '\n' && ++lf > want) {
				cut = i;
				break;
			}
		if (cut > 0) {
			memmove(w->lazy, w->lazy + cut, w->lazy_len - cut);
			w->lazy_len -= cut;
		}
	}
	if (WATCH_LAZY - w->lazy_len < need)
		model_take(w, w->lazy_len > WATCH_LAZY / 2 ? w->lazy_len - WATCH_LAZY / 2 : w->lazy_len);
}

/* Brings the model up to date (before it is read or resized). */
static void
model_flush(struct px_watch *w)
{
	if (w->lazy_len > 0)
		model_take(w, w->lazy_len);
	w->simple_from = 0;
}

void
px__watches_init(struct px_watches *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
}

void
px__watches_free(struct px_watches *t)
{
	pthread_mutex_destroy(&t->mu);
}

struct px_watch *
px__watch_open(struct px_watches *t, const char *id, int rows, int cols)
{
	struct px_watch *w = calloc(1, sizeof(*w)), *o;

	if (w == NULL)
		return NULL;
	rows = clamp(rows, 24, 500);
	cols = clamp(cols, 80, 1000);
	if ((w->vt = vterm_new(rows, cols)) == NULL) {
		free(w);
		return NULL;
	}
	if ((w->lazy = malloc(WATCH_LAZY)) == NULL) {
		vterm_free(w->vt);
		free(w);
		return NULL;
	}
	w->rows = rows;
	vterm_set_utf8(w->vt, 1);
	vterm_screen_set_callbacks(vterm_obtain_screen(w->vt), &screen_cbs, w);
	vterm_screen_enable_altscreen(vterm_obtain_screen(w->vt), 1);
	vterm_screen_reset(vterm_obtain_screen(w->vt), 1);
	/* libvterm's REP (CSI Ps b) loops for good while the last glyph's
	 * width is 0, as before any glyph: print one and erase it (observe.c
	 * does the same); vt_guard keeps REP and zero-width characters out. */
	vterm_input_write(w->vt, " \r\x1b[2K", 6);
	pthread_mutex_init(&w->mu, NULL);
	w->refs = 1;
	snprintf(w->id, sizeof(w->id), "%s", id);
	pthread_mutex_lock(&t->mu);
	for (o = t->head; o != NULL; o = o->next)
		if (strcmp(o->id, w->id) == 0)
			break;
	if (o == NULL) {
		w->next = t->head;
		t->head = w;
	}
	pthread_mutex_unlock(&t->mu);
	if (o != NULL) {
		px__watch_unref(w);
		return NULL;
	}
	return w;
}

void
px__watch_close(struct px_watches *t, struct px_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	for (struct px_watch **pp = &t->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&t->mu);
	pthread_mutex_lock(&w->mu);
	w->ended = 1;
	for (struct px_watcher *x = w->watchers; x != NULL; x = x->next)
		x->wake(x->ud);
	pthread_mutex_unlock(&w->mu);
	px__watch_unref(w);
}

/* Gives n bytes of output to the model (through the guard).  Under mu. */
static void
model_feed(struct px_watch *w, const uint8_t *p, size_t n)
{
	for (size_t off = 0; off < n; off += 4096) {
		uint8_t safe[4096 + 68];
		size_t k = px__vt_guard_filter(&w->guard, p + off, n - off < 4096 ? n - off : 4096, safe);

		if (WATCH_LAZY - w->lazy_len < k)
			model_room(w, k);
		for (size_t j = 0; j < k; j++)
			classify(w, safe[j], w->lazy_len + j);
		memcpy(w->lazy + w->lazy_len, safe, k);
		w->lazy_len += k;
	}
}

void
px__watch_feed(struct px_watch *w, const uint8_t *p, size_t n)
{
	if (w == NULL || n == 0)
		return;
	pthread_mutex_lock(&w->mu);
	model_feed(w, p, n);
	for (struct px_watcher *x = w->watchers; x != NULL; x = x->next) {
		(void)px__wring_put(&x->ring, p, n);
		x->wake(x->ud);
	}
	pthread_mutex_unlock(&w->mu);
}

void
px__watch_resize(struct px_watch *w, int rows, int cols)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	model_flush(w);
	w->rows = clamp(rows, 24, 500);
	vterm_set_size(w->vt, w->rows, clamp(cols, 80, 1000));
	pthread_mutex_unlock(&w->mu);
}

void
px__watch_reset(struct px_watch *w, int rows, int cols, const uint8_t *p, size_t n)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->lazy_len = 0;
	w->simple_from = 0;
	w->cl_st = CL_GROUND;
	w->cl_parlen = 0;
	w->region = 0;
	px__vt_guard_init(&w->guard);
	w->rows = clamp(rows, 24, 500);
	vterm_set_size(w->vt, w->rows, clamp(cols, 80, 1000));
	vterm_screen_reset(vterm_obtain_screen(w->vt), 1);
	vterm_input_write(w->vt, " \r\x1b[2K", 6);	/* as px__watch_open */
	model_feed(w, p, n);
	for (struct px_watcher *x = w->watchers; x != NULL; x = x->next) {
		px__wring_resynced(&x->ring);
		x->ring.resync = 1;
		x->wake(x->ud);
	}
	pthread_mutex_unlock(&w->mu);
}

struct px_watch *
px__watch_find(struct px_watches *t, const char *id)
{
	struct px_watch *w;

	pthread_mutex_lock(&t->mu);
	for (w = t->head; w != NULL; w = w->next)
		if (strcmp(w->id, id) == 0)
			break;
	if (w != NULL) {
		pthread_mutex_lock(&w->mu);
		w->refs++;
		pthread_mutex_unlock(&w->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return w;
}

void
px__watch_unref(struct px_watch *w)
{
	int last;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (!last)
		return;
	vterm_free(w->vt);
	free(w->lazy);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int
px__watch_attach(struct px_watch *w, struct px_watcher *x)
{
	int rc = -1;

	if (px__wring_init(&x->ring, PX_WATCH_RING) != 0)
		return -1;
	x->ring.resync = 1;	/* the first thing it gets: the screen as it is */
	pthread_mutex_lock(&w->mu);
	if (!w->ended) {
		x->next = w->watchers;
		w->watchers = x;
		rc = 0;
	}
	pthread_mutex_unlock(&w->mu);
	if (rc != 0)
		px__wring_free(&x->ring);
	return rc;
}

void
px__watch_detach(struct px_watch *w, struct px_watcher *x)
{
	pthread_mutex_lock(&w->mu);
	for (struct px_watcher **pp = &w->watchers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	pthread_mutex_unlock(&w->mu);
	px__wring_free(&x->ring);
}

void
px__watch_redraw(struct px_watch *w, struct px_watcher *x)
{
	pthread_mutex_lock(&w->mu);
	px__wring_resynced(&x->ring);
	x->ring.resync = 1;
	pthread_mutex_unlock(&w->mu);
}

size_t
px__watch_take(struct px_watch *w, struct px_watcher *x, uint8_t *out, size_t max, int max_rows,
    char **redraw, size_t *redraw_len, int *ended, int *rows, int *cols)
{
	size_t n = 0;

	*redraw = NULL;
	*redraw_len = 0;
	pthread_mutex_lock(&w->mu);
	*ended = w->ended;
	vterm_get_size(w->vt, rows, cols);
	if (x->ring.resync) {
		FILE *f;
		int bad;

		model_flush(w);
		f = open_memstream(redraw, redraw_len);
		bad = f == NULL;
		if (f != NULL) {
			bad |= px__vt_render(w->vt, max_rows, f) != 0;
			bad |= fclose(f) != 0;
		}
		/* without memory the mark stays: tried again on the next take */
		if (!bad) {
			px__wring_resynced(&x->ring);
		} else {
			free(*redraw);
			*redraw = NULL;
			*redraw_len = 0;
		}
	} else {
		n = px__wring_take(&x->ring, out, max);
	}
	pthread_mutex_unlock(&w->mu);
	return n;
}
