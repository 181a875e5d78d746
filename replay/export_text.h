/*
 * export_text: "export --format text": what the terminal showed, as text.
 * The output goes through the screen model (vtmodel.h, every byte through
 * libvterm), so a line edited at a prompt reads as the terminal showed it
 * when Enter was pressed (the line editor's redraws and erasures applied),
 * not as the bytes that drew it.  A row is written when it scrolls off the
 * top of the screen, the rows on screen before the screen is erased as a
 * whole (ED 2 or 3, or ED 0 from the top left corner: clear), and the
 * last screen at the end; trailing blanks and empty rows at a screen's end
 * are left out.  A line longer than the window is written as the rows it
 * wrapped into.  What a full-screen program drew over the screen without
 * scrolling or clearing it is written only as it last stood.  Without a
 * pseudo-terminal requested before the first output, a line feed also
 * returns the carriage (as the technician's own terminal showed it).
 */
#ifndef REPLAY_EXPORT_TEXT_H
#define REPLAY_EXPORT_TEXT_H

#include <stdio.h>

struct tr;

/* Writes the text of the session r reads (from its start) to f.  Returns
 * 0 or a negative REC_E* code (a read error, REC_ENOMEM). */
int replay_export_text(FILE *f, struct tr *r);

#endif
