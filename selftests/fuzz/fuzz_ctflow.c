// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ctflow.c - libFuzzer harness for the conntrack message parser of
 * --mode nft's flow records (userspace/flowkey.c): the addresses and
 * ports come from devices, the attributes from the kernel; any byte
 * string is a flow or refused, without a crash or undefined behaviour,
 * and a parsed flow makes a key without reading past the message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowkey.h"

static bool owner(void *data, const __u8 a[16], __u8 mac[6])
{
	(void)data;
	memcpy(mac, a + 10, 6);
	return a[15] & 1;
}

static bool odd(void *data, const __u8 *a)
{
	(void)data;
	return a[5] & 1;
}

static bool lan(void *data, const __u8 a[16])
{
	(void)data;
	return a[14] & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bh_flow_env env = { .owner = owner, .gw_ip = (void *)odd,
					 .gw_mac = (void *)odd, .lan = lan };
	struct bh_flow_key k;
	struct bh_ctflow f;
	void *copy;

	/* the message alone, aligned as the socket buffer holds it */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (!bh_ctflow_parse(copy, size, &f) && !bh_flow_key_ct(&env, &f, BH_FV_PASS, &k)) {
		if (!k.kind || k.kind >= BH_FK_MAX || (k.plen && k.kind != BH_FK_INTERNET))
			abort();
	}
	free(copy);
	return 0;
}
