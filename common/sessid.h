/*
 * sessid: the one rule for session ids, wherever one arrives (the recorder
 * protocol, a store's file names, a reader's command line).
 *
 * A session id is 1..SESSID_MAX bytes of [A-Za-z0-9._-], does not start
 * with '.', and is not "journal" (the id of the store's journal chain).
 * Such an id is safe as a file name and in a log line.  New ids look like
 * "YYYYMMDD-HHMMSS-xxxxxxxx" (see tw_make_id), but any id that passes is
 * accepted.
 */
#ifndef ESCORT_SESSID_H
#define ESCORT_SESSID_H

#include <stddef.h>

#define SESSID_MAX	64

/* Returns 1 when id[0..len) is a valid session id, else 0.  id need not be
 * NUL-terminated; a NUL inside it makes it invalid. */
int	sessid_valid(const char *id, size_t len);

#endif
