/*
 * keytext.h: OpenSSH public key text ("type base64 [comment]", as in
 * authorized_keys and known_hosts): validation and comparison.  Internal
 * to libescort-policy (it allocates from the policy's arena): pol__*.
 */
#ifndef ESCORT_POLICY_KEYTEXT_H
#define ESCORT_POLICY_KEYTEXT_H

#include <stdbool.h>

struct arena;

/* Checks `text` and stores "type base64" (comment dropped) in *out, allocated
 * from the arena.  Returns NULL, or a static message saying what is wrong. */
const char *pol__keytext_normalize(struct arena *a, const char *text, char **out);

/* True when both texts name the same key (type and base64 equal; comments
 * and surrounding blanks ignored). */
bool pol__keytext_equal(const char *a, const char *b);

#endif
