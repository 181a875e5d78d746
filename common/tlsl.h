/*
 * tlsl: TLS over memory BIOs (OpenSSL), with no I/O of its own, so the
 * caller can drive it from libuv or from blocking sockets:
 *
 *	network bytes in   -> tlsl_feed()
 *	plaintext out      <- tlsl_read()
 *	plaintext in       -> tlsl_write()
 *	network bytes out  <- tlsl_pending() / tlsl_consume()
 *
 * A server context requires and verifies a client certificate against a CA
 * file (mutual TLS); a client context verifies the server against a CA file
 * and presents its own certificate.  TLS 1.2 is the minimum.
 *
 * Functions return ESC_OK or a negative ESC_E* code; ESC_ETLS comes with a
 * message readable through tlsl_error() (or, for contexts, in err).
 * A struct tlsl_ctx may be shared by many struct tlsl; it must outlive them.
 */
#ifndef ESCORT_TLSL_H
#define ESCORT_TLSL_H

#include <stddef.h>
#include <stdint.h>

struct tlsl_ctx;
struct tlsl;

/* Server context: certificate chain and key (PEM), clients must present a
 * certificate signed by client_ca.  Returns ESC_OK, or ESC_ETLS with the
 * file and reason in err. */
int	tlsl_ctx_server(const char *cert, const char *key,
	    const char *client_ca, struct tlsl_ctx **out, char *err,
	    size_t errlen);

/* Client context: the server must present a certificate signed by ca;
 * cert and key (may be NULL) are presented to the server. */
int	tlsl_ctx_client(const char *ca, const char *cert, const char *key,
	    struct tlsl_ctx **out, char *err, size_t errlen);

void	tlsl_ctx_free(struct tlsl_ctx *c);

/* A connection in the role of its context.  For clients, servername (may be
 * NULL) is sent as SNI and checked against the server certificate's names
 * unless it is an IP address literal, which is checked as an IP. */
int	tlsl_new(struct tlsl_ctx *c, const char *servername, struct tlsl **out);
void	tlsl_free(struct tlsl *t);

/* Gives bytes received from the network.  Returns ESC_OK, ESC_ETLS (the
 * handshake or a record failed: see tlsl_error) or ESC_ENOMEM. */
int	tlsl_feed(struct tlsl *t, const void *p, size_t n);

/* Reads decrypted bytes into buf[0..cap).  Returns the count (> 0), 0 when
 * none are ready yet, ESC_ECLOSED after the peer's close_notify, or
 * ESC_ETLS.  Drives the handshake as needed. */
long	tlsl_read(struct tlsl *t, void *buf, size_t cap);

/* Encrypts p[0..n) (all of it, possibly buffered until the handshake is
 * done).  Returns ESC_OK or ESC_ETLS/ESC_ENOMEM. */
int	tlsl_write(struct tlsl *t, const void *p, size_t n);

/* Bytes to send to the network: points *p at them and returns the count.
 * Report what was sent with tlsl_consume. */
size_t	tlsl_pending(struct tlsl *t, const uint8_t **p);
void	tlsl_consume(struct tlsl *t, size_t n);

/* Sends close_notify (then flush tlsl_pending). */
void	tlsl_shutdown(struct tlsl *t);

/* 1 once the handshake completed (peer verified). */
int	tlsl_ready(const struct tlsl *t);

/* The peer certificate's subject CN ("" before the handshake or without). */
const char *tlsl_peer_name(const struct tlsl *t);

/* Last failure, e.g. "certificate verify failed: unable to get local
 * issuer certificate".  Valid until the next call on t. */
const char *tlsl_error(const struct tlsl *t);

#endif
