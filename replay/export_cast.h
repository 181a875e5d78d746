/*
 * export_cast: a session as an asciicast version 2 recording (asciinema's
 * format), for "export --format asciicast" and the player of "export
 * --format html": a header (first window size and TERM recorded, start
 * time, title USER@TARGET (ID)), then "o" frames for output and standard
 * error, "i" for input, "r" for window changes and "m" for markers; bytes
 * that are not UTF-8 become U+FFFD.
 */
#ifndef REPLAY_EXPORT_CAST_H
#define REPLAY_EXPORT_CAST_H

#include <stdio.h>

struct tr;

enum replay_cast_flags {
	REPLAY_CAST_NO_INPUT = 1,	/* leave out the "i" frames (keystrokes,
					   passwords typed without echo) */
	REPLAY_CAST_SCRIPT = 2		/* strings inert inside an HTML
					   <script> element (< > & escaped) */
};

/*
 * Writes the recording of session r (open at its first event) to f; reads
 * r to its end.  Returns 0, or the negative REC_E* error that stopped the
 * reading (what came before it is written).
 */
int replay_cast_write(FILE *f, struct tr *r, unsigned flags);

#endif
