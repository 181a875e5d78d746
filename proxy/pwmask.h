/* pwmask: recognises password prompts on an interactive terminal and tells
 * which of the technician's keystrokes answer one, so that the recording
 * keeps them masked.
 *
 * Fed with a pty channel's output (px__pwm_output) and input (px__pwm_input), in the
 * order they pass the proxy.  When input arrives while the last line of the
 * output is a password prompt, that input up to and including Enter is a
 * masked stretch: px__pwm_input copies every byte of it as PWM_MASK_CHAR except
 * the Enter (CR or LF) that ends it, which is copied as is.  Bytes outside a
 * stretch are copied unchanged.
 *
 * A prompt (px__pwm_is_prompt): the output's last line, with ANSI escape
 * sequences left out, ends in ':' (spaces after it allowed), and before the
 * colon stands one of the keywords of pwm_keywords (password, passphrase,
 * passcode, PIN; case-insensitive, as a word) followed by one of the tails
 * of pwm_tails ("", " for *", " (*)", " again", ", try again*").  So
 * "[sudo] password for alice: ", "Password: ", "alice@host's password: ",
 * "Enter passphrase for key '/k': ", "Current password: ", "Retype new
 * password: ", "(current) UNIX password: ", "Enter PIN for 'key': " are
 * prompts; "password policy updated" or "Last password change: 2024" are not.
 *
 * Only fresh output arms a prompt: output that is nothing but the echo of
 * what the technician typed (a shell echoing `echo Password:`) arms
 * nothing, and a prompt arms at most one stretch (after Enter, new output is
 * needed).  Typeahead sent before the prompt appeared is not masked.
 * Typed bytes wait for their echo until the output starts a new line (keys
 * a program never echoes are forgotten there).
 *
 * A stretch ends at:
 *   Enter (CR or LF)        PWM_END_ENTER, the byte kept;
 *   Ctrl-C                  PWM_END_CANCEL, the byte kept (the program was
 *                           interrupted: what follows is not a password);
 *   Ctrl-D on an empty line PWM_END_EOF, the byte kept;
 *   an echo                 PWM_END_ECHO (from px__pwm_output): the output
 *                           repeats at least PWM_ECHO_MIN of the bytes typed
 *                           in the stretch, in order and in a row (no other
 *                           visible byte between them); passwords are not
 *                           echoed, so the prompt was not one.  What was
 *                           masked stays masked.
 * Other output arriving during a stretch (a retry message, a background
 * job, sudo's pwfeedback asterisks) ends nothing.  Ctrl-U and Backspace
 * inside a stretch are masked like any byte and edit the recogniser's idea
 * of the typed line (for the echo check and Ctrl-D).
 *
 * Limits: a prompt worded otherwise (a custom sudo prompt, a program's own
 * question) is not recognised; a line that only looks like a prompt masks
 * keystrokes until their echo shows (at least PWM_ECHO_MIN bytes).
 *
 * State is bounded: a fixed-size struct, no allocation but px__pwm_new's.  Pure:
 * no I/O, no clock. */
#ifndef PX_PWMASK_H
#define PX_PWMASK_H

#include <stddef.h>
#include <stdint.h>

#define PWM_MASK_CHAR '*'
#define PWM_LINE_MAX 256        /* visible bytes of the output's last line kept */
#define PWM_ECHO_MAX 64         /* typed bytes kept for the echo check */
#define PWM_ECHO_MIN 2          /* echoed bytes that end a stretch */

enum pwm_end {
	PWM_END_NONE,   /* no stretch ended */
	PWM_END_ENTER,
	PWM_END_CANCEL,
	PWM_END_EOF,
	PWM_END_ECHO
};

/* What one px__pwm_input or px__pwm_output call saw: at most one stretch starts
 * and at most one ends per call (a new stretch needs new output). */
struct pwm_event {
	int started;            /* a stretch started in this call */
	enum pwm_end ended;     /* and/or one ended */
	uint64_t masked;        /* ended: bytes masked in that stretch */
};

enum pwm_ansi { PWM_A_TEXT, PWM_A_ESC, PWM_A_CSI, PWM_A_STR, PWM_A_STR_ESC, PWM_A_NF };

struct pwm {
	/* output side */
	enum pwm_ansi ansi;     /* escape sequence parser */
	char line[PWM_LINE_MAX];        /* the last line's visible tail */
	size_t line_len;
	int fresh;              /* the line was last changed by output that was
	                         * not only an echo: it may arm a stretch */
	/* input side */
	int masking;            /* inside a stretch */
	uint64_t masked;        /* bytes masked in the stretch */
	size_t typed_len;       /* bytes on the typed line (Ctrl-D, Ctrl-U) */
	uint8_t echo[PWM_ECHO_MAX];     /* typed printable bytes whose echo */
	size_t echo_len;                /* has not been seen yet */
	size_t echoed;          /* visible output bytes in a row that were
	                         * echoes of typed bytes */
};

/* A new recogniser (idle, no line).  NULL on allocation failure.  The
 * caller frees it with px__pwm_free (NULL allowed). */
struct pwm *px__pwm_new(void);
void px__pwm_free(struct pwm *m);
void px__pwm_init(struct pwm *m);

/* Feeds n bytes of output shown to the technician.  May end a stretch
 * (PWM_END_ECHO), reported in *ev (which may be NULL). */
void px__pwm_output(struct pwm *m, const uint8_t *d, size_t n, struct pwm_event *ev);

/* Feeds n bytes typed by the technician and writes their recordable form
 * to out (n bytes; out may equal d): masked bytes as PWM_MASK_CHAR, the
 * rest unchanged.  Returns the number of bytes masked in this call; *ev
 * (may be NULL) tells whether a stretch started or ended. */
size_t px__pwm_input(struct pwm *m, const uint8_t *d, size_t n, uint8_t *out, struct pwm_event *ev);

/* Whether the output seen so far may arm a stretch: does not change m. */
int px__pwm_armed(const struct pwm *m);

/* Whether text (len bytes, no escape sequences, no line breaks) is a
 * password prompt as described above. */
int px__pwm_is_prompt(const char *text, size_t len);

/* The last line is forgotten: what was shown so far arms nothing (for a
 * caller that draws its own prompt, such as strict mode's line editor). */
void px__pwm_forget_line(struct pwm *m);

/* A short name of an end reason for logs ("enter", "ctrl-c", ...). */
const char *px__pwm_end_name(enum pwm_end e);

#endif
