/*
 * vtmodel: the technician's screen as replay reads it back (libvterm), fed
 * the recorded output fast, and written down as a snapshot that a fresh
 * model restores (for screen --at, which seeks through screen_cache.h).
 *
 * Fast feeding.  Plain text (printable bytes, UTF-8, CR, LF, TAB, BS, BEL,
 * outside any escape sequence) is held back; when it is given to libvterm,
 * only its tail from the CR before the last 2 x rows + 2 line feeds is
 * written, when the scroll region is the whole screen and insert mode is
 * off: those line feeds scroll every earlier row off the screen whatever
 * the cursor's row was, and the CR puts the cursor in column 0 either way,
 * so the screen is the one the whole text gives (bulk output costs a scan,
 * not an emulation).  Everything else goes to libvterm as it came.
 *
 * Snapshots.  libvterm's state is private, so a snapshot is a byte string
 * that, written into a fresh model of the same size, rebuilds it: every
 * cell with its attributes and colours, the pen, the cursor, and the state
 * a parser of our own follows (scroll region, autowrap, insert and newline
 * modes, character sets G0-G3 and the shifts).  State it cannot restore
 * (the cursor saved by DECSC or SCOSC, tab stops set or cleared, DECSCA,
 * left/right margins, origin mode, a sequence or UTF-8 character cut by
 * the event boundary, the cursor in the last column where a wrap may be
 * pending) refuses the snapshot at that point (vtm_snapshot returns 0);
 * the first four stay until a full reset (RIS).  Every snapshot is checked
 * when taken: a fresh model restored from it must show the same cells,
 * attributes, colours, cursor and pen, else it is refused.
 */
#ifndef REPLAY_VTMODEL_H
#define REPLAY_VTMODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vterm.h>

#include "common/buf.h"

#define VTM_MAX_DIM 1000

struct vtm {
	VTerm *vt;		/* the screen; NULL until vtm_open */
	VTerm *parser;		/* a parser alone, for the tracked state */
	int rows, cols;
	/* the byte scanner: where the next byte falls */
	int scan;		/* enum vtm_scan */
	int utf8_left;		/* continuation bytes still due */
	struct buf hold;	/* plain text not yet given to libvterm */
	int hold_clean;		/* it starts on a character boundary */
	/* the tracked state */
	int top, bottom;	/* DECSTBM as given, 0: missing */
	int insert, newline, autowrap, origin, lrmm;
	char g[4];		/* designated sets G0..G3 (final bytes) */
	int gl, gr;
	int dirty;		/* state a snapshot cannot restore */
	int exact;		/* 1: every byte to libvterm (no fast feeding) */
};

/* Zero-initialise, then vtm_open before feeding.  Returns 0 or -1 (out
 * of memory).  rows and cols are clamped to 1..VTM_MAX_DIM. */
int vtm_open(struct vtm *m, int rows, int cols);
void vtm_free(struct vtm *m);

/* A window size change (RESIZE, or a pty request). */
void vtm_resize(struct vtm *m, int rows, int cols);

/* Feeds terminal output.  Returns 0 or -1 (out of memory). */
int vtm_write(struct vtm *m, const uint8_t *p, size_t n);

/* Gives libvterm what is held back; call before reading the screen. */
void vtm_flush(struct vtm *m);

/* Writes the snapshot of the model (flushed first) to out.  Returns 1
 * taken, 0 refused at this point (see above), -1 out of memory. */
int vtm_snapshot(struct vtm *m, struct buf *out);

/* Writes bytes that draw the model (flushed first) on a terminal of its
 * size or larger, as a snapshot does, without the checks: for play's
 * seeking.  Returns 0 or -1 (out of memory). */
int vtm_paint(struct vtm *m, struct buf *out);

/* Opens m as the model snap[0..n) rebuilds, rows x cols.  Returns 0 or
 * -1 (out of memory). */
int vtm_restore(struct vtm *m, int rows, int cols, const uint8_t *snap,
    size_t n);

/* Prints the screen's rows to f, trailing blanks and trailing empty rows
 * removed (flushes first). */
void vtm_print(struct vtm *m, FILE *f);

#endif
