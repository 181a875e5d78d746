/* vt_render: a libvterm screen written back as terminal output, so that a
 * terminal that shows it looks as the screen does: every cell's text with
 * its attributes (bold, underline, italic, reverse, colours), then the
 * cursor where it is.
 *
 * px_vt_render writes the screen of vt (which has a VTermScreen:
 * vterm_obtain_screen called) to f: its last max_rows rows at most (all
 * when max_rows <= 0), from the top of the receiving terminal.  Returns 0,
 * or -1 when f failed.  No allocation of its own; no clock. */
#ifndef PX_VT_RENDER_H
#define PX_VT_RENDER_H

#include <stdio.h>
#include <vterm.h>

int px_vt_render(VTerm *vt, int max_rows, FILE *f);

#endif
