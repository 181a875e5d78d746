/* proxyproto: the PROXY protocol version 2 header a load balancer (HAProxy's
 * send-proxy-v2) puts before the client's bytes, parsed without I/O, and
 * the ProxyProtocol address list (escort-proxy.conf(5)) it is accepted from.
 *
 * Header (HAProxy's proxy-protocol.txt, section 2.2): the 12-byte signature
 * "\r\n\r\n\0\r\nQUIT\n", a version/command byte (version 2; command LOCAL
 * or PROXY), a family/protocol byte, a 16-bit big-endian length of what
 * follows, then the addresses and TLVs.  Accepted: LOCAL (any address
 * block, ignored: the connection's own peer stays), PROXY with TCP over
 * IPv4 or IPv6 (source and destination taken), PROXY with UNSPEC (ignored,
 * as LOCAL).  TLVs after the addresses are checked for framing and skipped.
 * Anything else (other version or command, UDP, AF_UNIX, an address block
 * shorter than its family needs, a TLV overrunning the header, a header
 * longer than PXPP_MAX_LEN) is malformed.
 *
 * Nothing here allocates; all functions are thread-safe. */
#ifndef PX_PROXYPROTO_H
#define PX_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PXPP_SIG_LEN 12
#define PXPP_FIXED_LEN 16       /* signature, two bytes, the length */
#define PXPP_MAX_LEN 536        /* a whole header, TLVs included, at most */

enum pxpp_command { PXPP_LOCAL = 0, PXPP_PROXY = 1 };

struct pxpp_hdr {
	enum pxpp_command command;
	int family;                     /* AF_INET, AF_INET6, or AF_UNSPEC: no
	                                 * address to take (LOCAL, UNSPEC) */
	struct sockaddr_storage src;    /* the client, when family != AF_UNSPEC */
	struct sockaddr_storage dst;    /* the address the client connected to */
	socklen_t addrlen;              /* of src and dst */
	size_t need;                    /* bytes of the whole header, once known
	                                 * (the first 16 read), else 16 */
	const char *why;                /* malformed: static text naming the fault */
};

/* Parses the n bytes at b, the first bytes of a connection.  Returns the
 * header's total length (> 0) with h filled when b holds it whole (bytes
 * after it are not looked at); 0 when b is a correct beginning but
 * h->need > n bytes are needed (read no more than h->need - n further bytes
 * so as not to take the client's own); PX_EINVAL when malformed, with
 * h->why set.  b may be NULL when n is 0. */
int px__pxpp_parse(const uint8_t *b, size_t n, struct pxpp_hdr *h);

/* Returns 1 when the n bytes at b (n > 0) begin a PROXY protocol header of
 * version 2 (a prefix of its signature) or version 1 ("PROXY "), else 0:
 * for refusing such a header from a peer not allowed to send one. */
int px__pxpp_looks_like(const uint8_t *b, size_t n);

/* One ProxyProtocol entry: an address with a prefix length. */
struct pxpp_net {
	int family;                     /* AF_INET or AF_INET6 */
	uint8_t addr[16];               /* network order; bits past prefix zero */
	int prefix;                     /* 0..32 or 0..128 */
};

/* Parses "ADDR" or "ADDR/PREFIX" (numeric IPv4 or IPv6) into n.  Returns
 * PX_OK, or PX_EINVAL (not an address, prefix out of range, or host bits
 * set past the prefix). */
int px__pxpp_net_parse(const char *s, struct pxpp_net *n);

/* Returns 1 when sa (AF_INET, AF_INET6; an IPv4-mapped IPv6 address counts
 * as its IPv4 address) lies in one of the count networks at nets, else 0. */
int px__pxpp_net_match(const struct pxpp_net *nets, int count, const struct sockaddr *sa);

#endif
