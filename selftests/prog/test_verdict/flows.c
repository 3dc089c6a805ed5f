// SPDX-License-Identifier: GPL-2.0
/*
 * flows.c - test_verdict's flow records (bh_flow) and audit mode: the
 * programs loaded with a policy from YAML, frames through xdp and tc
 * ingress, bh_flow, bh_stats and the deny events checked. Its own cmocka
 * group (its own load of the objects), run after the table rows.
 */
#include "verdict.h"

/* ==== flow records and audit (issue 17) ==========================================
 * One block, kept apart so the split of this file by area can move it whole: the
 * programs loaded with a policy from YAML (fixture.h, so the compiler's audit flags
 * are exercised too), frames run through xdp and tc ingress, and bh_flow, bh_stats
 * and the deny events checked.
 */
#define FLOW_POLICY(defaults, cam_audit)						\
	"version: 1\n"									\
	"interfaces: [br-lan]\n"							\
	"defaults: {gateway: allow" defaults "}\n"					\
	"groups:\n"									\
	"  cameras: {" cam_audit "members: [{mac: \"" CAM "\", ip: [" CAM4 "]}]}\n"	\
	"  nvr: {members: [{mac: \"" NVR "\", ip: [" NVR4 "]}]}\n"			\
	"  fridge: {members: [{mac: \"" FRIDGE "\", ip: [" FRIDGE4 "]}]}\n"		\
	"  laptop: {members: [{mac: \"" LAPTOP "\", ip: [" LAPTOP4 "]}]}\n"		\
	"rules:\n"									\
	"  - {from: nvr, to: cameras, proto: tcp, ports: [554]}\n"			\
	"  - {from: laptop, to: cameras, proto: tcp, ports: [23], action: deny}\n"

static const char flow_enforce[] = FLOW_POLICY("", "");
static const char flow_cam_audit[] = FLOW_POLICY("", "audit: true, ");
static const char flow_all_audit[] = FLOW_POLICY(", mode: audit", "");

static struct bulkhead_bpf *fskel;
static struct bh_maps fm;

static int flow_setup(void **state)
{
	(void)state;
	fskel = fixture_open(&fm, flow_enforce);
	return fskel ? 0 : -1;
}

static int flow_teardown(void **state)
{
	(void)state;
	bulkhead_bpf__destroy(fskel);
	fskel = NULL;
	return 0;
}

/* a policy, with flows, tracked state and cached verdicts cleared */
static void flow_policy(const char *yaml)
{
	__u32 zero = 0;
	struct bh_flow_ctr *z = calloc((size_t)ncpu, sizeof(*z));

	assert_non_null(z);
	assert_int_equal(fixture_apply_yaml(&fm, yaml), 0);
	clear_map_raw(fm.flow);
	clear_map_raw(fm.ct);
	clear_map_raw(fm.quarantine);
	assert_int_equal(bh_dp_invalidate(&fm) < 0, 0);
	assert_int_equal(bpf_map_update_elem(fm.flowstat, &zero, z, BPF_ANY), 0);
	free(z);
	ev_drain_fd(fm.events);
}

static int flow_run(enum ep ep, const struct frame *f)
{
	return run_prog(ep == EP_XDP ? fskel->progs.bulkhead_xdp : fskel->progs.bulkhead_tc_in,
			ep == EP_TC, f);
}

static __u64 flow_reason(__u32 reason)
{
	struct bh_counter c;

	assert_int_equal(bh_dp_counter(fm.stats, reason, &c), 0);
	return c.packets;
}

/* the key of a device-to-device IPv4 TCP/UDP flow */
static struct bh_flow_key flow_dev4(const char *smac, const char *dmac, const char *daddr,
				    __u8 proto, __u16 port, __u8 verdict)
{
	struct bh_flow_key k = { .proto = proto, .port = port, .kind = BH_FK_DEVICE,
				 .verdict = verdict, .flags = BH_FLOW_F_V4 };

	mac_of(smac, k.smac);
	mac_of(dmac, k.dmac);
	addr16(daddr, k.daddr);
	return k;
}

/* the record of @k: its packet count, 0 when there is none */
static __u64 flow_packets(const struct bh_flow_key *k, struct bh_flow_val *out)
{
	struct bh_flow_val v = {};

	if (bpf_map_lookup_elem(fm.flow, k, &v))
		return 0;
	if (out)
		*out = v;
	return v.packets;
}

static size_t flow_entries(void)
{
	struct bh_flow_key k, next;
	size_t n = 0;

	for (int r = bpf_map_get_next_key(fm.flow, NULL, &next); !r;
	     r = bpf_map_get_next_key(fm.flow, &k, &next)) {
		k = next;
		n++;
	}
	return n;
}

