// SPDX-License-Identifier: GPL-2.0
/*
 * vcache.c - test_verdict, the flow verdict cache through the controller's own
 * writers (a second copy of the objects, its own cmocka group).
 */
#include "verdict.h"

/*
 * A second copy of the objects, its policy compiled from YAML and written
 * by bh_dp_apply(), the quarantine by bh_dp_isolate()/bh_dp_release(), the
 * gateway by bh_dp_set_gateway(), flows deleted by bh_dp_ct_flush_mac():
 * exactly what the product does. The process stays on one CPU, so every
 * repeated frame meets the per-CPU slot its first run filled; each row
 * asserts the slot is filled before a repeat, so a repeat is a cache hit.
 */
#define CACHE_POLICY(extra_rule)						\
	"version: 1\n"								\
	"interfaces: [br-lan]\n"						\
	"defaults: {gateway: allow}\n"						\
	"groups:\n"								\
	"  cameras: {members: [{mac: \"" CAM "\", ip: [" CAM4 "]}]}\n"		\
	"  nvr: {members: [{mac: \"" NVR "\", ip: [" NVR4 "]}]}\n"		\
	"rules:\n"								\
	"  - {from: nvr, to: cameras, proto: tcp, ports: [" extra_rule "]}\n"	\
	"  - {from: nvr, to: cameras, proto: icmp}\n"

static const char cache_allow[] = CACHE_POLICY("554");
static const char cache_deny[] = CACHE_POLICY("80");	/* tcp/554 falls to the default */
/* the same devices, no rule between them: they do not talk */
static const char cache_apart[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"defaults: {gateway: allow}\n"
	"groups:\n"
	"  cameras: {members: [{mac: \"" CAM "\", ip: [" CAM4 "]}]}\n"
	"  nvr: {members: [{mac: \"" NVR "\", ip: [" NVR4 "]}]}\n";

static struct bulkhead_bpf *cskel;
static struct bh_maps cm;
static int ccpu;

/*
 * The slot bh_vcache gives an untagged IPv4 TCP or ICMP echo frame, or an
 * ARP frame, as verdict.h keys it (written out here, not shared, so a
 * change to the key in one place shows).
 */
static __u32 frame_slot(const struct frame *f, struct bh_vc_key *k)
{
	const __u8 *ip = f->b + 14, *l4 = ip + 20;
	bool arp = f->b[12] == 0x08 && f->b[13] == 0x06;

	memset(k, 0, sizeof(*k));
	memcpy(k->dmac, f->b, 6);
	memcpy(k->smac, f->b + 6, 6);
	k->saddr[10] = k->saddr[11] = k->daddr[10] = k->daddr[11] = 0xff;
	if (arp) {
		memcpy(k->saddr + 12, ip + 14, 4);	/* sender, target */
		memcpy(k->daddr + 12, ip + 24, 4);
		k->flags = BH_VC_V4 | BH_VC_ARP;
		return bh_vc_index(k);
	}
	memcpy(k->saddr + 12, ip + 12, 4);
	memcpy(k->daddr + 12, ip + 16, 4);
	k->proto = ip[9];
	if (k->proto == IPPROTO_ICMP) {
		k->sport = k->dport = (__u16)(l4[4] << 8 | l4[5]);	/* the echo id */
		k->flags = BH_VC_V4 | (l4[0] == 0 ? BH_VC_ECHOREP : 0);
		return bh_vc_index(k);
	}
	k->sport = (__u16)(l4[0] << 8 | l4[1]);
	k->dport = (__u16)(l4[2] << 8 | l4[3]);
	k->flags = BH_VC_V4 | ((l4[13] & (SYN | ACK)) == SYN ? BH_VC_SYN : 0);
	return bh_vc_index(k);
}

/* this CPU's slot of @f: its key, and filled under the current epochs */
static struct bh_vc_slot cache_slot(const struct frame *f, bool *valid)
{
	struct bh_vc_slot *v = calloc((size_t)ncpu, sizeof(*v)), s;
	struct bh_active act;
	struct bh_vc_key k __attribute__((aligned(8)));
	__u32 idx = frame_slot(f, &k), zero = 0, ve = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(cm.vcache, &idx, v), 0);
	assert_int_equal(bpf_map_lookup_elem(cm.active, &zero, &act), 0);
	assert_int_equal(bpf_map_lookup_elem(cm.vepoch, &zero, &ve), 0);
	s = v[ccpu];
	free(v);
	*valid = s.val.kind && !memcmp(&s.key, &k, sizeof(k)) && s.val.epoch == act.epoch &&
		 s.val.vepoch == ve;
	return s;
}

