/* proxyproto: the PROXY protocol v2 header and the ProxyProtocol list
 * (proxyproto.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxyproto.h"
#include "proxy/px_error.h"

static const uint8_t pxpp_sig[PXPP_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Address block sizes of PROXY over TCP, by family nibble. */
#define PXPP_INET_LEN 12        /* two IPv4 addresses, two ports */
#define PXPP_INET6_LEN 36       /* two IPv6 addresses, two ports */

static int
bad(struct pxpp_hdr *h, const char *why)
{
	h->why = why;
	return PX_EINVAL;
}

/* TLVs: type (1 byte), length (2 bytes, big-endian), value; each must end
 * within the header. */
static int
check_tlvs(const uint8_t *p, size_t n, struct pxpp_hdr *h)
{
	while (n > 0) {
		size_t l;

		if (n < 3)
			return bad(h, "truncated TLV");
		l = (size_t)p[1] << 8 | p[2];
		if (l > n - 3)
			return bad(h, "TLV longer than the header");
		p += 3 + l;
		n -= 3 + l;
	}
	return PX_OK;
}

static void
take_inet(struct pxpp_hdr *h, const uint8_t *a)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&h->src, *d = (struct sockaddr_in *)&h->dst;

	s->sin_family = d->sin_family = AF_INET;
	memcpy(&s->sin_addr, a, 4);
	memcpy(&d->sin_addr, a + 4, 4);
	memcpy(&s->sin_port, a + 8, 2);
	memcpy(&d->sin_port, a + 10, 2);
	h->family = AF_INET;
	h->addrlen = sizeof(*s);
}

static void
take_inet6(struct pxpp_hdr *h, const uint8_t *a)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src, *d = (struct sockaddr_in6 *)&h->dst;

	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, a, 16);
	memcpy(&d->sin6_addr, a + 16, 16);
	memcpy(&s->sin6_port, a + 32, 2);
	memcpy(&d->sin6_port, a + 34, 2);
	h->family = AF_INET6;
	h->addrlen = sizeof(*s);
}

int
px__pxpp_parse(const uint8_t *b, size_t n, struct pxpp_hdr *h)
{
	size_t len, have, alen;
	unsigned cmd, fam, proto;

	memset(h, 0, sizeof(*h));
	h->need = PXPP_FIXED_LEN;
	h->family = AF_UNSPEC;
	have = n < PXPP_SIG_LEN ? n : PXPP_SIG_LEN;
	if (have > 0 && memcmp(b, pxpp_sig, have) != 0)
		return bad(h, "no PROXY protocol v2 signature");
	if (n > PXPP_SIG_LEN && (b[12] >> 4) != 2)
		return bad(h, "PROXY protocol version is not 2");
	if (n < PXPP_FIXED_LEN)
		return 0;
	cmd = b[12] & 0x0f;
	fam = b[13] >> 4;
	proto = b[13] & 0x0f;
	len = (size_t)b[14] << 8 | b[15];
	if (cmd != PXPP_LOCAL && cmd != PXPP_PROXY)
		return bad(h, "unknown PROXY protocol command");
	if (PXPP_FIXED_LEN + len > PXPP_MAX_LEN)
		return bad(h, "PROXY protocol header longer than 536 bytes");
	h->need = PXPP_FIXED_LEN + len;
	h->command = (enum pxpp_command)cmd;
	if (n < h->need)
		return 0;
	b += PXPP_FIXED_LEN;
	if (cmd == PXPP_LOCAL)
		return (int)h->need;	/* health check: addresses ignored */
	switch (fam) {
	case 0x0:			/* UNSPEC: the peer stays */
		return (int)h->need;
	case 0x1:
		alen = PXPP_INET_LEN;
		break;
	case 0x2:
		alen = PXPP_INET6_LEN;
		break;
	default:
		return bad(h, "PROXY protocol family is not IPv4 or IPv6");
	}
	if (proto != 0x1)
		return bad(h, "PROXY protocol transport is not TCP");
	if (len < alen)
		return bad(h, "PROXY protocol address block too short");
	if (check_tlvs(b + alen, len - alen, h) != PX_OK)
		return PX_EINVAL;
	if (fam == 0x1)
		take_inet(h, b);
	else
		take_inet6(h, b);
	return (int)h->need;
}

int
px__pxpp_looks_like(const uint8_t *b, size_t n)
{
	static const char v1[] = "PROXY ";
	size_t k;

	k = n < PXPP_SIG_LEN ? n : PXPP_SIG_LEN;
	if (k > 0 && memcmp(b, pxpp_sig, k) == 0)
		return 1;
	k = n < sizeof(v1) - 1 ? n : sizeof(v1) - 1;
	return k > 0 && memcmp(b, v1, k) == 0;
}

int
px__pxpp_net_parse(const char *s, struct pxpp_net *n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t al = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	memset(n, 0, sizeof(*n));
	if (al == 0 || al >= sizeof(buf))
		return PX_EINVAL;
	memcpy(buf, s, al);
	buf[al] = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = AF_INET6, max = 128;
	else
		return PX_EINVAL;
	n->prefix = max;
	if (slash != NULL) {
		char *end;
		long p;

		errno = 0;
		p = strtol(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || p < 0 || p > max)
			return PX_EINVAL;
		n->prefix = (int)p;
	}
	for (int bit = n->prefix; bit < max; bit++)
		if (n->addr[bit / 8] & (0x80 >> (bit % 8)))
			return PX_EINVAL;
	return PX_OK;
}

static int
net_has(const struct pxpp_net *n, int family, const uint8_t *a)
{
	int full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family || memcmp(n->addr, a, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((n->addr[full] ^ a[full]) & (0xff00 >> rest)) == 0;
}

int
px__pxpp_net_match(const struct pxpp_net *nets, int count, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a;
	int family = sa->sa_family;

	if (family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (memcmp(a, mapped, sizeof(mapped)) == 0)
			family = AF_INET, a += 12;
	} else
		return 0;
	for (int i = 0; i < count; i++)
		if (net_has(&nets[i], family, a))
			return 1;
	return 0;
}
