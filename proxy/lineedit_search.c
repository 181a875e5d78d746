/* lineedit_search: Ctrl-R, the reverse incremental search of the history
 * of allowed lines, as bash's (see lineedit_int.h).  The query is shown in
 * the prompt, so the drawing code needs nothing of its own: each change
 * swaps the prompt and redraws the entry from its first row.  The query
 * holds printable characters only (it is drawn raw as part of a prompt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/lineedit_int.h"
#include "proxy/utf8_width.h"

/* Shows the query (and whether it failed) in the prompt. */
static void
search_prompt(struct le *e, int failed)
{
	char *p;
	size_t n = e->qlen + 40;

	if ((p = malloc(n)) == NULL) {
		e->err = LE_ENOMEM;
		return;
	}
	snprintf(p, n, "(%sreverse-i-search)`%.*s': ", failed ? "failed " : "",
	    (int)e->qlen, e->query);
	free(e->prompt);
	e->prompt = p;
	e->prompt_len = strlen(p);
	e->prompt_w = px__le_prompt_width(p, e->prompt_len);
	px__le_relayout(e);
	e->redraw = LE_RD_ALL;
}

/* The newest history line at or before index from holding the query. */
static void
search_from(struct le *e, size_t from)
{
	size_t k;

	for (k = from + 1; k-- > 0;) {
		const char *h = e->hist[k];
		const char *m = e->qlen == 0 ? h :
		    memmem(h, e->hist_len[k], e->query, e->qlen);

		if (m != NULL) {
			e->spos = k;
			px__le_set_text(e, (const uint8_t *)h, e->hist_len[k]);
			e->cur = (size_t)(m - h);
			search_prompt(e, 0);
			return;
		}
	}
	e->bell = 1;
	search_prompt(e, 1);
}

void
px__le_search_start(struct le *e)
{
	if (e->search) {
		/* Ctrl-R again: an older match */
		if (e->spos == 0 || e->nhist == 0 || e->qlen == 0) {
			e->bell = 1;
			return;
		}
		search_from(e, (e->spos < e->nhist ? e->spos : e->nhist) - 1);
		return;
	}
	free(e->stext);
	if ((e->stext = malloc(e->len + 1)) == NULL) {
		e->err = LE_ENOMEM;
		return;
	}
	memcpy(e->stext, e->text, e->len);
	e->stext_len = e->len;
	e->scur = e->cur;
	e->shpos = e->hpos;
	e->sprompt = e->prompt;
	e->prompt = NULL;	/* until search_prompt has one */
	e->prompt_len = 0;
	e->search = 1;
	e->qlen = 0;
	e->spos = e->nhist;
	search_prompt(e, 0);
}

void
px__le_search_add(struct le *e, const uint8_t *p, size_t n)
{
	size_t i = 0;
	uint32_t cp;
	int k;

	/* printable characters only: the query is part of the prompt */
	while (i < n) {
		k = px__utf8_decode(p + i, n - i, &cp);
		if (k <= 0 || px__utf8_width(cp) < 0) {
			e->bell = 1;
			return;
		}
		i += (size_t)k;
	}
	if (n > sizeof(e->query) - e->qlen) {
		e->bell = 1;
		return;
	}
	memcpy(e->query + e->qlen, p, n);
	e->qlen += n;
	if (e->nhist == 0) {
		e->bell = 1;
		search_prompt(e, 1);
		return;
	}
	search_from(e, e->spos < e->nhist ? e->spos : e->nhist - 1);
}

void
px__le_search_back(struct le *e)
{
	if (e->qlen == 0) {
		e->bell = 1;
		return;
	}
	e->qlen--;
	while (e->qlen > 0 && ((uint8_t)e->query[e->qlen] & 0xc0) == 0x80)
		e->qlen--;
	if (e->qlen == 0 || e->nhist == 0) {
		e->spos = e->nhist;
		search_prompt(e, 0);
		return;
	}
	search_from(e, e->nhist - 1);
}

void
px__le_search_end(struct le *e, int keep)
{
	if (!e->search)
		return;
	free(e->prompt);
	e->prompt = e->sprompt;
	e->sprompt = NULL;
	e->prompt_len = strlen(e->prompt);
	e->prompt_w = px__le_prompt_width(e->prompt, e->prompt_len);
	e->search = 0;
	if (keep && e->spos < e->nhist) {
		e->hpos = e->spos;
	} else if (!keep) {
		px__le_set_text(e, e->stext, e->stext_len);
		e->cur = e->scur;
		e->hpos = e->shpos;
	}
	free(e->stext);
	e->stext = NULL;
	px__le_relayout(e);
	e->redraw = LE_RD_ALL;
}
