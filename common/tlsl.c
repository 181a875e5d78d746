/* tlsl: TLS over OpenSSL memory BIOs, transport-agnostic. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/esc_error.h"
#include "common/tlsl.h"

struct tlsl_ctx {
	SSL_CTX	*ctx;
	int	 server;
};

struct tlsl {
	SSL	*ssl;
	BIO	*rbio;		/* network -> SSL */
	BIO	*wbio;		/* SSL -> network */
	struct buf out;		/* ciphertext drained from wbio */
	struct buf plain;	/* plaintext written before the handshake */
	int	 ready;
	int	 failed;
	char	 peer[256];
	char	 err[256];
};

/* Formats OpenSSL's first queued error after what. */
static void
ssl_reason(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char msg[200] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, msg);
}

/* Protocol floor, own certificate and key, CA to verify the peer. */
static int
ctx_common(SSL_CTX *c, const char *ca, const char *cert, const char *key,
    char *err, size_t errlen)
{
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (cert != NULL && SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
		ssl_reason(err, errlen, cert);
		return ESC_ETLS;
	}
	if (key != NULL && SSL_CTX_use_PrivateKey_file(c, key,
	    SSL_FILETYPE_PEM) != 1) {
		ssl_reason(err, errlen, key);
		return ESC_ETLS;
	}
	if (cert != NULL && key != NULL && SSL_CTX_check_private_key(c) != 1) {
		ssl_reason(err, errlen, key);
		return ESC_ETLS;
	}
	if (SSL_CTX_load_verify_locations(c, ca, NULL) != 1) {
		ssl_reason(err, errlen, ca);
		return ESC_ETLS;
	}
	return ESC_OK;
}

/* A server or client context. */
static int
ctx_new(int server, const char *ca, const char *cert, const char *key,
    struct tlsl_ctx **out, char *err, size_t errlen)
{
	struct tlsl_ctx *t;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ESC_ENOMEM;
	t->server = server;
	t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (t->ctx == NULL) {
		ssl_reason(err, errlen, "SSL_CTX_new");
		free(t);
		return ESC_ETLS;
	}
	if ((r = ctx_common(t->ctx, ca, cert, key, err, errlen)) != ESC_OK) {
		tlsl_ctx_free(t);
		return r;
	}
	if (server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);

		if (names != NULL)
			SSL_CTX_set_client_CA_list(t->ctx, names);
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	} else
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	*out = t;
	return ESC_OK;
}

int
tlsl_ctx_server(const char *cert, const char *key, const char *client_ca,
    struct tlsl_ctx **out, char *err, size_t errlen)
{
	return ctx_new(1, client_ca, cert, key, out, err, errlen);
}

int
tlsl_ctx_client(const char *ca, const char *cert, const char *key,
    struct tlsl_ctx **out, char *err, size_t errlen)
{
	return ctx_new(0, ca, cert, key, out, err, errlen);
}

void
tlsl_ctx_free(struct tlsl_ctx *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

int
tlsl_new(struct tlsl_ctx *c, const char *servername, struct tlsl **out)
{
	struct tlsl *t;
	unsigned char ip[16];

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ESC_ENOMEM;
	buf_init(&t->out, 0);
	buf_init(&t->plain, 0);
	t->ssl = SSL_new(c->ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		return ESC_ENOMEM;
	}
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);	/* SSL owns the BIOs now */
	if (c->server)
		SSL_set_accept_state(t->ssl);
	else {
		SSL_set_connect_state(t->ssl);
		if (servername != NULL && servername[0] != '\0') {
			X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);

			if (inet_pton(AF_INET, servername, ip) == 1 ||
			    inet_pton(AF_INET6, servername, ip) == 1)
				X509_VERIFY_PARAM_set1_ip_asc(vp, servername);
			else {
				SSL_set_tlsext_host_name(t->ssl, servername);
				X509_VERIFY_PARAM_set1_host(vp, servername, 0);
			}
		}
	}
	*out = t;
	return ESC_OK;
}

void
tlsl_free(struct tlsl *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	buf_free(&t->out);
	buf_free(&t->plain);
	free(t);
}

