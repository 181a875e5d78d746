/* Unit tests for proxy/proxyproto: the PROXY protocol v2 header (good IPv4
 * and IPv6 headers, LOCAL, UNSPEC, TLVs, every malformation the contract
 * names, byte-by-byte arrival) and the ProxyProtocol address list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "proxy/proxyproto.h"
#include "proxy/px_error.h"

#define SIG "\r\n\r\n\0\r\nQUIT\n"

/* Builds a header: signature, ver_cmd, fam, length of body, body. */
static size_t
mk(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const void *body, size_t blen)
{
	memcpy(out, SIG, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

static const uint8_t v4body[12] = { 127, 0, 0, 2, 127, 0, 0, 1, 0x30, 0x39, 0x00, 0x16 };

static void
test_ipv4(void **state)
{
	uint8_t b[64];
	struct pxpp_hdr h;
	size_t n = mk(b, 0x21, 0x11, v4body, sizeof(v4body));
	const struct sockaddr_in *s = (const struct sockaddr_in *)&h.src;
	char a[32];

	(void)state;
	memcpy(b + n, "SSH-2.0-x\r\n", 11);	/* the client's bytes after it */
	assert_int_equal(px__pxpp_parse(b, n + 11, &h), 28);
	assert_int_equal(h.command, PXPP_PROXY);
	assert_int_equal(h.family, AF_INET);
	assert_int_equal(h.addrlen, sizeof(struct sockaddr_in));
	inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.0.0.2");
	assert_int_equal(ntohs(s->sin_port), 12345);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&h.dst)->sin_port), 22);
}

static void
test_ipv6(void **state)
{
	uint8_t body[36] = { 0 }, b[64];
	struct pxpp_hdr h;
	char a[64];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::7", body);
	inet_pton(AF_INET6, "::1", body + 16);
	body[32] = 0xff, body[33] = 0xfe;
	body[34] = 0, body[35] = 22;
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x21, body, 36), &h), 52);
	assert_int_equal(h.family, AF_INET6);
	inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&h.src)->sin6_addr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::7");
	assert_int_equal(ntohs(((const struct sockaddr_in6 *)&h.src)->sin6_port), 65534);
}

/* LOCAL (a health check): addresses, even of an odd family, ignored. */
static void
test_local_and_unspec(void **state)
{
	uint8_t b[64];
	struct pxpp_hdr h;

	(void)state;
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x20, 0x00, "", 0), &h), 16);
	assert_int_equal(h.command, PXPP_LOCAL);
	assert_int_equal(h.family, AF_UNSPEC);
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x20, 0x31, "abcd", 4), &h), 20);
	assert_int_equal(h.family, AF_UNSPEC);
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x00, "", 0), &h), 16);
	assert_int_equal(h.command, PXPP_PROXY);
	assert_int_equal(h.family, AF_UNSPEC);
}

/* Arriving a byte at a time: 0 until whole, need known after 16. */
static void
test_truncated(void **state)
{
	uint8_t b[64];
	struct pxpp_hdr h;
	size_t n = mk(b, 0x21, 0x11, v4body, sizeof(v4body));

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(px__pxpp_parse(i ? b : NULL, i, &h), 0);
		assert_int_equal(h.need, i < 16 ? 16 : n);
	}
	assert_int_equal(px__pxpp_parse(b, n, &h), (int)n);
}

static void
test_tlvs(void **state)
{
	uint8_t body[64], b[96];
	struct pxpp_hdr h;
	size_t bl = sizeof(v4body);

	(void)state;
	memcpy(body, v4body, bl);
	/* PP2_TYPE_ALPN "h2", then an empty PP2_TYPE_NOOP */
	memcpy(body + bl, "\x01\x00\x02h2\x04\x00\x00", 8);
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x11, body, bl + 8), &h), (int)(16 + bl + 8));
	assert_int_equal(h.family, AF_INET);
	/* a TLV claiming more than is left */
	memcpy(body + bl, "\x01\x00\x09h2", 5);
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x11, body, bl + 5), &h), PX_EINVAL);
	assert_string_equal(h.why, "TLV longer than the header");
	/* two bytes: not even a TLV's type and length */
	memcpy(body + bl, "\x01\x00", 2);
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x11, body, bl + 2), &h), PX_EINVAL);
	assert_string_equal(h.why, "truncated TLV");
}