static void cache_slot_put(const struct frame *f, const struct bh_vc_slot *s)
{
	struct bh_vc_slot *v = calloc((size_t)ncpu, sizeof(*v));
	struct bh_vc_key k __attribute__((aligned(8)));
	__u32 idx = frame_slot(f, &k);

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(cm.vcache, &idx, v), 0);
	v[ccpu] = *s;
	assert_int_equal(bpf_map_update_elem(cm.vcache, &idx, v, BPF_ANY), 0);
	free(v);
}

/* Run @f through @ep of the cache fixture: the verdict and its reason counter. */
static void cache_run(enum ep ep, const struct frame *f, int pass, __u32 reason,
		      const char *what)
{
	struct bpf_program *prog = ep == EP_XDP ? cskel->progs.bulkhead_xdp :
						  cskel->progs.bulkhead_tc_in;
	struct bh_counter b, a;
	int got;

	assert_int_equal(bh_dp_counter(cm.stats, reason, &b), 0);
	got = run_prog(prog, ep == EP_TC, f);
	assert_int_equal(bh_dp_counter(cm.stats, reason, &a), 0);
	if (got != pass || a.packets != b.packets + 1)
		fail_msg("%s: %s: expected %s %s, got %s (reason counter +%llu)", ep_name[ep],
			 what, pass ? "PASS" : "DROP", reason_name[reason], got ? "PASS" : "DROP",
			 (unsigned long long)(a.packets - b.packets));
}

static __u8 cmac_nvr[6], cmac_cam[6];

static void c_apply_allow(void) { assert_int_equal(fixture_apply_yaml(&cm, cache_allow), 0); }
static void c_apply_deny(void) { assert_int_equal(fixture_apply_yaml(&cm, cache_deny), 0); }
static void c_apply_apart(void) { assert_int_equal(fixture_apply_yaml(&cm, cache_apart), 0); }
static void c_isolate_nvr(void) { assert_int_equal(bh_dp_isolate(&cm, cmac_nvr, 1, 0, BH_QLVL_FULL), 0); }
static void c_release_nvr(void) { assert_int_equal(bh_dp_release(&cm, cmac_nvr), 0); }
static void c_isolate_cam(void) { assert_int_equal(bh_dp_isolate(&cm, cmac_cam, 1, 0, BH_QLVL_FULL), 0); }
static void c_release_cam(void) { assert_int_equal(bh_dp_release(&cm, cmac_cam), 0); }
static void c_flush_nvr(void) { assert_true(bh_dp_ct_flush_mac(&cm, cmac_nvr, NULL, NULL) >= 1); }

/* the gateway takes 192.168.50.99 on (or gives it up): its class changes */
static void c_gateway(bool with_99)
{
	struct bh_port port = { .ifindex = 1 };
	struct bh_gw_addr addrs[3] = {};
	__u8 gw[1][6] = { { 0x02, 0, 0, 0, 0, 0x01 } };
	struct bh_topology t = { .ports = &port, .n_ports = 1, .macs = gw, .n_macs = 1,
				 .addrs = addrs, .n_addrs = with_99 ? 3 : 2 };

	bh_parse_addr(GW4, &addrs[0].addr);
	addrs[0].plen = 24;
	bh_parse_addr(GW6, &addrs[1].addr);
	addrs[1].plen = 64;
	bh_parse_addr("192.168.50.99", &addrs[2].addr);
	addrs[2].plen = 24;
	assert_int_equal(bh_dp_set_gateway(&cm, &t), 0);
}
static void c_gateway_99(void) { c_gateway(true); }
static void c_gateway_back(void) { c_gateway(false); }

/* flows gone from bh_ct with no controller write (evicted by the LRU) */
static void c_ct_vanish_raw(void)
{
	clear_map_raw(cm.ct);
}

