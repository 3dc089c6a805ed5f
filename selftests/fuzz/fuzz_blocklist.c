// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_blocklist.c - libFuzzer harness for the blocklist parser: any byte
 * string gives entries and "file:line: what" lines, without a crash, a
 * leak or undefined behaviour; the entries are sorted without repeats,
 * host bits clear, no wider than the limits, and each one's own address
 * matches an entry at least as long.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blocklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bh_blocklist b;
	struct bh_diag d;

	memset(&d, 0, sizeof(d));
	if (bh_blocklist_parse("fuzz.list", (const char *)data, size, &b, &d))
		return 0;
	for (size_t i = 0; i < b.n; i++) {
		const struct bh_cidr *c = &b.v[i].cidr;
		unsigned int full = c->addr.v4 ? 96u + c->plen : c->plen;
		const struct bh_block_ent *m;
		struct bh_block_key k;

		if (c->plen < (c->addr.v4 ? BH_BLOCKLIST_MIN_V4 : BH_BLOCKLIST_MIN_V6))
			abort();
		for (unsigned int bit = full; bit < 128; bit++)
			if (c->addr.a[bit / 8] & (0x80 >> (bit % 8)))
				abort();
		if (i && memcmp(b.v[i - 1].cidr.addr.a, c->addr.a, 16) > 0)
			abort();
		if (i && !memcmp(b.v[i - 1].cidr.addr.a, c->addr.a, 16) &&
		    b.v[i - 1].cidr.plen >= c->plen)
			abort();
		m = bh_blocklist_match(&b, &c->addr);
		if (!m || m->cidr.plen < c->plen)
			abort();
		bh_blocklist_key(&b.v[i], &k);
		if (k.prefixlen != full)
			abort();
	}
	for (size_t i = 0; i < d.n; i++)
		if (strncmp(d.msg[i], "fuzz.list:", 10))
			abort();
	bh_blocklist_free(&b);
	return 0;
}
