/* receipts: the proxy keeps, outside the recorder's store, what the recorder
 * hands it when a session closes, so that a store later cut, rolled back or
 * replaced contradicts something it cannot reach (escort-replay verify
 * --anchor reads both files):
 *
 *	STATEDIR/receipts  one receipt line per closed session
 *	                   (recorder/receipt.h: "escort-receipt v1 ...")
 *	STATEDIR/heads     one signed tree head line per close
 *	                   (recorder/treehead.h: "escort-head v1 ...")
 *
 * Both files are created mode 0600 and only ever appended to (O_APPEND, one
 * write(2) per line, fsync before the call returns), from any worker
 * thread.  Every line stored is logged with the session id; a failure to
 * store is logged as an error. */
#ifndef PX_RECEIPTS_H
#define PX_RECEIPTS_H

#include "recorder/sender.h"

#define PX_RECEIPTS_FILE "receipts"
#define PX_HEADS_FILE "heads"

/* Appends rc's receipt line (and its tree head line, when the recorder sent
 * one) under statedir and logs them.  Returns PX_OK, PX_EINVAL when the
 * CLOSED seal is malformed, or PX_EIO (logged with the path and errno). */
int px__receipts_store(const char *statedir, const struct sender_receipt *rc);

#endif
