/* approval: the deadline and the shown command of a wait for an escort's
 * approval (approval.h). */
#include <stddef.h>

#include "proxy/approval.h"
#include "proxy/config.h"
#include "proxy/conn.h"

int
px__approval_secs(const struct px_conn *c)
{
	const struct px_config *cfg = px__conn_cfg(c);
	int secs = cfg != NULL ? cfg->approval_timeout : 120;

	return secs > 0 ? secs : 1;
}

void
px__approval_printable(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < cap; in++)
		out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '?' : *in;
	out[n] = '\0';
}
