/* SPDX-License-Identifier: GPL-2.0 */
/*
 * addr.h - MAC and IP address helpers. Addresses are 16 bytes, IPv4 as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d), as every map key holds them.
 */
#ifndef BH_LIB_ADDR_H
#define BH_LIB_ADDR_H

#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

static __always_inline void addr_v4mapped(__u8 out[16], __be32 a)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &a, 4);
}

static __always_inline void addr_copy(__u8 out[16], const void *in)
{
	__builtin_memcpy(out, in, 16);
}

static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	       a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline bool mac_zero(const __u8 *a)
{
	return !(a[0] | a[1] | a[2] | a[3] | a[4] | a[5]);
}

static __always_inline bool addr_eq(const __u8 *a, const __u8 *b)
{
	__u64 x[2], y[2];

	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline bool addr_unspec(const __u8 *a)
{
	__u64 x[2];

	__builtin_memcpy(x, a, 16);
	return !x[0] && !x[1];
}

static __always_inline bool addr_v4_zero(const __u8 *a)
{
	return !a[12] && !a[13] && !a[14] && !a[15];
}

static __always_inline bool addr_linklocal6(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

#endif /* BH_LIB_ADDR_H */