/* A device's frame is recorded under the right key, on the full path and on hits. */
static void test_flow_recorded(void **state)
{
	struct bh_flow_key k = flow_dev4(NVR, CAM, CAM4, IPPROTO_TCP, 554, BH_FV_PASS);
	struct bh_flow_val v = {};

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		flow_policy(flow_enforce);
		tcp4(&F, CAM, NVR, NVR4, CAM4, 40000, 554, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_packets(&k, &v), 1);
		assert_int_equal(v.bytes, F.len);
		assert_true(v.first_seen && v.first_seen == v.last_seen);
		/* the same frame again: a verdict cache hit, counted in place */
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_packets(&k, &v), 2);
		assert_int_equal(v.bytes, 2 * F.len);
		assert_int_equal(flow_entries(), 1);
		/* a denied frame: its own record, verdict drop */
		tcp4(&F, CAM, LAPTOP, LAPTOP4, CAM4, 40001, 23, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 0);
		k = flow_dev4(LAPTOP, CAM, CAM4, IPPROTO_TCP, 23, BH_FV_DROP);
		assert_int_equal(flow_packets(&k, NULL), 1);
		k = flow_dev4(NVR, CAM, CAM4, IPPROTO_TCP, 554, BH_FV_PASS);
	}
}

/* The answer counts in its opener's record, never under the ephemeral port. */
static void test_flow_reply_counted(void **state)
{
	struct bh_flow_key k = flow_dev4(NVR, CAM, CAM4, IPPROTO_TCP, 554, BH_FV_PASS);
	struct bh_flow_key eph = flow_dev4(CAM, NVR, NVR4, IPPROTO_TCP, 40000, BH_FV_PASS);
	__u64 replies;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		flow_policy(flow_enforce);
		tcp4(&F, CAM, NVR, NVR4, CAM4, 40000, 554, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		replies = flow_reason(BH_R_PASS_REPLY);
		tcp4(&F, NVR, CAM, CAM4, NVR4, 554, 40000, SYNACK);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_reason(BH_R_PASS_REPLY), replies + 1);
		assert_int_equal(flow_packets(&k, NULL), 2);
		tcp4(&F, CAM, NVR, NVR4, CAM4, 40000, 554, ACK);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		tcp4(&F, NVR, CAM, CAM4, NVR4, 554, 40000, ACK);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);	/* miss */
		assert_int_equal(flow_run((enum ep)ep, &F), 1);	/* hit */
		assert_int_equal(flow_packets(&k, NULL), 5);
		assert_int_equal(flow_packets(&eph, NULL), 0);
		assert_int_equal(flow_entries(), 1);
	}
}

/* Audit: a frame the policy drops passes, pass_audit, would_drop, a marked event. */
static void test_flow_audit_would_drop(void **state)
{
	struct bh_flow_key k = flow_dev4(FRIDGE, CAM, CAM4, IPPROTO_TCP, 80, BH_FV_WOULD_DROP);
	__u64 audits, defaults;
	size_t n;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		flow_policy(flow_all_audit);
		audits = flow_reason(BH_R_PASS_AUDIT);
		defaults = flow_reason(BH_R_DROP_DEFAULT);
		tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);	/* a hit: still audit */
		assert_int_equal(flow_reason(BH_R_PASS_AUDIT), audits + 2);
		assert_int_equal(flow_reason(BH_R_DROP_DEFAULT), defaults);
		assert_int_equal(flow_packets(&k, NULL), 2);
		n = ev_drain_fd(fm.events);
		assert_int_equal(n, 2);
		assert_int_equal(evs[0].reason, BH_R_DROP_DEFAULT);
		assert_int_equal(evs[0].flags, BH_EVF_WOULD_DROP);
		assert_int_equal(evs[1].reason, BH_R_DROP_DEFAULT);
		assert_int_equal(evs[1].flags, BH_EVF_WOULD_DROP);
		/* a deny rule's drop too, with its rule */
		tcp4(&F, CAM, LAPTOP, LAPTOP4, CAM4, 40001, 23, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(ev_drain_fd(fm.events), 1);
		assert_int_equal(evs[0].reason, BH_R_DROP_RULE);
		assert_int_equal(evs[0].flags, BH_EVF_WOULD_DROP);
		/* tracked as if allowed: the camera's answer is a reply */
		tcp4(&F, FRIDGE, CAM, CAM4, FRIDGE4, 80, 40000, SYNACK);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_reason(BH_R_PASS_AUDIT), audits + 3);
		assert_int_equal(flow_packets(&k, NULL), 3);
	}
}

