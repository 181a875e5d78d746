/* Unit tests for common/tlsl: two tlsl objects talk through memory only
 * (mutual TLS handshake, data both ways), and the refusals a recorder and a
 * proxy rely on: no client certificate, a client certificate or a server
 * certificate from another CA, a server certificate for another address. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/esc_error.h"
#include "common/tlsl.h"

static char dir[] = "/tmp/test_common_tlsl.XXXXXX";

struct pki {
	char	 cert[128];
	char	 key[128];
	X509	*x;
	EVP_PKEY *k;
};

static struct pki ca, other_ca, server, client, stranger, wrong_ip;

static EVP_PKEY *
newkey(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* Makes a certificate for cn signed by issuer (self-signed when NULL). */
static void
make(struct pki *p, const char *name, const char *cn, struct pki *issuer,
    const char *san)
{
	static long serial = 1;
	FILE *f;

	p->k = newkey();
	p->x = X509_new();
	X509_set_version(p->x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(p->x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(p->x), -60);
	X509_gmtime_adj(X509_getm_notAfter(p->x), 3600);
	X509_set_pubkey(p->x, p->k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(p->x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(p->x, X509_get_subject_name(issuer ? issuer->x :
	    p->x));
	add_ext(p->x, issuer ? issuer->x : p->x, NID_basic_constraints,
	    issuer ? "CA:FALSE" : "critical,CA:TRUE");
	if (issuer == NULL)
		add_ext(p->x, p->x, NID_key_usage, "critical,keyCertSign");
	if (san != NULL)
		add_ext(p->x, issuer->x, NID_subject_alt_name, san);
	assert_true(X509_sign(p->x, issuer ? issuer->k : p->k, EVP_sha256()) >
	    0);
	snprintf(p->cert, sizeof(p->cert), "%s/%s.pem", dir, name);
	snprintf(p->key, sizeof(p->key), "%s/%s.key", dir, name);
	assert_non_null(f = fopen(p->cert, "w"));
	PEM_write_X509(f, p->x);
	fclose(f);
	assert_non_null(f = fopen(p->key, "w"));
	PEM_write_PrivateKey(f, p->k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	make(&ca, "ca", "escort test CA", NULL, NULL);
	make(&other_ca, "other-ca", "other CA", NULL, NULL);
	make(&server, "server", "recorder", &ca, "IP:127.0.0.1");
	make(&client, "client", "proxy1", &ca, NULL);
	make(&stranger, "stranger", "intruder", &other_ca, NULL);
	make(&wrong_ip, "wrong-ip", "recorder", &ca, "IP:10.9.9.9");
	return 0;
}

static int
teardown(void **state)
{
	struct pki *all[] = { &ca, &other_ca, &server, &client, &stranger,
	    &wrong_ip };

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		unlink(all[i]->cert);
		unlink(all[i]->key);
		X509_free(all[i]->x);
		EVP_PKEY_free(all[i]->k);
	}
	rmdir(dir);
	return 0;
}

/* Moves ciphertext from a to b.  Returns tlsl_feed's result. */
static int
move(struct tlsl *a, struct tlsl *b)
{
	const uint8_t *p;
	size_t n = tlsl_pending(a, &p);
	int r;

	if (n == 0)
		return ESC_OK;
	r = tlsl_feed(b, p, n);
	tlsl_consume(a, n);
	return r;
}

/* Runs the handshake; returns ESC_OK or the first failure (*who: 's'/'c'). */
static int
handshake(struct tlsl *c, struct tlsl *s, char *who)
{
	int r;

	tlsl_feed(c, NULL, 0);
	for (int i = 0; i < 20; i++) {
		if ((r = move(c, s)) != ESC_OK) {
			*who = 's';
			return r;
		}
		if ((r = move(s, c)) != ESC_OK) {
			*who = 'c';
			return r;
		}
		if (tlsl_ready(c) && tlsl_ready(s))
			return ESC_OK;
	}
	*who = '?';
	return ESC_ESTATE;	/* no handshake after 20 rounds */
}

static void
pair(const char *cert, const char *key, const char *client_ca_for_server,
    const char *ca_for_client, const char *server_cert, const char *server_key,
    const char *name, struct tlsl_ctx **cc, struct tlsl_ctx **sc,
    struct tlsl **c, struct tlsl **s)
{
	char err[512];

	assert_int_equal(tlsl_ctx_server(server_cert, server_key,
	    client_ca_for_server, sc, err, sizeof(err)), ESC_OK);
	assert_int_equal(tlsl_ctx_client(ca_for_client, cert, key, cc, err,
	    sizeof(err)), ESC_OK);
	assert_int_equal(tlsl_new(*sc, NULL, s), ESC_OK);
	assert_int_equal(tlsl_new(*cc, name, c), ESC_OK);
}

static void
done(struct tlsl_ctx *cc, struct tlsl_ctx *sc, struct tlsl *c,
    struct tlsl *s)
{
	tlsl_free(c);
	tlsl_free(s);
	tlsl_ctx_free(cc);
	tlsl_ctx_free(sc);
}

static void
test_mutual_tls_in_memory(void **state)
{
	(void)state;
	struct tlsl_ctx *cc, *sc;
	struct tlsl *c, *s;
	uint8_t big[200000], got[300000];
	size_t have = 0;
	char who;
	long n;

	pair(client.cert, client.key, ca.cert, ca.cert, server.cert,
	    server.key, "127.0.0.1", &cc, &sc, &c, &s);
	/* written before the handshake: held and sent after it */
	assert_int_equal(tlsl_write(c, "early", 5), ESC_OK);
	assert_int_equal(handshake(c, s, &who), ESC_OK);
	assert_string_equal(tlsl_peer_name(s), "proxy1");
	assert_string_equal(tlsl_peer_name(c), "recorder");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(tlsl_write(c, big, sizeof(big)), ESC_OK);
	assert_int_equal(move(c, s), ESC_OK);
	while ((n = tlsl_read(s, got + have, sizeof(got) - have)) > 0)
		have += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(have, 5 + sizeof(big));
	assert_memory_equal(got, "early", 5);
	assert_memory_equal(got + 5, big, sizeof(big));
	assert_int_equal(tlsl_write(s, "ACK", 3), ESC_OK);
	assert_int_equal(move(s, c), ESC_OK);
	assert_int_equal(tlsl_read(c, got, sizeof(got)), 3);
	tlsl_shutdown(c);
	assert_int_equal(move(c, s), ESC_OK);
	assert_int_equal(tlsl_read(s, got, sizeof(got)), ESC_ECLOSED);
	done(cc, sc, c, s);
}

static void
test_refusals(void **state)
{
	(void)state;
	struct tlsl_ctx *cc, *sc;
	struct tlsl *c, *s;
	char who;
	uint8_t b[16];

	/* no client certificate: the server refuses */
	pair(NULL, NULL, ca.cert, ca.cert, server.cert, server.key,
	    "127.0.0.1", &cc, &sc, &c, &s);
	assert_int_equal(handshake(c, s, &who), ESC_ETLS);
	assert_int_equal(who, 's');
	assert_non_null(strstr(tlsl_error(s), "certificate"));
	assert_false(tlsl_ready(s));
	assert_int_equal(tlsl_read(s, b, sizeof(b)), ESC_ETLS);
	done(cc, sc, c, s);

	/* a client certificate from another CA */
	pair(stranger.cert, stranger.key, ca.cert, ca.cert, server.cert,
	    server.key, "127.0.0.1", &cc, &sc, &c, &s);
	assert_int_equal(handshake(c, s, &who), ESC_ETLS);
	assert_int_equal(who, 's');
	assert_non_null(strstr(tlsl_error(s), "certificate verify failed"));
	done(cc, sc, c, s);

	/* a recorder certificate the proxy's CA did not sign */
	pair(client.cert, client.key, ca.cert, other_ca.cert, server.cert,
	    server.key, "127.0.0.1", &cc, &sc, &c, &s);
	assert_int_equal(handshake(c, s, &who), ESC_ETLS);
	assert_int_equal(who, 'c');
	assert_non_null(strstr(tlsl_error(c), "certificate verify failed"));
	done(cc, sc, c, s);

	/* a recorder certificate for another address */
	pair(client.cert, client.key, ca.cert, ca.cert, wrong_ip.cert,
	    wrong_ip.key, "127.0.0.1", &cc, &sc, &c, &s);
	assert_int_equal(handshake(c, s, &who), ESC_ETLS);
	assert_int_equal(who, 'c');
	assert_non_null(strstr(tlsl_error(c), "IP address mismatch"));
	done(cc, sc, c, s);
}

static void
test_bad_files(void **state)
{
	(void)state;
	struct tlsl_ctx *x = NULL;
	char err[512];

	assert_int_equal(tlsl_ctx_server("/nonexistent.pem", server.key,
	    ca.cert, &x, err, sizeof(err)), ESC_ETLS);
	assert_null(x);
	assert_non_null(strstr(err, "/nonexistent.pem"));
	assert_int_equal(tlsl_ctx_server(server.cert, client.key, ca.cert, &x,
	    err, sizeof(err)), ESC_ETLS);
	assert_non_null(strstr(err, client.key));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_tls_in_memory),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
