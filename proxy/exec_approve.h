/* exec_approve: an exec request the policy says `approve` for, held until
 * an escort decides, in a supervised session (pol_session_supervised).
 *
 * The channel stays in CH_WAIT with its request unanswered; the command
 * shows as the session's pending command in the registry (escorts'
 * `sessions`), and the technician is told on standard error.  The first of
 * an escort's approve, an escort's deny or ApprovalTimeout decides it; the
 * registry arbitrates as for strict mode (strict_approve.c).  The decision
 * is recorded (DECISION with APPROVER, REASON) when px__chan_decide takes
 * it, before anything is sent to the target.  The technician can cancel by
 * ending the client (the channel closes; nothing is recorded as decided).
 *
 * Ownership: ch->appr belongs to the channel (px__exec_approve_free).  All
 * on the connection's loop. */
#ifndef PX_EXEC_APPROVE_H
#define PX_EXEC_APPROVE_H

struct px_chan;
struct px_req;

#include <uv.h>

/* How a held request ended, for px__chan_decide. */
enum px_appr_outcome {
	PX_APPR_WAITING,        /* nothing decided yet */
	PX_APPR_APPROVED,       /* an escort approved */
	PX_APPR_DENIED,         /* an escort denied, or the deadline passed */
};

/* One held request. */
struct px_exec_appr {
	char *rendered;                 /* the line that runs when approved */
	char *rule;                     /* the rule that asked for approval */
	int rule_line;
	enum px_appr_outcome outcome;
	char escort[128];               /* who decided; "" for a timeout */
	char reason[400];               /* the DECISION's REASON */
	char told[480];                 /* DENIED: the technician's message */
	uv_timer_t *timer;              /* the deadline (timer1.h) */
	int expired;
	int pending;                    /* the registry shows it (not yet taken) */
};

/* Holds the exec command cmd (shown to escorts) with its rebuilt line
 * (taken, also on error), rule and line, and tells the technician.
 * Returns PX_OK (held: px__chan_decide returns 0 and looks again on every
 * step), PX_EINVAL when another command of the session is pending,
 * PX_EPOLICY when the session is not listed, PX_ENOMEM; on an error
 * nothing is held. */
int px__exec_approve_hold(struct px_chan *ch, const char *cmd, char *rendered, const char *rule,
    int rule_line);

/* What became of the held request: WAITING, or (the deadline checked
 * here) APPROVED or DENIED with ch->appr's fields filled; the caller
 * records it and then calls px__exec_approve_free. */
enum px_appr_outcome px__exec_approve_poll(struct px_chan *ch);

/* An escort's approve (1) or deny (0).  Returns PX_OK, or PX_EINVAL when
 * ch holds nothing undecided. */
int px__exec_escort_decide(struct px_chan *ch, int approve, const char *escort, const char *reason);

/* Withdraws a pending command and frees ch->appr (NULL allowed). */
void px__exec_approve_free(struct px_chan *ch);

#endif
