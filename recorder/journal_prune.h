/*
 * journal_prune.h: the text of a PRUNE journal entry (journal.h,
 * escort-transcript(5)):
 *
 *   ADDRESS [ "\n" KEY "=" VALUE ]...
 *
 * ADDRESS is the object's s3:// address; the lines after it name the
 * pruned session's user and target (keys "user" and "target", the META
 * event's USER and TARGET), so that readers can still list the session by
 * them once its file is gone.  The entry's signature covers them.  An
 * entry without them (written before they existed) is just the address;
 * readers ignore keys they do not know.
 *
 * journal_prune_text_make writes the text into out (outsz bytes, at most
 * JOURNAL_TEXT_MAX + 1 used).  A field whose value is empty, holds a byte
 * below 0x20 or 0x7f, or would make the text longer than JOURNAL_TEXT_MAX
 * is left out (the address alone still says where the session is).
 * Returns 0, or REC_EINVAL when the address itself does not fit or holds
 * such a byte.
 *
 * journal_prune_text_parse splits text into the address and the two
 * values (each cut to its buffer, NUL-terminated; "" when absent).
 * Nothing is allocated; nothing fails.
 */
#ifndef ESCORT_JOURNAL_PRUNE_H
#define ESCORT_JOURNAL_PRUNE_H

#include <stddef.h>

int	journal_prune_text_make(const char *address, const char *user,
	    const char *target, char *out, size_t outsz);
void	journal_prune_text_parse(const char *text, char *address,
	    size_t addrsz, char *user, size_t usersz, char *target,
	    size_t targetsz);

#endif
