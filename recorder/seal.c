/* seal.c: SHA-256 chain and Ed25519 signatures over OpenSSL EVP. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "recorder/rec_error.h"
#include "recorder/seal.h"

struct seal_signer {
	EVP_PKEY *key;
	uint8_t keyid[SEAL_KEYID_LEN];
};

struct seal_verifier {
	EVP_PKEY *key;
	uint8_t keyid[SEAL_KEYID_LEN];
};

static const char seal_chain_label[] = "escort-transcript-v1";
static const char seal_cp_label[] = "escort-checkpoint-v1";

/*
 * One SHA-256 context per thread, allocated once (freed when the thread
 * ends), and the algorithm fetched once: a chain step per segment then costs
 * the hashing alone, not a context allocation and an algorithm lookup
 * (OpenSSL 3 fetches EVP_sha256() at every init).  NULL when OpenSSL cannot
 * give one; the callers then hash with EVP_Digest.
 */
static pthread_once_t seal_md_once = PTHREAD_ONCE_INIT;
static pthread_key_t seal_md_key;
static EVP_MD *seal_md;
static int seal_md_ok;

static void
seal_md_ctx_free(void *c)
{
	EVP_MD_CTX_free(c);
}

static void
seal_md_init(void)
{
	seal_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	seal_md_ok = seal_md != NULL &&
	    pthread_key_create(&seal_md_key, seal_md_ctx_free) == 0;
}

static EVP_MD_CTX *
seal_sha256_begin(void)
{
	EVP_MD_CTX *c;

	pthread_once(&seal_md_once, seal_md_init);
	if (!seal_md_ok)
		return NULL;
	if ((c = pthread_getspecific(seal_md_key)) == NULL) {
		if ((c = EVP_MD_CTX_new()) == NULL)
			return NULL;
		if (pthread_setspecific(seal_md_key, c) != 0) {
			EVP_MD_CTX_free(c);
			return NULL;
		}
	}
	if (EVP_DigestInit_ex2(c, seal_md, NULL) != 1)
		return NULL;
	return c;
}

/* SHA-256 of a then b (b may be empty). */
static void
seal_sha256_2(const void *a, size_t an, const void *b, size_t bn,
    uint8_t out[SEAL_HASH_LEN])
{
	EVP_MD_CTX *c = seal_sha256_begin();
	uint8_t *tmp;

	if (c != NULL && EVP_DigestUpdate(c, a, an) == 1 &&
	    EVP_DigestUpdate(c, b, bn) == 1 &&
	    EVP_DigestFinal_ex(c, out, NULL) == 1)
		return;
	/* No reusable context: hash a copy of both in one call. */
	if ((tmp = malloc(an + bn + 1)) != NULL) {
		memcpy(tmp, a, an);
		if (bn > 0)
			memcpy(tmp + an, b, bn);
		seal_sha256(tmp, an + bn, out);
		free(tmp);
		return;
	}
	memset(out, 0, SEAL_HASH_LEN);	/* never matches a real chain */
}

void
seal_sha256(const void *p, size_t n, uint8_t out[SEAL_HASH_LEN])
{
	unsigned int len = SEAL_HASH_LEN;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void
seal_chain_init(uint8_t head[SEAL_HASH_LEN], const char *id, size_t idlen)
{
	seal_sha256_2(seal_chain_label, sizeof(seal_chain_label), id, idlen, head);
}

void
seal_chain_step(uint8_t head[SEAL_HASH_LEN], const void *p, size_t n)
{
	uint8_t h[SEAL_HASH_LEN];

	memcpy(h, head, SEAL_HASH_LEN);
	seal_sha256_2(h, SEAL_HASH_LEN, p, n, head);
}

/* keyid = SHA-256 of the raw public key. */
static int
seal_keyid(EVP_PKEY *k, uint8_t id[SEAL_KEYID_LEN])
{
	uint8_t raw[32];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 || len != 32)
		return REC_EKEY;
	seal_sha256(raw, len, id);
	return REC_OK;
}

/*
 * The usual public key file, an Ed25519 SubjectPublicKeyInfo in PEM, read
 * without OpenSSL's decoder framework (whose setup costs a reader about as
 * much CPU time as verifying 10 MB of store): the base64 body is decoded and
 * must be exactly the 44 bytes of such a key.  Anything else returns NULL and
 * is read by PEM_read_PUBKEY as before.
 */
static EVP_PKEY *
seal_read_ed25519_spki(FILE *f)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char end[] = "-----END PUBLIC KEY-----";
	static const uint8_t prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
	    0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	char text[4096], b64[128], *p, *q;
	uint8_t der[96];
	size_t n, m = 0;
	int len;

	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	rewind(f);
	if ((p = strstr(text, begin)) == NULL ||
	    (q = strstr(p, end)) == NULL || strstr(q + 1, "-----BEGIN") != NULL)
		return NULL;
	for (p += sizeof(begin) - 1; p < q; p++) {
		if (*p == '\n' || *p == '\r')
			continue;
		if (m + 1 >= sizeof(b64))
			return NULL;
		b64[m++] = *p;
	}
	if (m != 60)	/* 44 bytes of DER are 60 characters of base64 */
		return NULL;
	len = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)m);
	if (len != 45 || b64[59] != '=' || b64[58] == '=' ||
	    memcmp(der, prefix, sizeof(prefix)) != 0)
		return NULL;	/* 60 characters with one '=' decode to 45 - 1 */
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    der + sizeof(prefix), 32);
}

