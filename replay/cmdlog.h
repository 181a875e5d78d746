/*
 * cmdlog: the decisions of one session as the rows "commands" prints,
 * "audit" lists, and "play --command N" / "screen --command N" jump to.
 *
 * A row is one DECISION event: either the decision on a channel's request
 * (exec, shell, subsystem: mode "exec") or a command typed in an
 * interactive shell (it carries SHELL_MODE "strict" or "observe" and
 * CMD_SEQ, its number in the channel, escort-transcript(5)).  Rows are
 * numbered from 1 in file order.  Exit statuses are matched by channel and
 * never mixed: an EXIT carrying CMD_SEQ ends the shell command with that
 * number on its channel (strict mode); an EXIT without CMD_SEQ is the
 * channel's own, and goes to the last request row of that channel.
 */
#ifndef REPLAY_CMDLOG_H
#define REPLAY_CMDLOG_H

#include <stddef.h>
#include <stdint.h>

struct ev;

struct replay_cmd_row {
	uint64_t ev_seq;	/* seq of the DECISION event */
	uint64_t t_ns;		/* its time since the session started */
	uint32_t chan;
	uint64_t cmd_seq;	/* CMD_SEQ, 0 for a request decision */
	char mode[16];		/* "exec", "strict", "observe" (or as recorded) */
	char verdict[32], rule[128], approver[128], reason[256];
	uint64_t rule_line;
	char *command;		/* malloc'd, "" when none */
	char *rendered;		/* malloc'd, "" when none */
	int has_exit;		/* an EXIT was matched to this row */
	int has_status;		/* ... carrying EXIT_STATUS */
	uint64_t exit_status;
	char exit_signal[32];	/* its EXIT_SIGNAL, "" when none */
	/* with want_stdin, for an exec request: what the command received on
	 * its standard input (INPUT on its channel after the decision) */
	int in_exec;		/* an exec request: its input is kept */
	uint8_t *in;		/* malloc'd, the first in_len bytes */
	size_t in_len;		/* at most REPLAY_CMD_STDIN_MAX */
	uint64_t in_total;	/* bytes received in all */
};

#define REPLAY_CMD_STDIN_MAX 4096	/* stdin bytes kept per command */

/* The last CH_ACTION of a channel (for want_stdin). */
struct replay_cmd_chan {
	uint32_t chan;
	char action[16];
};

/* Zero-initialise before use; set want_stdin to keep the input of exec
 * requests (CHANNEL and INPUT events then count too). */
struct replay_cmdlog {
	struct replay_cmd_row *v;
	size_t n, cap;
	int want_stdin;
	struct replay_cmd_chan *ch;
	size_t nch, capch;
};

/* Adds one event (DECISION and EXIT count, and with want_stdin CHANNEL
 * and INPUT; others are ignored), in file order.  Returns 0 or
 * REC_ENOMEM. */
int replay_cmdlog_add_event(struct replay_cmdlog *l, const struct ev *e);

/* The mode of DECISION e into out (size >= 16): its SHELL_MODE, else
 * "shell" when it has a CMD_SEQ, else "exec". */
void replay_cmd_mode(const struct ev *e, char *out, size_t outsz);

/* 1 when row x is a command typed in a shell (it has a CMD_SEQ or a
 * SHELL_MODE), else 0. */
int replay_cmd_is_shell(const struct replay_cmd_row *x);

/* The exit column of a row into out: "0".."255", "SIGNAME" for a signal,
 * or "-" when unknown. */
void replay_cmd_exit_str(const struct replay_cmd_row *x, char *out,
    size_t outsz);

/*
 * Finds decision number n (1-based, the row numbers of "commands ID") by
 * reading r from where it stands; *ev_seq is the seq of its event and
 * *t_ns its time.  Returns 1 found, 0 when the session has fewer
 * decisions, or the negative REC_E* error tr_next met.  The caller seeks
 * back (tr_seek_seq) to read again.
 */
struct tr;
int replay_cmd_find(struct tr *r, uint64_t n, uint64_t *ev_seq,
    uint64_t *t_ns);

/*
 * The same for the jump options ("play --command N", "screen --command
 * N"), cmd naming the command and id the session in messages: finds
 * decision n of r, then seeks r back to its first event.  Returns 0, or
 * the exit status after printing why: 1 when the session has fewer
 * decisions or could not be read (a damaged file), 2 for an I/O error.
 */
int replay_cmd_locate(struct tr *r, const char *cmd, const char *id,
    uint64_t n, uint64_t *ev_seq, uint64_t *t_ns);

/* Parses the N of "--command N" (a decimal number from 1).  Returns 0 or
 * -1. */
int replay_cmd_parse_n(const char *s, uint64_t *n);

/* 1 when row x's stdin is all kept and is text (UTF-8 without control
 * characters other than tab, CR and LF), else 0. */
int replay_cmd_stdin_is_text(const struct replay_cmd_row *x);

/* Frees every row; *l is empty afterwards. */
void replay_cmdlog_free(struct replay_cmdlog *l);

#endif
