/*
 * play_tty: "play" when standard input and output are a terminal: raw
 * mode, the recorded output with its timing, and keys: space pause and
 * resume, + and - twice or half the speed (1/64 to 64), . one event while
 * paused (pauses when playing), left and right arrows 5 s back and forth,
 * n and p the next and previous command ("commands ID" rows: the screen
 * just before it), q or Ctrl-C quit.  The terminal's settings are
 * restored on every way out: the end, q, an error, and SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT (then the signal's default action) and SIGTSTP (raw
 * again on SIGCONT).  A warning on stderr when the terminal is smaller
 * than the recording's first window size.
 */
#ifndef REPLAY_PLAY_TTY_H
#define REPLAY_PLAY_TTY_H

#include <stdint.h>

struct tr;

/*
 * Plays session id (r open, verified) from from_ns (0: the start) or, when
 * from_seq is not 0, from just before the event with that seq (its time
 * from_ns).  speed > 0; max_wait < 0 for no cap on pauses.  Returns the
 * exit status: 0, 1 (--from past the end, a damaged session), 2 (I/O).
 */
int replay_play_tty(const char *store, const char *id, struct tr *r,
    double speed, double max_wait, uint64_t from_ns, uint64_t from_seq);

#endif