static int
seal_read_pem(const char *path, int want_private, EVP_PKEY **out)
{
	FILE *f;
	EVP_PKEY *k = NULL;

	if ((f = fopen(path, "r")) == NULL)
		return rec_from_errno(errno);
	if (want_private) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	} else {
		if ((k = seal_read_ed25519_spki(f)) == NULL)
			k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		if (k == NULL) {
			rewind(f);
			k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		}
	}
	fclose(f);
	if (k == NULL)
		return REC_EKEY;
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return REC_EKEY;
	}
	*out = k;
	return REC_OK;
}

int
seal_signer_load(const char *path, struct seal_signer **out)
{
	struct seal_signer *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return REC_ENOMEM;
	if ((r = seal_read_pem(path, 1, &s->key)) != REC_OK ||
	    (r = seal_keyid(s->key, s->keyid)) != REC_OK) {
		seal_signer_free(s);
		return r;
	}
	*out = s;
	return REC_OK;
}

void
seal_signer_free(struct seal_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	free(s);
}

int
seal_signer_write_public(const struct seal_signer *s, const char *path)
{
	char tmp[4096];
	FILE *f;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return REC_EINVAL;
	if ((f = fopen(tmp, "w")) == NULL)
		return rec_from_errno(errno);
	ok = PEM_write_PUBKEY(f, s->key) == 1;
	ok = fflush(f) == 0 && ok;
	ok = fchmod(fileno(f), 0644) == 0 && ok;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno ? errno : EIO;
		(void)unlink(tmp);
		return rec_from_errno(e);
	}
	return REC_OK;
}

const uint8_t *
rec__seal_signer_keyid(const struct seal_signer *s)
{
	return s->keyid;
}

int
seal_sign(const struct seal_signer *s, const void *msg, size_t n,
    uint8_t sig[SEAL_SIG_LEN])
{
	EVP_MD_CTX *c;
	size_t len = SEAL_SIG_LEN;
	int r = REC_ECRYPTO;

	if ((c = EVP_MD_CTX_new()) == NULL)
		return REC_ENOMEM;
	if (EVP_DigestSignInit(c, NULL, NULL, NULL, s->key) == 1 &&
	    EVP_DigestSign(c, sig, &len, msg, n) == 1 && len == SEAL_SIG_LEN)
		r = REC_OK;
	EVP_MD_CTX_free(c);
	return r;
}

int
rec__seal_signer_verifier(const struct seal_signer *s, struct seal_verifier **out)
{
	struct seal_verifier *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return REC_ENOMEM;
	EVP_PKEY_up_ref(s->key);
	v->key = s->key;
	memcpy(v->keyid, s->keyid, SEAL_KEYID_LEN);
	*out = v;
	return REC_OK;
}

int
seal_verifier_load(const char *path, struct seal_verifier **out)
{
	struct seal_verifier *v;
	int r;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return REC_ENOMEM;
	if ((r = seal_read_pem(path, 0, &v->key)) != REC_OK ||
	    (r = seal_keyid(v->key, v->keyid)) != REC_OK) {
		seal_verifier_free(v);
		return r;
	}
	*out = v;
	return REC_OK;
}

void
seal_verifier_free(struct seal_verifier *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->key);
	free(v);
}

const uint8_t *
seal_verifier_keyid(const struct seal_verifier *v)
{
	return v->keyid;
}

int
rec__seal_verify(const struct seal_verifier *v, const void *msg, size_t n,
    const uint8_t sig[SEAL_SIG_LEN])
{
	EVP_MD_CTX *c;
	int r = REC_ESIG;

	if ((c = EVP_MD_CTX_new()) == NULL)
		return REC_ENOMEM;
	if (EVP_DigestVerifyInit(c, NULL, NULL, NULL, v->key) == 1 &&
	    EVP_DigestVerify(c, sig, SEAL_SIG_LEN, msg, n) == 1)
		r = REC_OK;
	EVP_MD_CTX_free(c);
	return r;
}

int
seal_checkpoint_message(const struct seal_checkpoint *c, struct buf *out)
{
	size_t idlen = strnlen(c->id, sizeof(c->id));
	int r;

	if (idlen == 0 || idlen > SEAL_ID_MAX)
		return REC_EINVAL;
	if ((r = buf_put(out, seal_cp_label, sizeof(seal_cp_label))) != REC_OK ||
	    (r = buf_put_u8(out, c->kind)) != REC_OK ||
	    (r = buf_put_u8(out, (uint8_t)idlen)) != REC_OK ||
	    (r = buf_put(out, c->id, idlen)) != REC_OK ||
	    (r = buf_put_u32(out, c->seg_index)) != REC_OK ||
	    (r = buf_put_u64(out, c->last_seq)) != REC_OK ||
	    (r = buf_put(out, c->head, SEAL_HASH_LEN)) != REC_OK ||
	    (r = buf_put_u64(out, c->wall_ns)) != REC_OK ||
	    (r = buf_put_u64(out, c->offset)) != REC_OK)
		return r;
	return REC_OK;
}

int
seal_receipt_verify(const struct seal_verifier *v, const struct seal_receipt *rc)
{
	struct buf m;
	int r;

	if (memcmp(rc->keyid, v->keyid, SEAL_KEYID_LEN) != 0)
		return REC_EKEY;
	buf_init(&m, 0);
	if ((r = seal_checkpoint_message(&rc->cp, &m)) == REC_OK)
		r = rec__seal_verify(v, buf_ptr(&m), buf_len(&m), rc->sig);
	buf_free(&m);
	return r;
}
