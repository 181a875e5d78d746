/* receipts: the proxy keeps, outside the recorder's store, what the recorder
 * hands it when a session closes, so that a store later cut, rolled back or
 * replaced contradicts something it cannot reach (escort-replay verify
 * --anchor reads both files):
 *
 *	DIR/receipts  one receipt line per closed session
 *	              (recorder/receipt.h: "escort-receipt v1 ...")
 *	DIR/heads     one signed tree head line per close
 *	              (recorder/treehead.h: "escort-head v1 ...")
 *
 * DIR is STATEDIR with one Recorder configured.  With several, each has its
 * own journal and key, so each keeps its own pair of files:
 * DIR = STATEDIR/recorders/NAME, NAME the recorder's address as written in
 * the configuration with '/', '%' and every byte outside [A-Za-z0-9._:-]
 * as %XX (px__receipts_dir); both directories are created mode 0700 when
 * missing.
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

/* Writes DIR for recorder (NULL: the only one) into out[0..outsz).  Returns
 * PX_OK or PX_EINVAL (too long). */
int px__receipts_dir(const char *statedir, const char *recorder, char *out, size_t outsz);

/* Appends rc's receipt line (and its tree head line, when the recorder sent
 * one) under DIR of recorder (NULL: the only one; see above) and logs them.
 * Returns PX_OK, PX_EINVAL when the CLOSED seal is malformed, or PX_EIO
 * (logged with the path and errno). */
int px__receipts_store(const char *statedir, const char *recorder, const struct sender_receipt *rc);

#endif
