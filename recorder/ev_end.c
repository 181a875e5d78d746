/* ev_end: the END event's payload (see ev_end.h). */
#include <string.h>

#include "recorder/event.h"
#include "recorder/ev_end.h"
#include "recorder/rec_error.h"

static const struct {
	const char *name;
	const char *text;
} ev_end_kinds[EV_END_KIND_COUNT] = {
	[EV_END_NORMAL] = { "normal", "the technician closed the session" },
	[EV_END_CLIENT_LOST] = { "client-lost",
	    "the technician disconnected with channels open" },
	[EV_END_TARGET_LOST] = { "target-lost",
	    "the connection to the target was lost" },
	[EV_END_POLICY] = { "policy", "ended by policy" },
	[EV_END_PROXY_SHUTDOWN] = { "proxy-shutdown",
	    "escort-proxy was shutting down" },
	[EV_END_RECORDER_LOST] = { "recorder-lost",
	    "the recorder did not come back in time" },
	[EV_END_RECORD_FAILED] = { "record-failed",
	    "an event could not be recorded" },
	[EV_END_PROXY_ERROR] = { "proxy-error",
	    "the proxy ended the session after an internal error" },
	[EV_END_PROXY_LOST] = { "proxy-lost",
	    "the proxy did not resume the session" },
	[EV_END_RECORDER_SHUTDOWN] = { "recorder-shutdown",
	    "escort-recorder was shutting down" },
	[EV_END_ESCORT_KILL] = { "escort-kill", "an escort ended the session" },
};

const char *
ev_end_kind_name(enum ev_end_kind k)
{
	return (unsigned)k < EV_END_KIND_COUNT ? ev_end_kinds[k].name :
	    "unknown";
}

const char *
ev_end_kind_text(enum ev_end_kind k)
{
	return (unsigned)k < EV_END_KIND_COUNT ? ev_end_kinds[k].text :
	    "unknown";
}

int
ev_end_payload(struct buf *b, enum ev_end_kind k, const char *reason,
    const char *by)
{
	int r;

	if ((unsigned)k >= EV_END_KIND_COUNT)
		return REC_EINVAL;
	if (reason == NULL || reason[0] == '\0')
		reason = ev_end_kinds[k].text;
	if ((r = ev_fields_put_str(b, EVF_END_KIND, ev_end_kinds[k].name)) !=
	    REC_OK ||
	    (r = ev_fields_put_str(b, EVF_REASON, reason)) != REC_OK ||
	    (r = ev_fields_put_str(b, EVF_END_BY, by)) != REC_OK)
		return r;
	return REC_OK;
}

void
ev_end_parse(const uint8_t *p, size_t n, struct ev_end_info *out)
{
	memset(out, 0, sizeof(*out));
	ev_fields_get_str(p, n, EVF_END_KIND, out->kind, sizeof(out->kind));
	ev_fields_get_str(p, n, EVF_REASON, out->reason, sizeof(out->reason));
	ev_fields_get_str(p, n, EVF_END_BY, out->by, sizeof(out->by));
}
