/* algos: the SSH algorithms the proxy's listener offers (escort-proxy.conf(5)
 * KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms).
 *
 * Each list is written as in sshd_config(5): a comma-separated list replaces
 * the default; "+LIST" appends to it, "-LIST" removes from it, "^LIST" puts
 * LIST first.  Names are exact (no wildcards).  Every resulting name must be
 * one libssh offers; the result must not be empty.
 *
 * The defaults give no failure and no warning in ssh-audit: curve25519 and
 * the 4096/8192-bit MODP groups for key exchange (no NIST curves),
 * ChaCha20-Poly1305 and AES-CTR, and encrypt-then-MAC SHA-2 MACs.  Host key
 * algorithms default to those of the proxy's host key (libssh's choice).
 *
 * Ownership: lists returned are malloc'd, the caller frees them.  No I/O. */
#ifndef PX_ALGOS_H
#define PX_ALGOS_H

#include <libssh/server.h>
#include <stddef.h>

enum px_algo_kind { PX_ALGO_KEX, PX_ALGO_CIPHERS, PX_ALGO_MACS, PX_ALGO_HOSTKEYS, PX_ALGO_N };

/* The configuration keyword of a kind ("KexAlgorithms", ...). */
const char *px__algo_keyword(enum px_algo_kind k);

/* The kind named by a configuration keyword (case-insensitive), or -1. */
int px__algo_by_keyword(const char *keyword);

/* The default list of a kind (never NULL; "" for HostKeyAlgorithms: the
 * host key's own). */
const char *px__algo_default(enum px_algo_kind k);

/* Resolves spec against the default into *out (malloc'd).  Returns PX_OK,
 * PX_EINVAL with a message in err (the first name libssh does not offer, an
 * empty result, or a malformed list), or PX_ENOMEM. */
int px__algo_resolve(enum px_algo_kind k, const char *spec, char **out, char *err, size_t errlen);

/* Sets the lists on a listener: lists[k] NULL means the default.  Returns
 * PX_OK, or PX_ESSH with libssh's message in err. */
int px__algo_apply(ssh_bind b, char *const lists[PX_ALGO_N], char *err, size_t errlen);

#endif