B(c_nvr_cam_syn, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 554, SYN))
B(c_nvr_cam_ack, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 554, ACK))
B(c_cam_nvr_ack, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, ACK))
B(c_cam_nvr_syn, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, SYN))
B(c_nvr_gw99, tcp4(f, GWMAC, NVR, NVR4, "192.168.50.99", 40000, 8080, ACK))
B(c_nvr_cam_telnet, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 23, ACK))
B(c_nvr_cam_echo, icmp4(f, CAM, NVR, NVR4, CAM4, 8, 77))
B(c_cam_nvr_echorep, icmp4(f, NVR, CAM, CAM4, NVR4, 0, 77))
B(c_cam_nvr_echo, icmp4(f, NVR, CAM, CAM4, NVR4, 8, 77))
B(c_arp_nvr_cam, arp4(f, BCAST, NVR, 1, NVR, NVR4, ZMAC, CAM4))
B(c_arp_cam_nvr, arp4(f, NVR, CAM, 2, CAM, CAM4, NVR, NVR4))
/* unicast to no device: a broadcast request for an unbound address passes
 * ingress when the sender talks to some group (egress judges the copies) */
B(c_arp_nvr_99, arp4(f, "02:00:00:00:77:77", NVR, 1, NVR, NVR4, ZMAC, "192.168.50.99"))

struct cstep {
	builder build;		/* a frame, or */
	void (*act)(void);	/* a controller write */
	int pass;
	__u32 reason;
	bool hit;		/* the frame's slot must be filled before it runs */
	bool age;		/* age the slot's ct state past the second first */
};
#define CF(b, p, r)	{ .build = b, .pass = p, .reason = BH_R_##r }
#define CHIT(b, p, r)	{ .build = b, .pass = p, .reason = BH_R_##r, .hit = true }
#define CAGE(b, p, r)	{ .build = b, .pass = p, .reason = BH_R_##r, .hit = true, .age = true }
#define CA(a)		{ .act = a }

struct crow {
	const char *name;
	struct cstep steps[12];
};

