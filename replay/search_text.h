/*
 * search_text: the text of a session as "search input" and "search output"
 * match it, across event boundaries.
 *
 * Input: the technician's lines as typed, rebuilt per channel from the
 * INPUT bytes: printable text (UTF-8 kept) and tabs are appended;
 * backspace (^H) and DEL delete the last character, ^U the line, ^W the
 * last word (and the blanks after it); CR, LF and ^C end the line (a line
 * given up with ^C was typed all the same); escape sequences (arrows,
 * function keys, Alt+key, pasted-text brackets) and other control bytes
 * are dropped.  Line editing done by the remote shell (history recall,
 * cursor moves, completion) is not replayed: what is matched is the keys
 * as typed.  Channels of a subsystem (sftp) carry a binary protocol and
 * are left out.  A line is matched when it ends (or when the session
 * ends); its time is that of the event that ended it.
 *
 * Output: the output and standard error text per channel, escape
 * sequences and carriage returns removed, a backspace deleting the
 * character before it (as "\b \b" erases it on the screen), LF ending a
 * line.  Matched as the bytes come: a match spanning several events is
 * found when its last byte arrives, and its time is that event's.
 *
 * Memory is bounded: a line is held up to SEARCH_TEXT_LINE_MAX bytes per
 * channel; a longer one is matched as it stands, then only its last
 * SEARCH_TEXT_PAT_MAX - 1 bytes are kept for matches spanning the cut, so
 * a pattern is at most SEARCH_TEXT_PAT_MAX bytes long.  Each pattern is
 * reported at most once per line.
 */
#ifndef REPLAY_SEARCH_TEXT_H
#define REPLAY_SEARCH_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define SEARCH_TEXT_LINE_MAX 4096
#define SEARCH_TEXT_PAT_MAX 256
#define SEARCH_TEXT_CONTEXT 80	/* bytes of context each side of a match */

enum search_text_kind { SEARCH_TEXT_INPUT, SEARCH_TEXT_OUTPUT };

/* A pattern, owned by the caller; lives as long as the scanner. */
struct search_text_pat {
	enum search_text_kind kind;
	const char *text;	/* matched as a substring, byte for byte */
	size_t len;		/* 1..SEARCH_TEXT_PAT_MAX */
	int done;		/* set by the caller: stop matching it */
	void *owner;		/* the caller's */
};

/* Called for each match: p matched on channel ch at t_ns (since the
 * session started); ctx[0..clen) is its line (or, for a long line, the
 * SEARCH_TEXT_CONTEXT bytes each side), valid during the call only. */
typedef void (*search_text_hit_fn)(void *arg, struct search_text_pat *p,
    uint32_t ch, uint64_t t_ns, const uint8_t *ctx, size_t clen);

struct search_text;
struct ev;

/* A scanner for the n patterns pats (borrowed).  Returns NULL when out of
 * memory.  Free with search_text_free. */
struct search_text *search_text_new(struct search_text_pat *pats, size_t n,
    search_text_hit_fn hit, void *arg);

/* Feeds one event, in file order (INPUT, OUTPUT, STDERR and CHANNEL count,
 * the others are ignored).  Returns 0, or REC_ENOMEM. */
int search_text_event(struct search_text *s, const struct ev *e);

/* Ends every channel's pending line (matched as it stands, at time t_ns,
 * the session's last) and reports what waits for a line's end. */
void search_text_finish(struct search_text *s, uint64_t t_ns);

void search_text_free(struct search_text *s);

/*
 * For an index (search_index.h): fn is given pieces of the text the
 * patterns are matched against, for every channel and both kinds, even
 * with no pattern: a line when it ends or is cut (the whole buffer), at
 * the session's end what is pending, and for output, before a backspace,
 * the run of word bytes it deletes or joins to what follows.  Every run of
 * word bytes a match can
 * touch (text only ever grows to the right between these points) is thus
 * given whole in some piece, or as part of a run of 256 or more bytes in
 * one.  p[0..n) is valid during the call only.
 */
typedef void (*search_text_line_fn)(void *arg, enum search_text_kind k,
    const uint8_t *p, size_t n);
void search_text_set_line(struct search_text *s, search_text_line_fn fn,
    void *arg);

/* 1 when c is a word byte for the index: ASCII letters, digits, '_', and
 * every byte of a multibyte UTF-8 character (>= 0x80). */
int search_text_is_word(uint8_t c);

#endif
