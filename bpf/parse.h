/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - bounds-checked packet cursor for the verdict core. Every
 * pull returns a pointer to @len bytes at the cursor and advances it, or
 * NULL when the frame is too short: the caller drops it as malformed.
 */
#ifndef BH_PARSE_H
#define BH_PARSE_H

#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

struct cursor {
	void *data;	/* start of the frame: offsets are relative to it */
	void *pos;
	void *end;
};

#define cur_pull(c, len) ({						\
	void *__p = (c)->pos;						\
	void *__r = NULL;						\
	if (__p + (len) <= (c)->end) {					\
		(c)->pos = __p + (len);					\
		__r = __p;						\
	}								\
	__r;								\
})

/* Peek without advancing. */
#define cur_peek(c, len) ({						\
	void *__p = (c)->pos;						\
	(__p + (len) <= (c)->end) ? __p : NULL;				\
})

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

#endif /* BH_PARSE_H */