static const struct crow crows[] = {
	{ "cache: a policy that denies drops the identical frame at once", {
		CF(c_nvr_cam_syn, 1, PASS_RULE), CF(c_nvr_cam_ack, 1, PASS_RULE),
		CHIT(c_nvr_cam_ack, 1, PASS_RULE), CA(c_apply_deny),
		CF(c_nvr_cam_ack, 0, DROP_DEFAULT), CHIT(c_nvr_cam_ack, 0, DROP_DEFAULT),
		CA(c_apply_allow), CF(c_nvr_cam_ack, 1, PASS_RULE) } },
	{ "cache: isolate drops the identical frame at once, release passes it", {
		CF(c_nvr_cam_ack, 1, PASS_RULE), CHIT(c_nvr_cam_ack, 1, PASS_RULE),
		CA(c_isolate_nvr), CF(c_nvr_cam_ack, 0, DROP_QUARANTINE),
		CHIT(c_nvr_cam_ack, 0, DROP_QUARANTINE), CA(c_release_nvr),
		CF(c_nvr_cam_ack, 1, PASS_RULE), CA(c_isolate_cam),
		CF(c_nvr_cam_ack, 0, DROP_QUARANTINE), CA(c_release_cam),
		CF(c_nvr_cam_ack, 1, PASS_RULE) } },
	{ "cache: a cached reply is dropped once the controller deletes its flow", {
		CF(c_nvr_cam_syn, 1, PASS_RULE), CF(c_cam_nvr_ack, 1, PASS_REPLY),
		CHIT(c_cam_nvr_ack, 1, PASS_REPLY), CA(c_flush_nvr),
		CF(c_cam_nvr_ack, 0, DROP_DEFAULT) } },
	{ "cache: a cached reply outlives a vanished flow by at most a second", {
		CF(c_nvr_cam_syn, 1, PASS_RULE), CF(c_cam_nvr_ack, 1, PASS_REPLY),
		CA(c_ct_vanish_raw), CHIT(c_cam_nvr_ack, 1, PASS_REPLY),
		CAGE(c_cam_nvr_ack, 0, DROP_DEFAULT), CHIT(c_cam_nvr_ack, 0, DROP_DEFAULT) } },
	{ "cache: a cached denial becomes a reply once the other end opens the flow", {
		CF(c_cam_nvr_ack, 0, DROP_DEFAULT), CHIT(c_cam_nvr_ack, 0, DROP_DEFAULT),
		CF(c_nvr_cam_syn, 1, PASS_RULE), CHIT(c_cam_nvr_ack, 1, PASS_REPLY) } },
	{ "cache: a bare SYN and an ACK of one tuple are cached apart", {
		CF(c_nvr_cam_syn, 1, PASS_RULE), CF(c_cam_nvr_syn, 0, DROP_DEFAULT),
		CF(c_cam_nvr_ack, 1, PASS_REPLY), CHIT(c_cam_nvr_syn, 0, DROP_DEFAULT),
		CHIT(c_cam_nvr_ack, 1, PASS_REPLY) } },
	{ "cache: a gateway address change reclassifies the identical frame", {
		CF(c_nvr_gw99, 0, DROP_DEFAULT), CHIT(c_nvr_gw99, 0, DROP_DEFAULT),
		CA(c_gateway_99), CF(c_nvr_gw99, 1, PASS_DEFAULT),
		CHIT(c_nvr_gw99, 1, PASS_DEFAULT), CA(c_gateway_back),
		CF(c_nvr_gw99, 0, DROP_DEFAULT) } },
	{ "cache: an echo request and an echo reply of one tuple are cached apart", {
		CF(c_nvr_cam_echo, 1, PASS_RULE), CF(c_cam_nvr_echorep, 1, PASS_REPLY),
		CHIT(c_cam_nvr_echorep, 1, PASS_REPLY), CF(c_cam_nvr_echo, 0, DROP_DEFAULT),
		CHIT(c_cam_nvr_echo, 0, DROP_DEFAULT), CHIT(c_cam_nvr_echorep, 1, PASS_REPLY),
		CHIT(c_nvr_cam_echo, 1, PASS_RULE) } },
	{ "cache: isolate drops a cached echo at once, release passes it", {
		CF(c_nvr_cam_echo, 1, PASS_RULE), CHIT(c_nvr_cam_echo, 1, PASS_RULE),
		CA(c_isolate_nvr), CF(c_nvr_cam_echo, 0, DROP_QUARANTINE),
		CHIT(c_nvr_cam_echo, 0, DROP_QUARANTINE), CA(c_release_nvr),
		CF(c_nvr_cam_echo, 1, PASS_RULE), CA(c_isolate_cam),
		CF(c_nvr_cam_echo, 0, DROP_QUARANTINE), CA(c_release_cam),
		CF(c_nvr_cam_echo, 1, PASS_RULE) } },
	{ "cache: a cached echo reply is dropped once the controller deletes its flow", {
		CF(c_nvr_cam_echo, 1, PASS_RULE), CF(c_cam_nvr_echorep, 1, PASS_REPLY),
		CHIT(c_cam_nvr_echorep, 1, PASS_REPLY), CA(c_flush_nvr),
		CF(c_cam_nvr_echorep, 0, DROP_DEFAULT), CHIT(c_cam_nvr_echorep, 0, DROP_DEFAULT),
		CF(c_nvr_cam_echo, 1, PASS_RULE), CHIT(c_cam_nvr_echorep, 1, PASS_REPLY) } },
	{ "cache: isolate drops cached ARP at once, both ways, release passes it", {
		CF(c_arp_nvr_cam, 1, PASS_ARP), CHIT(c_arp_nvr_cam, 1, PASS_ARP),
		CF(c_arp_cam_nvr, 1, PASS_ARP), CHIT(c_arp_cam_nvr, 1, PASS_ARP),
		CA(c_isolate_cam), CF(c_arp_nvr_cam, 0, DROP_QUARANTINE),
		CHIT(c_arp_nvr_cam, 0, DROP_QUARANTINE), CF(c_arp_cam_nvr, 0, DROP_QUARANTINE),
		CA(c_release_cam), CF(c_arp_nvr_cam, 1, PASS_ARP),
		CF(c_arp_cam_nvr, 1, PASS_ARP) } },
	{ "cache: ARP for an address the gateway takes passes at once", {
		CF(c_arp_nvr_99, 0, DROP_DEFAULT), CHIT(c_arp_nvr_99, 0, DROP_DEFAULT),
		CA(c_gateway_99), CF(c_arp_nvr_99, 1, PASS_ARP),
		CHIT(c_arp_nvr_99, 1, PASS_ARP), CA(c_gateway_back),
		CF(c_arp_nvr_99, 0, DROP_DEFAULT) } },
	{ "cache: a policy that no longer lets them talk drops cached ARP at once", {
		CF(c_arp_nvr_cam, 1, PASS_ARP), CHIT(c_arp_nvr_cam, 1, PASS_ARP),
		CA(c_apply_apart), CF(c_arp_nvr_cam, 0, DROP_DEFAULT),
		CHIT(c_arp_nvr_cam, 0, DROP_DEFAULT), CA(c_apply_allow),
		CF(c_arp_nvr_cam, 1, PASS_ARP) } },
};

