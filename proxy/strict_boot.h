/* strict_boot: how a strict-mode shell is started on the target, and the
 * only lines the proxy ever sends to it.
 *
 * The proxy never opens the target's interactive shell.  For a technician's
 * shell request under `shell strict` it sends pty-req (the technician's
 * terminal) and then an exec request with px__sb_command(): the account's login
 * shell runs `exec env -i (a few variables) bash --noprofile --norc -c LOOP`.
 * LOOP is a small bash program that:
 *   - ignores job-control stop signals, keeps SIGINT for the running command,
 *     turns off history, aliases and every startup file, exports
 *     LESSSECURE=1, SYSTEMD_PAGERSECURE=1, PAGER/MANPAGER/GIT_PAGER/
 *     SYSTEMD_PAGER "less" (which then cannot shell out or open files);
 *   - turns the terminal's echo off and prints the HELLO marker;
 *   - reads the nonce line (the secret of this shell: 32 hex digits chosen
 *     by the proxy, never in an argument or the environment);
 *   - then loops: terminal echo off, prints the PROMPT marker (nonce, the
 *     number of commands run so far, the last exit status, the working
 *     directory), reads one line; a line that is not exactly
 *     NONCE SP SEQ SP COMMAND with SEQ one more than the last is discarded
 *     and reported with a DISCARD marker (nothing of it runs); otherwise the
 *     terminal's settings are restored and COMMAND runs with eval in the
 *     loop's shell (so `cd` and variables persist); NONCE SP SEQ alone (no
 *     command) exits with the last status.
 * Every line sent starts with Ctrl-U, which erases any unterminated input
 * typed ahead into the terminal's line buffer; a complete line typed ahead
 * is read by the loop, lacks the nonce and is discarded.
 *
 * What the proxy must do (the loop relies on it):
 *   - send nothing of the technician's to the shell before the first
 *     PROMPT: the first line the loop reads is taken as the nonce;
 *   - send a line only after the PROMPT of the previous one (a line sent
 *     early is read while the loop drains typeahead, and discarded);
 *   - after a DISCARD the loop goes on reading without a new PROMPT: the
 *     PROMPT that follows belongs to the next line that runs.
 * What the loop does beyond the above:
 *   - reads every line with its own terminal settings, whatever the
 *     client's terminal modes: canonical, no echo, no extended editing (no
 *     Ctrl-V, Ctrl-W), no flow control, no EOL or EOF character, Ctrl-U
 *     kill, DEL erase, Ctrl-C and Ctrl-\ signals; before each command it
 *     restores the settings the session started with;
 *   - before each PROMPT ends (SIGTERM) what the last command left running
 *     in the loop's process group, so that no leftover process reads the
 *     next line, then turns canonical mode off and on (which ends any
 *     half-typed line and a pending Ctrl-V) and reads and discards (with
 *     DISCARD) every line typed ahead while the command ran;
 *   - Ctrl-C ends the whole command line (not only its running program),
 *     Ctrl-Z is not a suspend character and the stop signals are ignored;
 *   - an EOF typed ahead while a command ran is skipped; 100 in a row on a
 *     terminal, or 3 without one, end the loop;
 *   - after each command removes every function it defined, re-enables the
 *     builtins the loop uses, resets the traps (a DEBUG or RETURN trap may
 *     still fire in the loop's next few commands, never after the next
 *     PROMPT), clears any attribute set on the loop's own variables and
 *     opens its standard input, output and error on the terminal again;
 *   - PWDHEX is empty when the directory is longer than 1024 bytes.
 * The loop runs in the same shell as the commands: a command that changes
 * the shell itself (builtins such as enable, hash, export, declare, set,
 * shopt, alias, trap, exec, eval, source) can still change what later lines
 * do in ways the loop does not undo, so strict mode's policy must not allow
 * them.
 *
 * Markers (written by the loop to the terminal, removed from the output by
 * strict_marker before the technician sees it):
 *   ESC ] 5379 ; h ; 1 BEL                               HELLO, version 1
 *   ESC ] 5379 ; p ; NONCE ; SEQ ; STATUS ; PWDHEX BEL   PROMPT
 *   ESC ] 5379 ; d ; NONCE ; SEQ ; NBYTES BEL            DISCARD
 * SEQ (in both: the number of commands run so far), STATUS and NBYTES (the
 * length of the discarded line) are decimal, PWDHEX the directory's bytes
 * in lower-case hex.
 *
 * Ownership: results are malloc'd (caller frees) or appended to the caller's
 * buffer.  No I/O. */
#ifndef PX_STRICT_BOOT_H
#define PX_STRICT_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define SB_NONCE_HEX 32         /* hex digits of the nonce */
#define SB_LINE_MAX 3072        /* longest COMMAND sent (the terminal's
                                 * canonical line holds 4095 bytes) */
#define SB_MARK_PREFIX "\033]5379;"

enum sb_status { SB_OK = 0, SB_ENOMEM = -1, SB_ETOOLONG = -2, SB_EINVAL = -3 };

/* The exec command for the target (malloc'd, NULL on allocation failure). */
char *px__sb_command(void);

/* Fills nonce with SB_NONCE_HEX random lower-case hex digits and a NUL
 * (from the system's CSPRNG).  SB_OK or SB_EINVAL when no randomness. */
int px__sb_nonce_new(char nonce[SB_NONCE_HEX + 1]);

/* Appends the nonce line (after HELLO). */
int px__sb_nonce_line(const char *nonce, struct buf *out);

/* Appends the line that runs command number seq (>= 1): cmd is the
 * renderer's output, len bytes, at most SB_LINE_MAX (SB_ETOOLONG), with no
 * control byte but TAB (SB_EINVAL: newline, NUL, and every other byte the
 * terminal's line discipline could act on, 0x00-0x1f and 0x7f).  Every
 * append is whole or nothing (SB_ENOMEM when out is full). */
int px__sb_run_line(const char *nonce, uint64_t seq, const char *cmd, size_t len, struct buf *out);

/* Appends the line that ends the shell (seq: the next command number). */
int px__sb_exit_line(const char *nonce, uint64_t seq, struct buf *out);

#endif
