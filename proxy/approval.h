/* approval: what every wait for an escort's approval shares (an exec
 * request, exec_approve.c; a line in strict mode, strict_approve.c).
 *
 *   px__approval_secs: the deadline in seconds, ApprovalTimeout of c's
 *     configuration (120 without one), at least 1.
 *   px__approval_printable: out := in with every control character
 *     (below 0x20, and 0x7f) as '?', cut to cap - 1 bytes and
 *     NUL-terminated; cap > 0.  What escorts and the technician are shown.
 * No allocation; no state. */
#ifndef ESCORT_PROXY_APPROVAL_H
#define ESCORT_PROXY_APPROVAL_H

#include <stddef.h>

struct px_conn;

int px__approval_secs(const struct px_conn *c);
void px__approval_printable(char *out, size_t cap, const char *in);

#endif