static int cache_setup(void **state)
{
	cpu_set_t set;

	(void)state;
	ccpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(ccpu, &set);
	if (ccpu < 0 || sched_setaffinity(0, sizeof(set), &set))
		return -1;
	mac_of(NVR, cmac_nvr);
	mac_of(CAM, cmac_cam);
	cskel = fixture_open(&cm, cache_allow);
	return cskel ? 0 : -1;
}

static int cache_teardown(void **state)
{
	cpu_set_t set;

	(void)state;
	bulkhead_bpf__destroy(cskel);
	cskel = NULL;
	CPU_ZERO(&set);
	for (int i = 0; i < ncpu; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
	return 0;
}

static void cache_row(void **state)
{
	const struct crow *r = *state;

	for (int ep = 0; ep < EP_N; ep++) {
		c_apply_allow();
		assert_true(bh_dp_ct_flush_mac(&cm, cmac_nvr, NULL, NULL) >= 0);
		for (size_t i = 0; i < sizeof(r->steps) / sizeof(r->steps[0]); i++) {
			const struct cstep *s = &r->steps[i];
			struct bh_vc_slot slot;
			char what[64];
			bool valid;

			if (s->act) {
				s->act();
				continue;
			}
			if (!s->build)
				break;
			s->build(&F);
			snprintf(what, sizeof(what), "step %zu", i + 1);
			slot = cache_slot(&F, &valid);
			if (s->hit && !valid)
				fail_msg("%s: %s: the frame's verdict is not cached", ep_name[ep], what);
			if (s->age) {
				slot.val.ct_seen -= BH_VC_CT_RECHECK + 100000000ULL;
				cache_slot_put(&F, &slot);
			}
			cache_run((enum ep)ep, &F, s->pass, s->reason, what);
			cache_slot(&F, &valid);
			if (!valid)
				fail_msg("%s: %s: not cached after its run", ep_name[ep], what);
		}
	}
}

/* ct entry of nvr -> camera tcp 40000 -> 554 */
static bool cache_ct(struct bh_ct_val *v)
{
	struct bh_ct_key k = { .proto = IPPROTO_TCP, .sport = htons(40000), .dport = htons(554) };

	addr16(NVR4, k.saddr);
	addr16(CAM4, k.daddr);
	return !bpf_map_lookup_elem(cm.ct, &k, v);
}

static void cache_ct_put(const struct bh_ct_val *v)
{
	struct bh_ct_key k = { .proto = IPPROTO_TCP, .sport = htons(40000), .dport = htons(554) };

	addr16(NVR4, k.saddr);
	addr16(CAM4, k.daddr);
	assert_int_equal(bpf_map_update_elem(cm.ct, &k, v, BPF_ANY), 0);
}

/* a cached allowed flow keeps its bh_ct entry fresh, at most once a second */
static void test_cache_allowed_refreshes_ct(void **state)
{
	struct bh_ct_val v0, v1;
	struct bh_vc_slot slot;
	bool valid;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		c_apply_allow();
		assert_true(bh_dp_ct_flush_mac(&cm, cmac_nvr, NULL, NULL) >= 0);
		c_nvr_cam_ack(&F);
		cache_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, "first");
		assert_true(cache_ct(&v0));
		/* aged by 5 s behind the controller's back: within the cached
		 * second the hit leaves it alone */
		v0.last_seen -= 5000000000ULL;
		cache_ct_put(&v0);
		cache_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, "cached");
		assert_true(cache_ct(&v1));
		assert_true(v1.last_seen == v0.last_seen);
		/* the slot's last refresh a second ago: the hit refreshes */
		slot = cache_slot(&F, &valid);
		assert_true(valid);
		slot.val.ct_seen -= BH_VC_CT_RECHECK + 100000000ULL;
		cache_slot_put(&F, &slot);
		cache_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, "cached, a second later");
		assert_true(cache_ct(&v1));
		assert_true(v1.last_seen - v0.last_seen >= 4000000000ULL);
		/* the entry evicted: the next refresh writes it anew */
		clear_map_raw(cm.ct);
		slot = cache_slot(&F, &valid);
		slot.val.ct_seen -= BH_VC_CT_RECHECK + 100000000ULL;
		cache_slot_put(&F, &slot);
		cache_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, "cached, entry evicted");
		assert_true(cache_ct(&v1));
	}
}

/* N repeats of one frame (one miss, then hits) count N times everywhere */
#define SLOT_POLICY(members)							\
	"version: 1\n"								\
	"interfaces: [br-lan]\n"						\
	"defaults: {gateway: allow}\n"						\
	"groups:\n"								\
	"  cameras: {members: [{mac: \"" CAM "\", ip: [" CAM4 "]}]}\n"		\
	"  others: {members: [" members "]}\n"

