/* totp: time-based one-time passwords (RFC 6238, HOTP of RFC 4226 over
 * OpenSSL's HMAC), the second factor escort-proxy asks over
 * keyboard-interactive of the users TOTPSecrets names
 * (escort-proxy.conf(5)).
 *
 * A secret is written as the administrator's tools give it: base32 (as
 * `oathtool --totp -b` takes it; case, spaces and '=' padding ignored) or an
 * otpauth://totp/ URI (its secret=, and digits= 6..8, period= 1..300,
 * algorithm= SHA1, SHA256 or SHA512; defaults 6, 30, SHA1).
 *
 * A code is accepted for the time step of now and the one before and after
 * (a window of +-1), and only once: px__totp_claim() refuses a step at or
 * before the last one accepted for that user, so a code seen once (or an
 * older one) cannot be replayed within its window, on any worker.
 *
 * Errors: negative PX_E* codes (px_error.h).  Nothing here does I/O but
 * px__totp_load. */
#ifndef PX_TOTP_H
#define PX_TOTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PX_TOTP_KEY_MAX 128     /* secret bytes (1024 bits) */

enum px_totp_alg { PX_TOTP_SHA1, PX_TOTP_SHA256, PX_TOTP_SHA512 };

struct px_totp_key {
	uint8_t key[PX_TOTP_KEY_MAX];
	size_t keylen;
	enum px_totp_alg alg;
	int digits;             /* 6..8 */
	int period;             /* seconds a step lasts */
};

/* Parses text (base32 or an otpauth://totp/ URI) into *k.  Returns PX_OK,
 * or PX_EINVAL with a reason in why (whysz bytes). */
int px__totp_parse(const char *text, struct px_totp_key *k, char *why, size_t whysz);

/* The code of step `step` as digits (k->digits of them, NUL-terminated) in
 * out (at least 9 bytes).  Returns PX_OK or PX_ENOMEM (HMAC failed). */
int px__totp_code(const struct px_totp_key *k, uint64_t step, char *out);

/* Whether answer is the code of now's step or the one before or after:
 * PX_OK with the matching step in *step, else PX_EINVAL. */
int px__totp_verify(const struct px_totp_key *k, const char *answer, time_t now, uint64_t *step);

/* The users with a secret: read from a TOTPSecrets file, "USER SECRET" a
 * line, '#' comments.  Immutable once loaded (shared by the workers). */
struct px_totp_table;

/* Reads path into a new table (*out; NULL when the file holds no user).
 * Every problem is reported through report(ctx, line, message) (line 0:
 * the file as a whole): a file others may read or write, a line without
 * two words, a secret that does not parse, a user given twice.  Returns
 * PX_OK, PX_ECONFIG after reporting, or PX_ENOMEM. */
int px__totp_load(const char *path, struct px_totp_table **out,
    void (*report)(void *ctx, int line, const char *msg), void *ctx);

/* The key of user, or NULL (also for a NULL table).  Valid while the
 * table lives. */
const struct px_totp_key *px__totp_lookup(const struct px_totp_table *t, const char *user);

void px__totp_table_free(struct px_totp_table *t);

/* The last step accepted per user, shared by the workers (own lock). */
struct px_totp_used {
	pthread_mutex_t mu;
	struct px_totp_last *v;
	size_t n, cap;
};

void px_totp_used_init(struct px_totp_used *u);
void px_totp_used_free(struct px_totp_used *u);

/* Records step as used by user when it is later than the last one
 * accepted: PX_OK.  PX_EINVAL when it is not (a replay), PX_ENOMEM. */
int px__totp_claim(struct px_totp_used *u, const char *user, uint64_t step);

#endif
