/* escort-rec-dump: prints the FILE events of one recording as JSON lines,
 * for tests.  One object per transfer summary, in recording order:
 *
 *   {"file_id":1,"channel":2,"kind":"sftp","op":"file","outcome":"ok",
 *    "path":"/tmp/x","path2":null,"direction":"upload","size":123,
 *    "sha256":"<hex>"|null,"message":null,"content_len":123,
 *    "content_sha256":"<hex of the recorded content bytes>"}
 *
 * usage: escort-rec-dump --store DIR ID
 * Exit 0 when the recording was read to its end (finished or live), 1 on a
 * read error, 2 on usage errors. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"

struct summary {
	uint64_t id;
	uint32_t channel;
	char *fields;           /* JSON members without braces */
	EVP_MD_CTX *content;
	uint64_t content_len;
};

static void
json_str(FILE *f, const uint8_t *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Builds the JSON members of one summary event into a malloc'd string. */
static char *
describe(const struct ev *e, uint64_t *id)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	size_t vl;
	uint16_t tag;
	char *out = NULL, digest[65] = "";
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	int npath = 0, have_size = 0, have_dir = 0, have_msg = 0;
	uint64_t size = 0;

	*id = 0;
	if (f == NULL)
		return NULL;
	ev_fields_begin(&it, e->data, e->len);
	while (ev_fields_next(&it, &tag, &v, &vl) == 1) {
		const char *key = NULL;
		switch (tag) {
		case EVF_KIND: key = "kind"; break;
		case EVF_CH_ACTION: key = "op"; break;
		case EVF_VERDICT: key = "outcome"; break;
		case EVF_DIRECTION: key = "direction"; have_dir = 1; break;
		case EVF_MESSAGE: key = "message"; have_msg = 1; break;
		case EVF_PATH: key = npath++ == 0 ? "path" : "path2"; break;
		case EVF_SIZE:
			if (vl == 8)
				for (size_t i = 0; i < 8; i++)
					size = size << 8 | v[i];
			have_size = 1;
			break;
		case EVF_SHA256:
			if (vl == 32)
				hex(digest, v, 32);
			break;
		case EVF_FILE_ID:
			if (vl == 8)
				for (size_t i = 0; i < 8; i++)
					*id = *id << 8 | v[i];
			break;
		}
		if (key != NULL) {
			fprintf(f, "\"%s\":", key);
			json_str(f, v, vl);
			fputc(',', f);
		}
	}
	if (npath < 2)
		fputs("\"path2\":null,", f);
	if (!have_dir)
		fputs("\"direction\":null,", f);
	if (!have_msg)
		fputs("\"message\":null,", f);
	if (have_size)
		fprintf(f, "\"size\":%llu,", (unsigned long long)size);
	else
		fputs("\"size\":null,", f);
	if (digest[0])
		fprintf(f, "\"sha256\":\"%s\"", digest);
	else
		fputs("\"sha256\":null", f);
	fclose(f);
	return out;
}

int
main(int argc, char **argv)
{
	const char *store = NULL, *id = NULL;
	struct summary *v = NULL;
	size_t nv = 0;
	char path[4096];
	struct tr *r;
	struct ev e;
	int x, rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
			store = argv[++i];
		else if (id == NULL && argv[i][0] != '-')
			id = argv[i];
		else
			id = NULL, store = NULL, i = argc;
	}
	if (store == NULL || id == NULL) {
		fprintf(stderr, "usage: escort-rec-dump --store DIR ID\n");
		return 2;
	}
	if (tw_path(store, id, path, sizeof(path)) != REC_OK || (x = tr_open(path, &r)) != REC_OK) {
		fprintf(stderr, "escort-rec-dump: %s: cannot open\n", id);
		return 1;
	}
	while ((x = tr_next(r, &e)) == 1) {
		uint64_t fid = 0;
		const uint8_t *c;
		size_t cl;

		if (e.type != EV_FILE)
			continue;
		if (ev_fields_find(e.data, e.len, EVF_CONTENT, &c, &cl) == REC_OK) {
			(void)ev_fields_get_u64(e.data, e.len, EVF_FILE_ID, &fid);
			for (size_t i = 0; i < nv; i++)
				if (v[i].id == fid && v[i].channel == e.channel) {
					EVP_DigestUpdate(v[i].content, c, cl);
					v[i].content_len += cl;
				}
			continue;
		}
		v = realloc(v, (nv + 1) * sizeof(*v));
		if (v == NULL)
			return 1;
		memset(&v[nv], 0, sizeof(v[nv]));
		v[nv].fields = describe(&e, &v[nv].id);
		v[nv].channel = e.channel;
		v[nv].content = EVP_MD_CTX_new();
		EVP_DigestInit_ex(v[nv].content, EVP_sha256(), NULL);
		nv++;
	}
	if (x < 0) {
		fprintf(stderr, "escort-rec-dump: %s: %s at offset %llu\n", id, rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
		rc = 1;
	}
	for (size_t i = 0; i < nv; i++) {
		uint8_t d[32];
		char dh[65];
		unsigned dl = 0;

		EVP_DigestFinal_ex(v[i].content, d, &dl);
		hex(dh, d, 32);
		printf("{\"file_id\":%llu,\"channel\":%u,%s,\"content_len\":%llu,\"content_sha256\":\"%s\"}\n",
		    (unsigned long long)v[i].id, v[i].channel, v[i].fields ? v[i].fields : "",
		    (unsigned long long)v[i].content_len, dh);
		EVP_MD_CTX_free(v[i].content);
		free(v[i].fields);
	}
	free(v);
	tr_free(r);
	return rc;
}