/*
 * Devices keep their counters through apply, the product's own writer: a
 * device that stays keeps its bh_devctr slot and counts; one that leaves
 * has its counts carried to bh_devstats and its slot zeroed; a new one
 * starts at zero, in a slot the one that left in the same apply does not
 * give it, and in a later apply in a reused, zeroed slot.
 */
static void test_device_slots_survive_apply(void **state)
{
	static const char fridge[] = SLOT_POLICY("{mac: \"" FRIDGE "\", ip: [" FRIDGE4 "]}");
	static const char laptop[] = SLOT_POLICY("{mac: \"" LAPTOP "\", ip: [" LAPTOP4 "]}");
	struct bh_mac_key cam = mac_key(CAM), nvr = mac_key(NVR), fr = mac_key(FRIDGE),
			  lap = mac_key(LAPTOP);
	struct bh_dev_stats c0, n0, s, l0;
	__u32 cam_slot, nvr_slot, fr_slot;

	(void)state;
	c_apply_allow();		/* cameras + nvr */
	cam_slot = dev_slot(cm.devices, &cam);
	nvr_slot = dev_slot(cm.devices, &nvr);
	assert_true(cam_slot && nvr_slot && cam_slot != nvr_slot);
	f_nvr_cam_syn(&F);
	run_prog(cskel->progs.bulkhead_xdp, false, &F);
	run_prog(cskel->progs.bulkhead_xdp, false, &F);	/* a cache hit */
	f_cam_nvr_synack(&F);
	run_prog(cskel->progs.bulkhead_tc_in, true, &F);
	c0 = sum_devstats(cm.devices, cm.devctr, cm.devstats, &cam);
	n0 = sum_devstats(cm.devices, cm.devctr, cm.devstats, &nvr);
	l0 = sum_devstats(-1, -1, cm.devstats, &nvr);
	assert_true(c0.packets >= 1 && n0.packets >= 2);

	/* the nvr leaves, the fridge comes */
	assert_int_equal(fixture_apply_yaml(&cm, fridge), 0);
	assert_int_equal(dev_slot(cm.devices, &cam), cam_slot);
	s = sum_devstats(cm.devices, cm.devctr, cm.devstats, &cam);
	assert_int_equal(s.packets, c0.packets);
	assert_int_equal(s.bytes, c0.bytes);
	assert_int_equal(dev_slot(cm.devices, &nvr), 0);
	s = sum_devstats(-1, -1, cm.devstats, &nvr);	/* now all by MAC */
	assert_int_equal(s.packets, n0.packets);
	assert_int_equal(s.bytes, n0.bytes);
	assert_true(s.packets > l0.packets);
	s = (struct bh_dev_stats){};
	add_devstats(cm.devctr, &nvr_slot, &s);
	assert_int_equal(s.packets, 0);			/* its slot zeroed */
	fr_slot = dev_slot(cm.devices, &fr);
	assert_true(fr_slot && fr_slot != cam_slot && fr_slot != nvr_slot);
	assert_int_equal(sum_devstats(cm.devices, cm.devctr, cm.devstats, &fr).packets, 0);

	/* the fridge leaves, the laptop comes: a free slot again, zeroed */
	assert_int_equal(fixture_apply_yaml(&cm, laptop), 0);
	assert_int_equal(dev_slot(cm.devices, &lap), nvr_slot);	/* the lowest free */
	assert_int_equal(sum_devstats(cm.devices, cm.devctr, cm.devstats, &lap).packets, 0);
	assert_int_equal(dev_slot(cm.devices, &cam), cam_slot);
	c_apply_allow();
}

/*
 * Run @o's repeats of @prog: the tokens the event limit may have gained
 * meanwhile (BH_EV_RATE a second, one more for the partial second), so a
 * slow run (an emulated kernel, a loaded machine) is allowed its refill.
 */
