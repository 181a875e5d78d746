/*
 * rec_fixture.h: shared fixtures of the recorder unit tests: a temporary
 * store, an Ed25519 key pair written as PEM files, and a small session
 * written through the real writer.  Header-only (static functions).
 */
#ifndef ESCORT_REC_FIXTURE_H
#define ESCORT_REC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"

struct fx {
	char dir[256];		/* temp root */
	char store[300];
	char key[300];		/* private PEM */
	char pub[300];		/* public PEM */
	char otherpub[300];	/* public PEM of an unrelated key */
	struct seal_signer *signer;
	struct seal_verifier *verifier;
	struct journal *journal;
};

static __attribute__((unused)) int
fx_write_key(const char *priv, const char *pub)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f;

	if (k == NULL)
		return -1;
	if (priv != NULL) {
		if ((f = fopen(priv, "w")) == NULL)
			return -1;
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		fclose(f);
	}
	if ((f = fopen(pub, "w")) == NULL)
		return -1;
	PEM_write_PUBKEY(f, k);
	fclose(f);
	EVP_PKEY_free(k);
	return 0;
}

static __attribute__((unused)) struct fx *
fx_new(void)
{
	struct fx *x = calloc(1, sizeof(*x));

	snprintf(x->dir, sizeof(x->dir), "/tmp/escort-test-XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		abort();
	snprintf(x->store, sizeof(x->store), "%s/store", x->dir);
	snprintf(x->key, sizeof(x->key), "%s/key.pem", x->dir);
	snprintf(x->pub, sizeof(x->pub), "%s/pub.pem", x->dir);
	snprintf(x->otherpub, sizeof(x->otherpub), "%s/other.pem", x->dir);
	if (fx_write_key(x->key, x->pub) != 0 ||
	    fx_write_key(NULL, x->otherpub) != 0 ||
	    seal_signer_load(x->key, &x->signer) != REC_OK ||
	    seal_verifier_load(x->pub, &x->verifier) != REC_OK ||
	    rec__journal_open(x->store, x->signer, 1, &x->journal) != REC_OK)
		abort();
	return x;
}

static __attribute__((unused)) void
fx_free(struct fx *x)
{
	char cmd[400];

	journal_close(x->journal);
	seal_signer_free(x->signer);
	seal_verifier_free(x->verifier);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", x->dir);
	free(x);
}

/* META records for a session: user alice on web01. */
static __attribute__((unused)) void
fx_meta(struct buf *out)
{
	struct buf f;

	buf_init(&f, 0);
	ev_fields_put_str(&f, EVF_USER, "alice");
	ev_fields_put_str(&f, EVF_ATTR, "citizenship=FR");
	ev_fields_put_str(&f, EVF_TARGET, "web01");
	ev_fields_put_str(&f, EVF_LOGIN, "ops");
	ev_fields_put_str(&f, EVF_CLIENT_ADDR, "127.0.0.1:50000");
	ev_fields_put_str(&f, EVF_CLIENT_KEY, "SHA256:abcdef");
	ev_fields_put_str(&f, EVF_POLICY_HASH, "0123456789abcdef");
	ev_fields_put_str(&f, EVF_PROXY_ID, "proxy-1");
	ev_encode_parts(out, 1, 0, EV_META, 0, buf_ptr(&f), buf_len(&f));
	buf_free(&f);
}

/* Reads the whole file at path into a malloc'd buffer. */
static __attribute__((unused)) uint8_t *
fx_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	if (fread(p, 1, (size_t)len, f) != (size_t)len)
		abort();
	fclose(f);
	*n = (size_t)len;
	return p;
}

static __attribute__((unused)) void
fx_spit(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

/* Counts the problems verify_store finds; remembers the first message. */
struct fx_report {
	int problems;
	char last[512];		/* the first problem reported */
};

static __attribute__((unused)) void
fx_report_cb(void *arg, int ok, const char *session, uint32_t index,
    uint64_t offset, const char *msg)
{
	struct fx_report *r = arg;

	if (ok)
		return;
	if (r->problems++ > 0)
		return;
	snprintf(r->last, sizeof(r->last), "%s: segment %u offset %llu: %s",
	    session, index, (unsigned long long)offset, msg);
}

static __attribute__((unused)) int
fx_verify(struct fx *x, const struct seal_verifier *v, struct fx_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return verify_store(x->store, v ? v : x->verifier, NULL, 0, 0,
	    fx_report_cb, rep);
}

#endif
