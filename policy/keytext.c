/* keytext.c: OpenSSH public key text checks (see keytext.h). */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/keytext.h"
#include "policy/pol_int.h"

static const char *const key_types[] = {
	"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss", NULL
};

/* Splits "type base64 ..." into its first two fields. */
static bool
fields(const char *s, const char **t, size_t *tl, const char **b, size_t *bl)
{
	s += strspn(s, " \t");
	*t = s;
	*tl = strcspn(s, " \t");
	s += *tl;
	s += strspn(s, " \t");
	*b = s;
	*bl = strcspn(s, " \t");
	return *tl > 0 && *bl > 0;
}

const char *
pol__keytext_normalize(struct arena *a, const char *text, char **out)
{
	const char *t, *b;
	size_t tl, bl;
	*out = NULL;
	if (!fields(text, &t, &tl, &b, &bl))
		return "expected \"TYPE BASE64 [COMMENT]\"";
	bool known = false;
	for (int k = 0; key_types[k]; k++)
		if (strlen(key_types[k]) == tl && memcmp(key_types[k], t, tl) == 0)
			known = true;
	if (!known)
		return "unknown key type (expected ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...)";
	if (bl % 4 != 0 || bl > 16384 || strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") < bl)
		return "key data is not base64";
	unsigned char *raw = pol__arena_alloc(a, bl);
	if (raw == NULL)
		return "out of memory";
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b, (int)bl);
	if (n < 4)
		return "key data is not base64";
	uint32_t l = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	if (l != tl || (size_t)n < 4 + l || memcmp(raw + 4, t, tl) != 0)
		return "key data does not match its type";
	char *o = pol__arena_alloc(a, tl + bl + 2);
	if (o == NULL)
		return "out of memory";
	memcpy(o, t, tl);
	o[tl] = ' ';
	memcpy(o + tl + 1, b, bl);
	o[tl + 1 + bl] = '\0';
	*out = o;
	return NULL;
}

bool
pol__keytext_equal(const char *x, const char *y)
{
	const char *t1, *b1, *t2, *b2;
	size_t tl1, bl1, tl2, bl2;
	if (!fields(x, &t1, &tl1, &b1, &bl1) || !fields(y, &t2, &tl2, &b2, &bl2))
		return false;
	return tl1 == tl2 && bl1 == bl2 && memcmp(t1, t2, tl1) == 0 && memcmp(b1, b2, bl1) == 0;
}