/* Moves ciphertext from the write BIO into t->out. */
static int
drain_wbio(struct tlsl *t)
{
	size_t n;
	uint8_t *p;
	int r, got;

	while ((n = BIO_ctrl_pending(t->wbio)) > 0) {
		if ((r = buf_reserve(&t->out, n, &p)) != ESC_OK)
			return r;
		got = BIO_read(t->wbio, p, (int)n);
		buf_unput(&t->out, got > 0 ? n - (size_t)got : n);
		if (got <= 0)
			break;
	}
	return ESC_OK;
}

/* Records why TLS failed (the verify result first) and flushes any alert. */
static int
tls_fail(struct tlsl *t, int sslerr, const char *what)
{
	unsigned long e = ERR_peek_error();
	long vr = SSL_get_verify_result(t->ssl);
	char msg[200] = "";

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	if (vr != X509_V_OK)
		snprintf(t->err, sizeof(t->err), "%s: certificate verify "
		    "failed: %s", what, X509_verify_cert_error_string(vr));
	else if (msg[0] != '\0')
		snprintf(t->err, sizeof(t->err), "%s: %s", what, msg);
	else
		snprintf(t->err, sizeof(t->err), "%s: SSL error %d", what,
		    sslerr);
	t->failed = 1;
	drain_wbio(t);		/* let an alert reach the peer */
	return ESC_ETLS;
}

/* Advances the handshake; sends plaintext held for it when done. */
static int
handshake(struct tlsl *t)
{
	int r, e;
	X509 *peer;

	if (t->ready)
		return ESC_OK;
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->ready = 1;
		if ((peer = SSL_get1_peer_certificate(t->ssl)) != NULL) {
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
			    NID_commonName, t->peer, sizeof(t->peer));
			X509_free(peer);
		}
		if (buf_len(&t->plain) > 0) {
			r = tlsl_write(t, buf_ptr(&t->plain),
			    buf_len(&t->plain));
			buf_reset(&t->plain);
			if (r != ESC_OK)
				return r;
		}
		return drain_wbio(t);
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return drain_wbio(t);
	return tls_fail(t, e, "TLS handshake");
}

int
tlsl_feed(struct tlsl *t, const void *p, size_t n)
{
	if (t->failed)
		return ESC_ETLS;
	if (n > 0 && BIO_write(t->rbio, p, (int)n) != (int)n)
		return ESC_ENOMEM;
	return handshake(t);
}

long
tlsl_read(struct tlsl *t, void *out, size_t cap)
{
	int r, e;

	if (t->failed)
		return ESC_ETLS;
	if ((r = handshake(t)) != ESC_OK)
		return r;
	if (!t->ready)
		return 0;
	r = SSL_read(t->ssl, out, cap > INT32_MAX ? INT32_MAX : (int)cap);
	if (r > 0) {
		drain_wbio(t);
		return r;
	}
	e = SSL_get_error(t->ssl, r);
	drain_wbio(t);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN)
		return ESC_ECLOSED;
	return tls_fail(t, e, "TLS read");
}

int
tlsl_write(struct tlsl *t, const void *p, size_t n)
{
	const uint8_t *b = p;
	int r, e;

	if (t->failed)
		return ESC_ETLS;
	if (!t->ready)
		return buf_put(&t->plain, p, n);
	while (n > 0) {
		r = SSL_write(t->ssl, b, n > (1u << 30) ? (1 << 30) : (int)n);
		if (r <= 0) {
			e = SSL_get_error(t->ssl, r);
			return tls_fail(t, e, "TLS write");
		}
		b += r;
		n -= (size_t)r;
		if ((r = drain_wbio(t)) != ESC_OK)
			return r;
	}
	return ESC_OK;
}

size_t
tlsl_pending(struct tlsl *t, const uint8_t **p)
{
	drain_wbio(t);
	*p = buf_ptr(&t->out);
	return buf_len(&t->out);
}

void
tlsl_consume(struct tlsl *t, size_t n)
{
	buf_consume(&t->out, n > buf_len(&t->out) ? buf_len(&t->out) : n);
	if (buf_len(&t->out) == 0)
		buf_reset(&t->out);
}

void
tlsl_shutdown(struct tlsl *t)
{
	if (t->ready && !t->failed) {
		SSL_shutdown(t->ssl);
		drain_wbio(t);
	}
	ERR_clear_error();
}

int
tlsl_ready(const struct tlsl *t)
{
	return t->ready;
}

const char *
tlsl_peer_name(const struct tlsl *t)
{
	return t->peer;
}

const char *
tlsl_error(const struct tlsl *t)
{
	return t->err[0] ? t->err : "no error";
}
