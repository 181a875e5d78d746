/* strict_int: the state of one strict-mode shell channel, shared by the
 * filter (strict.c) and the entry's decisions (strict_entry.c).  Private
 * to those files. */
#ifndef PX_STRICT_INT_H
#define PX_STRICT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "policy/policy.h"
#include "proxy/strict_boot.h"
#include "proxy/strict_state.h"

struct px_chan;
struct le;
struct sm;

#define STRICT_ENTRY_MAX (64 * 1024)	/* bytes of one entry (all its lines) */
#define STRICT_TIN_MAX (16 * 1024)	/* technician bytes held between prompts */
#define STRICT_OUT_HIGH (256 * 1024)	/* bytes toward the technician before input pauses */

/* One line of an entry and its decision. */
struct strict_line {
	char *typed;			/* as typed (NUL-terminated) */
	char *rendered;			/* what runs, or NULL */
	enum pol_verdict verdict;	/* the policy's */
	int refused;			/* not run (its own verdict, or another line's) */
	char *rule;			/* deciding rule, or NULL */
	int rule_line;
	char reason[320];
	uint64_t cmd_no;		/* CMD_SEQ */
	char approver[128];		/* the escort who approved or denied it, or "" */
	char told[480];			/* the technician's message when refused, or "" */
};

struct px_strict {
	struct px_chan *ch;
	enum strict_state st;		/* px__strict_set_state only */
	struct le *le;
	struct sm *sm;
	char nonce[SB_NONCE_HEX + 1];
	uint64_t run_seq;		/* number of the last line sent to run */
	uint64_t done_seq;		/* number of the last PROMPT marker taken */
	uint64_t cmd_no;		/* lines decided in this channel (CMD_SEQ) */
	struct buf to_tech;		/* for the technician; recorded as OUTPUT when written */
	struct buf to_target;		/* lines for the loop (never recorded as INPUT) */
	struct buf tin;			/* technician bytes taken (recorded) and not yet edited */
	struct buf boot_out;		/* output before HELLO: detail for a refusal */
	struct buf entry;		/* the entry's lines so far, '\n' between them */
	struct strict_line *lines;	/* the submitted entry */
	size_t nlines, next_rec, next_run;
	char pwd[1025];
	int cols, new_cols;		/* new_cols: a window change to apply (0: none) */
	uv_timer_t *timer;		/* BOOT deadline (timer1.h) */
	int timed_out;
	uv_timer_t *approve_timer;	/* APPROVING deadline (timer1.h) */
	int approve_expired;
	char *fail_msg;			/* strict mode failed: for the technician */
	char *fail_why;			/* ... and for the MARKER and END records */
	int fail_done;
};

/* strict.c */
void px__strict_fail(struct px_strict *s, const char *why, const char *msg);
int px__strict_say(struct px_strict *s, const char *text);
void px__strict_show_prompt(struct px_strict *s);
/* Writes (and records as OUTPUT) what the technician's window takes now. */
void px__strict_flush_tech(struct px_strict *s);
int px__strict_set(struct px_strict *s, enum strict_state to, const char *why);

/* strict_entry.c */
/* The entry in s->entry was submitted: decides its lines (DECIDING), then
 * moves on to RECORDING (or back to PROMPT for an empty entry). */
void px__strict_entry_submit(struct px_strict *s);
/* RECORDING: records what waits; once all is recorded, runs the first
 * line or refuses the entry. */
void px__strict_entry_record(struct px_strict *s);
/* RUNNING: the PROMPT marker of the running line came with its status. */
void px__strict_entry_done(struct px_strict *s, int status);
/* Frees the entry's lines. */
void px__strict_entry_clear(struct px_strict *s);

/* strict_approve.c */
/* Whether the decided entry waits for an escort: one line, verdict approve,
 * rebuilt for the shell, in a supervised session. */
int px__strict_approve_wanted(const struct px_strict *s);
/* DECIDING -> APPROVING: shows the pending command to escorts, tells the
 * technician, starts the deadline. */
void px__strict_approve_hold(struct px_strict *s);
/* APPROVING: the technician's bytes; Ctrl-C cancels, the rest is dropped. */
void px__strict_approve_keys(struct px_strict *s, const uint8_t *d, size_t n);
/* APPROVING: ends the wait when the deadline passed. */
void px__strict_approve_step(struct px_strict *s);
/* Withdraws a pending command and stops the deadline (channel freed). */
void px__strict_approve_drop(struct px_strict *s);

#endif
