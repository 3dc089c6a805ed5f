// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_frame.c - libFuzzer harness for the reference evaluator's frame
 * parser and judge: any frame, against a fixed policy with tracked state.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "policy.h"

static const char policy[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"groups:\n"
	"  cameras: {internet: deny, members: [{mac: \"02:00:00:00:00:11\", ip: [192.168.50.11, \"fd00:50::11\"]}]}\n"
	"  nvr: {members: [{mac: \"02:00:00:00:00:21\", ip: [192.168.50.21]}]}\n"
	"  fridge: {members: [{mac: \"02:00:00:00:00:31\"}]}\n"
	"rules:\n"
	"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"]}\n"
	"  - {from: cameras, to: 203.0.113.0/24, proto: tcp, ports: [443]}\n"
	"  - {from: any, to: multicast, proto: udp, ports: [5353]}\n"
	"  - {from: fridge, to: cameras, action: deny}\n";

static struct bh_policy *p;
static struct bh_eval_state *st;
static struct bh_gw_addr addrs[2];
static const __u8 gw[1][6] = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const __u8 quar[1][6] = { { 0x02, 0, 0, 0, 0, 0x31 } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bh_env env = { .gw_macs = gw, .n_gw_macs = 1, .gw_addrs = addrs,
			      .n_gw_addrs = 2, .quarantined = quar,
			      .n_quarantined = size & 1 };
	struct bh_eval_result r;

	if (!p) {
		struct bh_diag d = {};

		if (bh_policy_load_buf("fuzz.yaml", policy, strlen(policy), &p, &d))
			abort();
		st = bh_eval_state_new();
		bh_parse_addr("192.168.50.1", &addrs[0].addr);
		addrs[0].plen = 24;
		bh_parse_addr("fd00:50::1", &addrs[1].addr);
		addrs[1].plen = 64;
	}
	bh_eval_frame(p, &env, st, data, size, &r);
	if (r.reason < 0 || r.reason >= 19 || (r.pass != 0 && r.pass != 1))
		abort();
	return 0;
}