static void
test_malformed(void **state)
{
	uint8_t b[700];
	struct pxpp_hdr h;
	size_t n;

	(void)state;
	/* the client's own SSH banner, and a version 1 header */
	assert_int_equal(px__pxpp_parse((const uint8_t *)"SSH-2.0-OpenSSH\r\n", 17, &h), PX_EINVAL);
	assert_string_equal(h.why, "no PROXY protocol v2 signature");
	assert_int_equal(px__pxpp_parse((const uint8_t *)"PROXY TCP4 ", 11, &h), PX_EINVAL);
	/* wrong signature seen from its first differing byte */
	memcpy(b, SIG, 12);
	b[5] = 'X';
	assert_int_equal(px__pxpp_parse(b, 6, &h), PX_EINVAL);
	assert_int_equal(px__pxpp_parse(b, 5, &h), 0);
	/* version 1 and 3 in the binary form; bad command */
	mk(b, 0x11, 0x11, v4body, 12);
	assert_int_equal(px__pxpp_parse(b, 13, &h), PX_EINVAL);
	assert_string_equal(h.why, "PROXY protocol version is not 2");
	mk(b, 0x31, 0x11, v4body, 12);
	assert_int_equal(px__pxpp_parse(b, 28, &h), PX_EINVAL);
	mk(b, 0x22, 0x11, v4body, 12);
	assert_int_equal(px__pxpp_parse(b, 28, &h), PX_EINVAL);
	assert_string_equal(h.why, "unknown PROXY protocol command");
	/* UDP, AF_UNIX, unknown family */
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x12, v4body, 12), &h), PX_EINVAL);
	assert_string_equal(h.why, "PROXY protocol transport is not TCP");
	{
		static const uint8_t unix_addrs[216];
		assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x31, unix_addrs, 216), &h), PX_EINVAL);
	}
	assert_string_equal(h.why, "PROXY protocol family is not IPv4 or IPv6");
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x41, v4body, 12), &h), PX_EINVAL);
	/* address block too short for its family */
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x11, v4body, 11), &h), PX_EINVAL);
	assert_string_equal(h.why, "PROXY protocol address block too short");
	assert_int_equal(px__pxpp_parse(b, mk(b, 0x21, 0x21, v4body, 12), &h), PX_EINVAL);
	/* too long: refused once the length is read, before the body comes */
	n = mk(b, 0x21, 0x11, v4body, 12);
	b[14] = 0x02, b[15] = 0x09;	/* 521 + 16 = 537 */
	assert_int_equal(px__pxpp_parse(b, 16, &h), PX_EINVAL);
	assert_string_equal(h.why, "PROXY protocol header longer than 536 bytes");
	b[15] = 0x08;			/* 536: the limit itself is taken */
	memset(b + 28, 0, 520 - 12);
	b[28] = 0x04, b[29] = (520 - 15) >> 8, b[30] = (520 - 15) & 0xff;
	assert_int_equal(px__pxpp_parse(b, 536, &h), 536);
	(void)n;
}

static void
test_looks_like(void **state)
{
	(void)state;
	assert_true(px__pxpp_looks_like((const uint8_t *)SIG, 12));
	assert_true(px__pxpp_looks_like((const uint8_t *)"\r\n\r", 3));
	assert_true(px__pxpp_looks_like((const uint8_t *)"PROXY TCP4 1.2.3.4", 18));
	assert_true(px__pxpp_looks_like((const uint8_t *)"PRO", 3));
	assert_false(px__pxpp_looks_like((const uint8_t *)"SSH-2.0-OpenSSH_9.2", 19));
	assert_false(px__pxpp_looks_like((const uint8_t *)"\r\nX", 3));
}

static struct sockaddr_storage
sa(const char *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	return ss;
}

static void
test_nets(void **state)
{
	struct pxpp_net n[3];
	struct sockaddr_storage s;

	(void)state;
	assert_int_equal(px__pxpp_net_parse("127.0.0.1", &n[0]), PX_OK);
	assert_int_equal(n[0].prefix, 32);
	assert_int_equal(px__pxpp_net_parse("10.1.0.0/17", &n[1]), PX_OK);
	assert_int_equal(px__pxpp_net_parse("2001:db8::/32", &n[2]), PX_OK);
	s = sa("127.0.0.1");
	assert_true(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	s = sa("127.0.0.2");
	assert_false(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	s = sa("10.1.127.255");
	assert_true(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	s = sa("10.1.128.0");
	assert_false(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	s = sa("::ffff:10.1.3.4");		/* IPv4-mapped, on an IPv6 listener */
	assert_true(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	s = sa("2001:db8:ffff::1");
	assert_true(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	s = sa("2001:db9::1");
	assert_false(px__pxpp_net_match(n, 3, (struct sockaddr *)&s));
	assert_false(px__pxpp_net_match(n, 0, (struct sockaddr *)&s));

	assert_int_equal(px__pxpp_net_parse("0.0.0.0/0", &n[0]), PX_OK);
	s = sa("192.0.2.9");
	assert_true(px__pxpp_net_match(n, 1, (struct sockaddr *)&s));
	assert_int_equal(px__pxpp_net_parse("10.1.0.1/16", &n[0]), PX_EINVAL);	/* host bits */
	assert_int_equal(px__pxpp_net_parse("10.1.0.0/33", &n[0]), PX_EINVAL);
	assert_int_equal(px__pxpp_net_parse("10.1.0.0/", &n[0]), PX_EINVAL);
	assert_int_equal(px__pxpp_net_parse("lb.example", &n[0]), PX_EINVAL);
	assert_int_equal(px__pxpp_net_parse("/8", &n[0]), PX_EINVAL);
	assert_int_equal(px__pxpp_net_parse("::1/129", &n[0]), PX_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_local_and_unspec),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_tlvs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_looks_like),
		cmocka_unit_test(test_nets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
