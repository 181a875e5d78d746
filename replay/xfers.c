/* xfers: the transfer rows of a session (start records paired with their
 * end summaries by FILE_ID).  The contract is in xfers.h. */
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/xfers.h"

/* A string field as a malloc'd C string ("" when absent); the nth (0-based)
 * occurrence of tag.  Returns NULL on no memory. */
static char *
xfers_field(const struct ev *e, uint16_t tag, int nth)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	uint16_t t;
	size_t len;
	char *s;

	ev_fields_begin(&it, e->data, e->len);
	while (ev_fields_next(&it, &t, &v, &len) == 1)
		if (t == tag && nth-- == 0) {
			if ((s = malloc((size_t)len + 1)) == NULL)
				return NULL;
			memcpy(s, v, len);
			s[len] = '\0';
			for (size_t i = 0; i < len; i++)
				if (s[i] == '\0')
					s[i] = '?';
			return s;
		}
	return strdup("");
}

static void
xfer_clear(struct replay_xfer *x)
{
	free(x->kind);
	free(x->op);
	free(x->dir);
	free(x->outcome);
	free(x->path);
	free(x->path2);
	free(x->message);
}

/* Fills the descriptive fields of x from the FILE record e (replacing what
 * a start record put there).  Returns 0 or REC_ENOMEM. */
static int
xfer_fill(struct replay_xfer *x, const struct ev *e)
{
	const uint8_t *v;
	size_t len;

	xfer_clear(x);
	x->kind = xfers_field(e, EVF_KIND, 0);
	x->op = xfers_field(e, EVF_CH_ACTION, 0);
	x->dir = xfers_field(e, EVF_DIRECTION, 0);
	x->outcome = xfers_field(e, EVF_VERDICT, 0);
	x->path = xfers_field(e, EVF_PATH, 0);
	x->path2 = xfers_field(e, EVF_PATH, 1);
	x->message = xfers_field(e, EVF_MESSAGE, 0);
	if (!x->kind || !x->op || !x->dir || !x->outcome || !x->path || !x->path2 ||
	    !x->message)
		return REC_ENOMEM;
	x->has_size = ev_fields_get_u64(e->data, e->len, EVF_SIZE, &x->size) == REC_OK;
	x->has_sha = ev_fields_find(e->data, e->len, EVF_SHA256, &v, &len) == REC_OK &&
	    len == 32;
	if (x->has_sha)
		memcpy(x->sha, v, 32);
	return 0;
}

static struct replay_xfer *
xfers_add(struct replay_xfers *out)
{
	struct replay_xfer *nv;

	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;

		if ((nv = realloc(out->v, cap * sizeof(*nv))) == NULL)
			return NULL;
		out->v = nv;
		out->cap = cap;
	}
	memset(&out->v[out->n], 0, sizeof(out->v[0]));
	return &out->v[out->n++];
}

/* The row of file id fid on channel chan, searched from the newest. */
static struct replay_xfer *
xfers_find(struct replay_xfers *out, uint32_t chan, uint64_t fid)
{
	for (size_t i = out->n; fid != 0 && i-- > 0;)
		if (out->v[i].file_id == fid && out->v[i].chan == chan)
			return &out->v[i];
	return NULL;
}

/* Counts one more start record on channel chan; returns the count, or 0
 * on no memory. */
static size_t
xfers_count_start(struct replay_xfers *out, uint32_t chan)
{
	struct replay_xfers_chan *nc;
	size_t i;

	for (i = 0; i < out->nch; i++)
		if (out->ch[i].chan == chan)
			return ++out->ch[i].starts;
	if ((nc = realloc(out->ch, (out->nch + 1) * sizeof(*nc))) == NULL)
		return 0;
	out->ch = nc;
	out->ch[out->nch].chan = chan;
	out->ch[out->nch].starts = 1;
	return out->ch[out->nch++].starts;
}

int
replay_xfers_add_event(struct replay_xfers *out, const struct ev *e)
{
	struct replay_xfer *x;
	const uint8_t *v;
	size_t len;
	uint64_t fid = 0, off;
	char verdict[32] = "";
	int start;

	if (e->type != EV_FILE)
		return 0;
	(void)ev_fields_get_u64(e->data, e->len, EVF_FILE_ID, &fid);
	if (ev_fields_find(e->data, e->len, EVF_CONTENT, &v, &len) == REC_OK) {
		if ((x = xfers_find(out, e->channel, fid)) == NULL ||
		    ev_fields_get_u64(e->data, e->len, EVF_OFFSET, &off) != REC_OK)
			return 0;
		if (off != x->content_len)
			x->content_gap = 1;
		else
			x->content_len += len;
		return 0;
	}
	if (ev_fields_find(e->data, e->len, EVF_PATH, &v, &len) != REC_OK)
		return 0;
	(void)ev_fields_get_str(e->data, e->len, EVF_VERDICT, verdict, sizeof(verdict));
	start = strcmp(verdict, "started") == 0;
	x = start ? NULL : xfers_find(out, e->channel, fid);
	if (x != NULL && (!x->started || x->ended))
		x = NULL;	/* an id already used: a row of its own */
	if (x == NULL) {
		size_t k = start ? xfers_count_start(out, e->channel) : 0;

		if ((start && k == 0) || (x = xfers_add(out)) == NULL)
			return REC_ENOMEM;
		x->chan = e->channel;
		x->file_id = fid;
		x->t_ns = e->t_ns;
		x->started = start;
		x->start_no = k;
	}
	x->ended = !start;
	return xfer_fill(x, e);
}

int
replay_xfer_is_start(const struct ev *e)
{
	char verdict[32] = "";

	return e->type == EV_FILE &&
	    ev_fields_get_str(e->data, e->len, EVF_VERDICT, verdict, sizeof(verdict)) == REC_OK &&
	    strcmp(verdict, "started") == 0;
}

int
replay_xfers_read(struct tr *r, struct replay_xfers *out)
{
	struct ev e;
	int x;

	while ((x = tr_next(r, &e)) == 1)
		if ((x = replay_xfers_add_event(out, &e)) != 0)
			return x;
	return x;
}

int
replay_xfer_is_file(const struct replay_xfer *x)
{
	return (strcmp(x->op, "file") == 0 || x->op[0] == '\0') && x->dir[0] != '\0';
}

const char *
replay_xfer_type(const struct replay_xfer *x)
{
	if (replay_xfer_is_file(x))
		return x->dir;
	return x->op[0] ? x->op : "-";
}

const char *
replay_xfer_outcome(const struct replay_xfer *x)
{
	if (x->started && !x->ended)
		return "incomplete";
	return x->outcome[0] ? x->outcome : "-";
}

void
replay_xfers_free(struct replay_xfers *x)
{
	for (size_t i = 0; i < x->n; i++)
		xfer_clear(&x->v[i]);
	free(x->v);
	free(x->ch);
	x->v = NULL;
	x->ch = NULL;
	x->n = x->cap = x->nch = 0;
}
