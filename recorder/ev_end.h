/*
 * ev_end: the END event's payload: how a session ended (END_KIND), why in
 * words (REASON) and who wrote it (END_BY: the proxy, or the recorder when
 * the proxy could not).  One table of kinds for the proxy that writes them,
 * the recorder that writes the ones the proxy cannot, and the readers.
 * The kinds are documented in escort-transcript(5).
 */
#ifndef ESCORT_EV_END_H
#define ESCORT_EV_END_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum ev_end_kind {
	EV_END_NORMAL,		/* every channel closed by the client, then it left */
	EV_END_CLIENT_LOST,	/* the technician's connection went with channels open */
	EV_END_TARGET_LOST,	/* the target's connection went (or stopped answering) */
	EV_END_POLICY,		/* ended by policy: reload, forbid, MaxSession */
	EV_END_PROXY_SHUTDOWN,	/* escort-proxy was stopped (SIGTERM) */
	EV_END_RECORDER_LOST,	/* the recorder did not come back within RecorderTimeout */
	EV_END_RECORD_FAILED,	/* an event could not be recorded */
	EV_END_PROXY_ERROR,	/* the proxy failed (out of memory, relay error) */
	EV_END_PROXY_LOST,	/* written by the recorder: no resume within ResumeTimeout */
	EV_END_RECORDER_SHUTDOWN, /* written by the recorder: it was stopped */
	EV_END_ESCORT_KILL,	/* an escort ended the session (kill) */
	EV_END_KIND_COUNT
};

/* The kind's name ("client-lost"), or "unknown" out of range. */
const char *ev_end_kind_name(enum ev_end_kind k);

/* A sentence for the kind ("the technician disconnected"). */
const char *ev_end_kind_text(enum ev_end_kind k);

/* Appends END_KIND, REASON (reason, or the kind's sentence when NULL or
 * empty) and END_BY (by) to b.  Returns REC_OK, REC_ETOOBIG, REC_ENOMEM. */
int ev_end_payload(struct buf *b, enum ev_end_kind k, const char *reason,
    const char *by);

/* What an END payload says.  Strings are NUL-terminated and cut to fit;
 * empty when the field is absent (an END written before END_KIND existed
 * has none). */
struct ev_end_info {
	char kind[32];
	char reason[256];
	char by[16];
};

/* Reads the END payload p[0..n) into *out (never fails: absent fields
 * are empty). */
void ev_end_parse(const uint8_t *p, size_t n, struct ev_end_info *out);

#endif