static __u64 run_refill(int prog, struct bpf_test_run_opts *o)
{
	struct timespec t0, t1;
	__u64 ns;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(bpf_prog_test_run_opts(prog, o), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (__u64)(t1.tv_sec - t0.tv_sec) * 1000000000ULL + (__u64)t1.tv_nsec -
	     (__u64)t0.tv_nsec;
	return ns * BH_EV_RATE / 1000000000ULL + 1;
}

/*
 * A policy device's deny events are limited at its counter slot
 * (bh_evslot), not by MAC; when it leaves the policy the drops its slot
 * held without an event go with it to bh_evlimit, so its next event
 * carries them, and when it joins again its first event takes what waits
 * by MAC: events + suppressed = drops across the applies.
 */
static void test_event_bucket_survives_leaving(void **state)
{
	static const char fridge[] = SLOT_POLICY("{mac: \"" FRIDGE "\", ip: [" FRIDGE4 "]}");
	struct timespec ts = { 0, 1000000000L / BH_EV_RATE + 20000000L };
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1000);
	int xdp = bpf_program__fd(cskel->progs.bulkhead_xdp);
	struct bh_mac_key nvr = mac_key(NVR);
	struct bh_evlimit b;
	__u64 sum = 0, refill;
	__u32 slot;
	size_t n;

	(void)state;
	c_apply_allow();
	clear_map_raw(cm.evlimit);
	clear_evslots(cm.evslot);
	ev_drain_fd(cm.events);
	slot = dev_slot(cm.devices, &nvr);
	assert_true(slot != 0);
	c_nvr_cam_telnet(&F);
	o.data_in = F.b;
	o.data_size_in = (__u32)F.len;
	refill = run_refill(xdp, &o);
	assert_int_equal(o.retval, XDP_DROP);
	n = ev_drain_fd(cm.events);
	assert_true(n >= BH_EV_BURST && n <= BH_EV_BURST + 2 + refill);
	for (size_t i = 0; i < n; i++)
		sum += 1 + evs[i].suppressed;
	/* the rest wait in the slot's bucket; none by MAC */
	assert_int_equal(bpf_map_lookup_elem(cm.evslot, &slot, &b), 0);
	assert_int_equal(b.suppressed, 1000 - sum);
	assert_int_not_equal(bpf_map_lookup_elem(cm.evlimit, &nvr, &b), 0);

	/* the nvr leaves: its bucket goes by MAC, the slot's is zeroed */
	assert_int_equal(fixture_apply_yaml(&cm, fridge), 0);
	assert_int_equal(dev_slot(cm.devices, &nvr), 0);
	assert_int_equal(bpf_map_lookup_elem(cm.evlimit, &nvr, &b), 0);
	assert_int_equal(b.suppressed, 1000 - sum);
	assert_int_equal(bpf_map_lookup_elem(cm.evslot, &slot, &b), 0);
	assert_true(!b.suppressed && !b.last_ns && !b.credit_ns);

	/* a token later: one event, with everything the slot held */
	nanosleep(&ts, NULL);
	assert_int_equal(run_prog(cskel->progs.bulkhead_xdp, false, &F), 0);
	assert_int_equal(ev_drain_fd(cm.events), 1);
	sum += 1 + evs[0].suppressed;
	assert_int_equal(sum, 1001);

	/* drops by MAC, then the nvr joins again (a fresh slot): its first
	 * event takes what waits by MAC, nothing is stranded there */
	refill = run_refill(xdp, &o);
	n = ev_drain_fd(cm.events);
	for (size_t i = 0; i < n; i++)
		sum += 1 + evs[i].suppressed;
	assert_int_equal(bpf_map_lookup_elem(cm.evlimit, &nvr, &b), 0);
	assert_int_equal(sum + b.suppressed, 2001);
	assert_true(b.suppressed + BH_EV_BURST + 2 + refill >= 1000);
	c_apply_allow();
	assert_true(dev_slot(cm.devices, &nvr) != 0);
	assert_int_equal(run_prog(cskel->progs.bulkhead_xdp, false, &F), 0);
	assert_int_equal(ev_drain_fd(cm.events), 1);
	sum += 1 + evs[0].suppressed;
	assert_int_equal(sum, 2002);
	assert_int_equal(bpf_map_lookup_elem(cm.evlimit, &nvr, &b), 0);
	assert_int_equal(b.suppressed, 0);
}