/* Audit never waives the quarantine (nor spoofing). */
static void test_flow_audit_quarantine_enforced(void **state)
{
	struct bh_mac_key mk = mac_key(CAM);
	struct bh_quar_val qv = { .since = 1 };
	struct bh_flow_key k = flow_dev4(FRIDGE, CAM, CAM4, IPPROTO_TCP, 80, BH_FV_DROP);
	__u64 q, audits;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		flow_policy(flow_all_audit);
		assert_int_equal(bpf_map_update_elem(fm.quarantine, &mk, &qv, BPF_ANY), 0);
		assert_int_equal(bh_dp_invalidate(&fm) < 0, 0);
		q = flow_reason(BH_R_DROP_QUARANTINE);
		audits = flow_reason(BH_R_PASS_AUDIT);
		tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 0);
		tcp4(&F, FRIDGE, CAM, CAM4, FRIDGE4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 0);
		assert_int_equal(flow_reason(BH_R_DROP_QUARANTINE), q + 2);
		assert_int_equal(flow_reason(BH_R_PASS_AUDIT), audits);
		assert_int_equal(flow_packets(&k, NULL), 1);	/* recorded, enforced */
		/* the fridge using the camera's address: spoofing, enforced */
		tcp4(&F, LAPTOP, FRIDGE, CAM4, LAPTOP4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 0);
		assert_int_equal(flow_reason(BH_R_PASS_AUDIT), audits);
	}
}

/* An audited group stages its drops at either end; other groups stay enforced. */
static void test_flow_audit_group(void **state)
{
	__u64 audits, defaults;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		flow_policy(flow_cam_audit);
		audits = flow_reason(BH_R_PASS_AUDIT);
		defaults = flow_reason(BH_R_DROP_DEFAULT);
		/* to the audited cameras, from the enforced fridge */
		tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		/* from the audited cameras */
		udp4(&F, LAPTOP, CAM, CAM4, LAPTOP4, 40000, 9999);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		/* ARP between them: staged too */
		arp4(&F, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, CAM4);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_reason(BH_R_PASS_AUDIT), audits + 3);
		/* neither end audited: dropped */
		tcp4(&F, LAPTOP, FRIDGE, FRIDGE4, LAPTOP4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 0);
		assert_int_equal(flow_reason(BH_R_DROP_DEFAULT), defaults + 1);
		assert_int_equal(flow_reason(BH_R_PASS_AUDIT), audits + 3);
		/* enforce again: the same frame drops */
		flow_policy(flow_enforce);
		tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 80, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 0);
	}
}

/* Internet and gateway destinations: classes, the internet masked to a /24. */
static void test_flow_classes(void **state)
{
	struct bh_flow_key k = { .proto = IPPROTO_TCP, .port = 443, .kind = BH_FK_INTERNET,
				 .verdict = BH_FV_PASS, .flags = BH_FLOW_F_V4,
				 .plen = BH_FLOW_V4_PLEN };

	(void)state;
	mac_of(CAM, k.smac);
	addr16("198.51.100.0", k.daddr);
	for (int ep = 0; ep < EP_N; ep++) {
		flow_policy(flow_enforce);
		tcp4(&F, GWMAC, CAM, CAM4, "198.51.100.7", 40000, 443, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		tcp4(&F, GWMAC, CAM, CAM4, "198.51.100.9", 40001, 443, SYN);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_packets(&k, NULL), 2);
		k.kind = BH_FK_GATEWAY;
		k.plen = 0;
		k.port = 53;
		k.proto = IPPROTO_UDP;
		addr16(GW4, k.daddr);
		udp4(&F, GWMAC, CAM, CAM4, GW4, 40002, 53);
		assert_int_equal(flow_run((enum ep)ep, &F), 1);
		assert_int_equal(flow_packets(&k, NULL), 1);
		k.kind = BH_FK_INTERNET;
		k.plen = BH_FLOW_V4_PLEN;
		k.port = 443;
		k.proto = IPPROTO_TCP;
		addr16("198.51.100.0", k.daddr);
	}
}

int verdict_flow_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_recorded),
		cmocka_unit_test(test_flow_reply_counted),
		cmocka_unit_test(test_flow_audit_would_drop),
		cmocka_unit_test(test_flow_audit_quarantine_enforced),
		cmocka_unit_test(test_flow_audit_group),
		cmocka_unit_test(test_flow_classes),
	};

	return _cmocka_run_group_tests("flows and audit", tests, sizeof(tests) / sizeof(tests[0]),
				       flow_setup, flow_teardown);
}
