/* vt_guard: no REP and no zero-width character for libvterm (vt_guard.h). */
#include <string.h>

#include "proxy/utf8_width.h"
#include "proxy/vt_guard.h"

enum { G_GROUND, G_ESC, G_CSI };

void
vt_guard_init(struct vt_guard *g)
{
	memset(g, 0, sizeof(*g));
}

/* Whether code point cp may reach libvterm: a width it agrees is not 0. */
static int
visible(uint32_t cp)
{
	if (cp >= 0x1160 && cp <= 0x11ff)	/* Hangul jamo: 0 wide for libvterm */
		return 0;
	if (cp >= 0xd7b0 && cp <= 0xd7ff)
		return 0;
	return px__utf8_width(cp) > 0;
}

/* Emits byte b through the sequence filter (REP dropped). */
static void
seq_byte(struct vt_guard *g, uint8_t b, uint8_t *out, size_t *k)
{
	switch (g->st) {
	case G_GROUND:
		if (b == 0x1b) {
			g->st = G_ESC;
			return;
		}
		out[(*k)++] = b;
		return;
	case G_ESC:
		if (b == '[') {
			g->st = G_CSI;
			g->seq[0] = 0x1b, g->seq[1] = '[';
			g->seqlen = 2;
			return;
		}
		out[(*k)++] = 0x1b;
		g->st = G_GROUND;
		seq_byte(g, b, out, k);
		return;
	case G_CSI:
		if (b == 0x1b || g->seqlen == sizeof(g->seq)) {
			/* cut short: what was held goes (it is no REP), b anew */
			memcpy(out + *k, g->seq, g->seqlen);
			*k += g->seqlen;
			g->seqlen = 0;
			g->st = G_GROUND;
			seq_byte(g, b, out, k);
			return;
		}
		g->seq[g->seqlen++] = b;
		if (b >= 0x40 && b <= 0x7e) {
			if (b != 'b') {
				memcpy(out + *k, g->seq, g->seqlen);
				*k += g->seqlen;
			}
			g->seqlen = 0;
			g->st = G_GROUND;
		}
		return;
	default:
		return;
	}
}

size_t
vt_guard_filter(struct vt_guard *g, const uint8_t *p, size_t n, uint8_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		uint32_t cp;

		if (g->chwant > 0) {
			if (b < 0x20) {		/* libvterm runs C0 inside a character */
				seq_byte(g, b, out, &k);
				continue;
			}
			if ((b & 0xc0) == 0x80) {
				g->ch[g->chlen++] = b;
				if (g->chlen < g->chwant)
					continue;
				g->chwant = 0;
				if (px__utf8_decode(g->ch, g->chlen, &cp) <= 0)
					continue;	/* ill-formed: dropped */
				if (cp == 0x9b) {	/* the C1 CSI */
					seq_byte(g, 0x1b, out, &k);
					seq_byte(g, '[', out, &k);
				} else if (visible(cp) || cp < 0xa0) {
					for (size_t j = 0; j < g->chlen; j++)
						seq_byte(g, g->ch[j], out, &k);
				}
				continue;
			}
			g->chwant = 0;		/* cut short: dropped, b anew */
		}
		if (b >= 0xc2 && b <= 0xf4) {
			g->ch[0] = b;
			g->chlen = 1;
			g->chwant = px__utf8_seqlen(b);
			continue;
		}
		if (b >= 0x80)
			continue;		/* a stray continuation or invalid byte */
		seq_byte(g, b, out, &k);
	}
	return k;
}