static void test_cache_counters_exact(void **state)
{
	const __u32 n = 500;
	struct { builder build; __u32 reason; int rule; bool pass; } c[] = {
		{ c_nvr_cam_ack, BH_R_PASS_RULE, 0, true },
		{ c_cam_nvr_syn, BH_R_DROP_DEFAULT, -1, false },
	};

	(void)state;
	c_apply_allow();
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct bh_vc_slot slot;
		bool valid;

		LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = n);
		struct bh_counter rb = {}, ra = {}, sb, sa;
		struct bh_dev_stats db, da, lb, la;
		bool slotted;
		struct bh_active act;
		__u32 zero = 0, rk = 0;
		struct bh_evlimit *ev = calloc((size_t)ncpu, sizeof(*ev));
		struct bh_mac_key mk = {};
		__u64 evs_n, sup = 0;

		assert_non_null(ev);
		c[i].build(&F);
		memcpy(mk.mac, F.b + 6, 6);
		/* one run fills the slot: the n counted ones are all hits */
		cache_run(EP_XDP, &F, c[i].pass, c[i].reason, "first");
		slot = cache_slot(&F, &valid);
		assert_true(valid);
		clear_map_raw(cm.evlimit);
		clear_evslots(cm.evslot);
		ev_drain_fd(cm.events);
		assert_int_equal(bpf_map_lookup_elem(cm.active, &zero, &act), 0);
		if (c[i].rule >= 0)
			c[i].rule = (int)slot.val.rule_id;	/* the compiler's id */
		rk = (act.gen & 1) * BH_MAX_RULES + (__u32)(c[i].rule < 0 ? 0 : c[i].rule);
		bh_dp_counter(cm.stats, c[i].reason, &sb);
		if (c[i].rule >= 0)
			bh_dp_counter(cm.rulestats, rk, &rb);
		db = sum_devstats(cm.devices, cm.devctr, cm.devstats, &mk);
		lb = sum_devstats(-1, -1, cm.devstats, &mk);
		o.data_in = F.b;
		o.data_size_in = (__u32)F.len;
		assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(cskel->progs.bulkhead_xdp),
							&o), 0);
		assert_int_equal(o.retval, c[i].pass ? XDP_PASS : XDP_DROP);
		bh_dp_counter(cm.stats, c[i].reason, &sa);
		assert_int_equal(sa.packets - sb.packets, n);
		assert_int_equal(sa.bytes - sb.bytes, (__u64)n * F.len);
		if (c[i].rule >= 0) {
			bh_dp_counter(cm.rulestats, rk, &ra);
			assert_int_equal(ra.packets - rb.packets, n);
			assert_int_equal(ra.bytes - rb.bytes, (__u64)n * F.len);
		}
		da = sum_devstats(cm.devices, cm.devctr, cm.devstats, &mk);
		la = sum_devstats(-1, -1, cm.devstats, &mk);
		assert_int_equal(da.packets - db.packets, n);
		/* the policy's devices count in their slot, cache hits included;
		 * other MACs by MAC */
		slotted = dev_slot(cm.devices, &mk) != 0;
		assert_int_equal(la.packets - lb.packets, slotted ? 0 : n);
		assert_int_equal(da.bytes - db.bytes, (__u64)n * F.len);
		assert_int_equal(da.drops - db.drops, c[i].pass ? 0 : n);
		/* drops: events + suppressed = drops, the burst as events */
		evs_n = ev_drain_fd(cm.events);
		if (!c[i].pass) {
			assert_int_equal(ev_bucket(cm.devices, cm.evslot, cm.evlimit, &mk, ev), 0);
			sup = ev[0].suppressed;
			/* a policy device's bucket is its slot's: nothing by MAC */
			if (slotted)
				assert_int_not_equal(bpf_map_lookup_elem(cm.evlimit, &mk, ev), 0);
			assert_true(evs_n >= BH_EV_BURST && evs_n <= BH_EV_BURST + 2);
			assert_int_equal(evs_n + sup, n);
		} else {
			assert_int_equal(evs_n, 0);
		}
		free(ev);
	}
}

int verdict_cache_tests(void)
{
	static const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_cache_allowed_refreshes_ct),
		cmocka_unit_test(test_cache_counters_exact),
		cmocka_unit_test(test_device_slots_survive_apply),
		cmocka_unit_test(test_event_bucket_survives_leaving),
	};
	size_t n_rows = sizeof(crows) / sizeof(crows[0]);
	size_t n = n_rows + sizeof(extra) / sizeof(extra[0]);
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int ret;

	if (!tests)
		return 1;
	for (size_t i = 0; i < n_rows; i++) {
		tests[i].name = crows[i].name;
		tests[i].test_func = cache_row;
		tests[i].initial_state = (void *)&crows[i];
	}
	memcpy(tests + n_rows, extra, sizeof(extra));
	ret = _cmocka_run_group_tests("verdict cache", tests, n, cache_setup, cache_teardown);
	free(tests);
	return ret;
}
