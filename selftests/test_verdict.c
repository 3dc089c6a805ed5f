// SPDX-License-Identifier: GPL-2.0
/*
 * test_verdict.c - the verdict core (bpf/verdict.h) through
 * BPF_PROG_TEST_RUN, table-driven. The policy is written by hand into the
 * maps with the ABI structs of bulkhead_abi.h (no compiler involved), so a
 * failure here is the dataplane's. Every row is one named cmocka test: a
 * frame, the verdict and the reason it must get; it runs through native XDP
 * (bulkhead_xdp) and tc ingress (bulkhead_tc_in), each time asserting the
 * return code, that bh_stats[reason] rose by exactly one and no other
 * reason counter moved, and (where given) that the deciding rule's
 * bh_rulestats counter rose by one. Stateful rows (replies, later
 * fragments) first send their opening frames through the same program,
 * with bh_ct and bh_frag cleared before each program, so each entry point
 * proves the state it needs on its own.
 *
 * Build: make build/selftests/test_verdict; run with
 * CMOCKA_MESSAGE_OUTPUT=TAP for TAP output.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "bulkhead_abi.h"
#include "bulkhead.skel.h"
#include "fixture.h"
#include "frames.h"

/* ---- the network ------------------------------------------------------------ */

#define GWMAC	"02:00:00:00:00:01"
#define CAM	"02:00:00:00:00:11"
#define NVR	"02:00:00:00:00:21"
#define FRIDGE	"02:00:00:00:00:31"
#define LAPTOP	"02:00:00:00:00:41"
#define STRANGER "02:00:00:00:00:99"	/* a MAC in no group: the unknown group */
#define BCAST	"ff:ff:ff:ff:ff:ff"
#define ZMAC	"00:00:00:00:00:00"

#define GW4	"192.168.50.1"
#define CAM4	"192.168.50.11"
#define NVR4	"192.168.50.21"
#define FRIDGE4	"192.168.50.31"
#define LAPTOP4	"192.168.50.41"
#define GW6	"fd00:50::1"
#define CAM6	"fd00:50::11"
#define NVR6	"fd00:50::21"
#define LAPTOP6	"fd00:50::41"

enum { G_CAMERAS, G_NVR, G_FRIDGE, G_LAPTOP, G_UNKNOWN, N_GROUPS };

/* rule ids of the hand-written policy (index into bh_rulestats) */
enum {
	RULE_NVR_CAM_RTSP,	/* 0: nvr -> cameras tcp/554 allow */
	RULE_LAPTOP_NVR_TCP,	/* 1: laptop -> nvr tcp allow */
	RULE_LAPTOP_CAM_TELNET,	/* 2: laptop -> cameras tcp/23 deny */
	RULE_LAPTOP_CAM_ANY,	/* 3: laptop -> cameras any allow */
	RULE_CAM_CLOUD,		/* 4: cameras -> 203.0.113.0/24 tcp/443 allow */
	RULE_DNS,		/* 5: any -> gateway udp+tcp/53 allow */
	RULE_DHCP,		/* 6: any -> gateway udp/67 allow */
	RULE_LAPTOP_MDNS,	/* 7: laptop -> multicast udp/5353 allow */
};

/* gen 1's own rule ids (the generation flip test) */
#define RULE1_FRIDGE_CAM_RTSP	0

static struct bulkhead_bpf *skel;
static int ncpu;
static struct {
	int active, config, groups, devices, ips, policy, inet, talk;
	int gw_mac, gw_ip, lan, quarantine, ct, frag, stats, rulestats, devstats, devctr;
	int events, evlimit, evcpu, vepoch, vcache, clock, evslot, port, macport, claim;
} fd;

/* ---- address helpers ---------------------------------------------------------- */

/* "a.b.c.d" as v4-mapped, or an IPv6 address, into 16 bytes */
static void addr16(const char *s, __u8 out[16])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static struct bh_mac_key mac_key(const char *s)
{
	struct bh_mac_key k = {};

	mac_of(s, k.mac);
	return k;
}

/* ---- writing the policy by hand ----------------------------------------------- */

/*
 * Every hand-written change is followed by what the controller does after
 * its own writes: bump bh_vepoch, so no cached verdict outlives it.
 */
static void invalidate(void)
{
	__u32 zero = 0, v = 0;

	if (bpf_map_lookup_elem(fd.vepoch, &zero, &v))
		fail_msg("bh_vepoch: %s", strerror(errno));
	v++;
	if (bpf_map_update_elem(fd.vepoch, &zero, &v, BPF_ANY))
		fail_msg("bh_vepoch: %s", strerror(errno));
}

static void upd(int map, const void *k, const void *v)
{
	if (bpf_map_update_elem(map, k, v, BPF_ANY))
		fail_msg("map update: %s", strerror(errno));
	invalidate();
}

static void put_group(__u32 gen, __u16 g, __u8 internet)
{
	__u32 k = gen * BH_MAX_GROUPS + g;
	struct bh_group v = { .internet = internet, .valid = 1 };

	upd(fd.groups, &k, &v);
}

static void put_device(__u32 gen, const char *mac, __u16 group, __u16 flags, __u32 id)
{
	struct bh_dev_key k = { .gen = (__u8)gen };
	struct bh_dev_val v = { .group = group, .flags = flags, .ctr_slot = id };

	mac_of(mac, k.mac);
	upd(fd.devices, &k, &v);
}

static void put_ip(__u32 gen, const char *addr, const char *mac, __u16 group)
{
	struct bh_ip_key k = { .gen = (__u8)gen };
	struct bh_ip_val v = { .group = group };

	addr16(addr, k.addr);
	mac_of(mac, v.mac);
	upd(fd.ips, &k, &v);
}

static void put_pol(__u32 gen, __u16 sg, __u16 dg, __u8 proto, __u16 port, __u8 action,
		    __u32 rule)
{
	struct bh_pol_key k = { .gen = (__u8)gen, .proto = proto, .port = port,
				.sgroup = sg, .dgroup = dg };
	struct bh_pol_val v = { .action = action, .rule_id = rule };

	upd(fd.policy, &k, &v);
}

static void put_talk(__u32 gen, __u16 a, __u16 b)
{
	struct bh_talk_key k = { .gen = (__u8)gen, .ga = a, .gb = b };
	__u8 one = 1;

	upd(fd.talk, &k, &one);
	k.ga = b;
	k.gb = a;
	upd(fd.talk, &k, &one);
	/* as the compiler writes: each talks to some group */
	k.gb = BH_GRP_SOME;
	upd(fd.talk, &k, &one);
	k.ga = a;
	upd(fd.talk, &k, &one);
}

static void put_config(__u32 gen, __u32 flags, __u32 epoch)
{
	struct bh_config c = { .flags = flags, .unknown_group = G_UNKNOWN,
			       .qallow = BH_SVC_DHCP | BH_SVC_DNS, .epoch = epoch,
			       .abi_version = BH_ABI_VERSION };

	upd(fd.config, &gen, &c);
}

static void set_active(__u32 gen, __u32 epoch)
{
	struct bh_active a = { .gen = gen, .epoch = epoch };
	__u32 zero = 0;

	upd(fd.active, &zero, &a);
}

/* groups, devices, bound addresses: the same in both generations */
static void put_members(__u32 gen)
{
	put_group(gen, G_CAMERAS, BH_ACT_DENY);
	put_group(gen, G_NVR, BH_ACT_ALLOW);
	put_group(gen, G_FRIDGE, BH_ACT_ALLOW);
	put_group(gen, G_LAPTOP, BH_ACT_ALLOW);
	put_group(gen, G_UNKNOWN, BH_ACT_ALLOW);

	put_device(gen, CAM, G_CAMERAS, BH_DEV_HAS_V4 | BH_DEV_HAS_V6, 1);
	put_device(gen, NVR, G_NVR, BH_DEV_HAS_V4 | BH_DEV_HAS_V6, 2);
	put_device(gen, FRIDGE, G_FRIDGE, BH_DEV_HAS_V4, 3);
	put_device(gen, LAPTOP, G_LAPTOP, BH_DEV_HAS_V4 | BH_DEV_HAS_V6, 4);

	put_ip(gen, CAM4, CAM, G_CAMERAS);
	put_ip(gen, NVR4, NVR, G_NVR);
	put_ip(gen, FRIDGE4, FRIDGE, G_FRIDGE);
	put_ip(gen, LAPTOP4, LAPTOP, G_LAPTOP);
	put_ip(gen, CAM6, CAM, G_CAMERAS);
	put_ip(gen, NVR6, NVR, G_NVR);
	put_ip(gen, LAPTOP6, LAPTOP, G_LAPTOP);
}

/* generation 0: the policy of the brief */
static void write_policy_a(void)
{
	struct bh_inet_key ik = { .prefixlen = BH_INET_KEY_HDR_BITS + 96 + 24, .gen = 0,
				  .sgroup = G_CAMERAS };
	struct bh_inet_val iv = { .dgroup = BH_GRP_CIDR_BASE };

	put_members(0);
	put_pol(0, G_NVR, G_CAMERAS, IPPROTO_TCP, 554, BH_ACT_ALLOW, RULE_NVR_CAM_RTSP);
	put_pol(0, G_LAPTOP, G_NVR, IPPROTO_TCP, BH_PORT_ANY, BH_ACT_ALLOW, RULE_LAPTOP_NVR_TCP);
	/* folded deny-wins: the tcp/23 point is covered by rules 2 (deny) and 3 */
	put_pol(0, G_LAPTOP, G_CAMERAS, IPPROTO_TCP, 23, BH_ACT_DENY, RULE_LAPTOP_CAM_TELNET);
	put_pol(0, G_LAPTOP, G_CAMERAS, BH_PROTO_ANY, BH_PORT_ANY, BH_ACT_ALLOW, RULE_LAPTOP_CAM_ANY);
	addr16("203.0.113.0", ik.addr);
	upd(fd.inet, &ik, &iv);
	put_pol(0, G_CAMERAS, BH_GRP_CIDR_BASE, IPPROTO_TCP, 443, BH_ACT_ALLOW, RULE_CAM_CLOUD);
	for (__u16 g = 0; g < N_GROUPS; g++) {
		put_pol(0, g, BH_GRP_GATEWAY, IPPROTO_UDP, 53, BH_ACT_ALLOW, RULE_DNS);
		put_pol(0, g, BH_GRP_GATEWAY, IPPROTO_TCP, 53, BH_ACT_ALLOW, RULE_DNS);
		put_pol(0, g, BH_GRP_GATEWAY, IPPROTO_UDP, 67, BH_ACT_ALLOW, RULE_DHCP);
	}
	put_pol(0, G_LAPTOP, BH_GRP_MULTICAST, IPPROTO_UDP, 5353, BH_ACT_ALLOW, RULE_LAPTOP_MDNS);
	put_talk(0, G_LAPTOP, G_NVR);
	put_talk(0, G_NVR, G_CAMERAS);
	put_talk(0, G_LAPTOP, G_CAMERAS);
	put_config(0, BH_CFG_VALID, 1);
}

/* generation 1: the fridge may reach the camera's RTSP, nothing else */
static void write_policy_b(void)
{
	put_members(1);
	put_pol(1, G_FRIDGE, G_CAMERAS, IPPROTO_TCP, 554, BH_ACT_ALLOW, RULE1_FRIDGE_CAM_RTSP);
	put_talk(1, G_FRIDGE, G_CAMERAS);
	put_config(1, BH_CFG_VALID, 2);
}

/* the gateway: MAC, LAN addresses and prefixes (generation independent) */
static void write_gateway(void)
{
	struct bh_mac_key mk = mac_key(GWMAC);
	struct bh_addr_key ak;
	struct bh_lan_key lk = { .prefixlen = 96 + 24 };
	__u32 one = 1;

	upd(fd.gw_mac, &mk, &one);
	addr16(GW4, ak.addr);
	upd(fd.gw_ip, &ak, &one);
	addr16(GW6, ak.addr);
	upd(fd.gw_ip, &ak, &one);
	addr16("192.168.50.0", lk.addr);
	upd(fd.lan, &lk, &one);
	lk.prefixlen = 64;
	addr16("fd00:50::", lk.addr);
	upd(fd.lan, &lk, &one);
}

/* delete every entry of a hash map, as the kernel's LRU would: no epoch bump */
static void clear_map_raw(int map)
{
	__u8 next[64];

	while (!bpf_map_get_next_key(map, NULL, next))
		if (bpf_map_delete_elem(map, next))
			fail_msg("map delete: %s", strerror(errno));
}

/* ... and as a controller write */
static void clear_map(int map, size_t key_size)
{
	assert_true(key_size <= 64);
	clear_map_raw(map);
	invalidate();
}

static void clear_state(void)
{
	clear_map(fd.ct, sizeof(struct bh_ct_key));
	clear_map(fd.frag, sizeof(struct bh_frag_key));
	clear_map(fd.claim, sizeof(struct bh_addr_key));
}

static void quarantine(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);
	struct bh_quar_val v = { .since = 1 };

	upd(fd.quarantine, &k, &v);
}

static void release(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);

	bpf_map_delete_elem(fd.quarantine, &k);
	invalidate();
}

/* ---- counters ------------------------------------------------------------------- */

static struct bh_counter percpu_counter(int map, __u32 key)
{
	struct bh_counter *v = calloc((size_t)ncpu, sizeof(*v)), sum = {};

	assert_non_null(v);
	if (bpf_map_lookup_elem(map, &key, v))
		fail_msg("counter %u: %s", key, strerror(errno));
	for (int i = 0; i < ncpu; i++) {
		sum.packets += v[i].packets;
		sum.bytes += v[i].bytes;
	}
	free(v);
	return sum;
}

static __u64 reason_count(__u32 reason)
{
	return percpu_counter(fd.stats, reason).packets;
}

static __u64 rule_count(__u32 gen, __u32 rule)
{
	return percpu_counter(fd.rulestats, gen * BH_MAX_RULES + rule).packets;
}

/* add the per-CPU counters at @key of @map (if any) into @sum */
static void add_devstats(int map, const void *key, struct bh_dev_stats *sum)
{
	struct bh_dev_stats *v = calloc((size_t)ncpu, sizeof(*v));

	assert_non_null(v);
	if (!bpf_map_lookup_elem(map, key, v)) {
		for (int i = 0; i < ncpu; i++) {
			sum->packets += v[i].packets;
			sum->bytes += v[i].bytes;
			sum->drops += v[i].drops;
			if (v[i].last_seen > sum->last_seen)
				sum->last_seen = v[i].last_seen;
		}
	}
	free(v);
}

/* a MAC's bh_devctr slot (the same in both generations), 0 for none */
static __u32 dev_slot(int devices, const struct bh_mac_key *k)
{
	struct bh_dev_key dk = {};
	struct bh_dev_val dv;

	memcpy(dk.mac, k->mac, 6);
	for (int g = 0; g < 2; g++) {
		dk.gen = (__u8)g;
		if (!bpf_map_lookup_elem(devices, &dk, &dv) && dv.ctr_slot)
			return dv.ctr_slot;
	}
	return 0;
}

/* a MAC's counters in its bh_devctr slot */
static struct bh_dev_stats slot_devstats(int devices, int devctr, const struct bh_mac_key *k)
{
	struct bh_dev_stats sum = {};
	__u32 slot = dev_slot(devices, k);

	if (slot)
		add_devstats(devctr, &slot, &sum);
	return sum;
}

/* a MAC's counters as the readers add them: its slot and its bh_devstats entry */
static struct bh_dev_stats sum_devstats(int devices, int devctr, int devstats,
					const struct bh_mac_key *k)
{
	struct bh_dev_stats sum = slot_devstats(devices, devctr, k);

	add_devstats(devstats, k, &sum);
	return sum;
}

/* a MAC's deny event bucket: at its counter slot, else in bh_evlimit; 0 when found */
static int ev_bucket(int devices, int evslot, int evlimit, const struct bh_mac_key *k,
		     struct bh_evlimit *b)
{
	__u32 slot = dev_slot(devices, k);

	return slot ? bpf_map_lookup_elem(evslot, &slot, b) : bpf_map_lookup_elem(evlimit, k, b);
}

/* zero every slot's deny event bucket, as a fresh load has them */
static void clear_evslots(int evslot)
{
	struct bh_evlimit z = {};

	for (__u32 i = 0; i < BH_MAX_DEVCTR; i++)
		assert_int_equal(bpf_map_update_elem(evslot, &i, &z, BPF_ANY), 0);
}

static struct bh_dev_stats dev_stats(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);

	return sum_devstats(fd.devices, fd.devctr, fd.devstats, &k);
}

/* only what bh_devstats holds for @mac (by MAC, not by slot) */
static struct bh_dev_stats lru_stats(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);
	struct bh_dev_stats sum = {};

	add_devstats(fd.devstats, &k, &sum);
	return sum;
}

#define REASON_ID(id, name)	[BH_R_##id] = #id,
static const char *const reason_name[BH_R_MAX] = { BH_REASONS(REASON_ID) };

/* ---- running a frame --------------------------------------------------------------- */

enum ep { EP_XDP, EP_TC, EP_N };
static const char *const ep_name[EP_N] = { "xdp", "tc" };

static struct bpf_program *ep_prog(enum ep ep)
{
	return ep == EP_XDP ? skel->progs.bulkhead_xdp : skel->progs.bulkhead_tc_in;
}

/* Run @f through a program: 1 pass, 0 drop; fails on errors and other codes. */
static int run_prog(struct bpf_program *prog, bool tc, const struct frame *f)
{
	struct __sk_buff skb = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .repeat = 1);
	int ret;

	if (tc) {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (ret)
		fail_msg("%s: BPF_PROG_TEST_RUN of a %zu-byte frame: %s",
			 bpf_program__name(prog), f->len, strerror(errno));
	if (tc) {
		if (opts.retval == (__u32)TC_ACT_UNSPEC)
			return 1;
		if (opts.retval == TC_ACT_SHOT)
			return 0;
	} else {
		if (opts.retval == XDP_PASS)
			return 1;
		if (opts.retval == XDP_DROP)
			return 0;
	}
	fail_msg("%s: unexpected return code %d", bpf_program__name(prog), (int)opts.retval);
	return -1;
}

static int run_ep(enum ep ep, const struct frame *f)
{
	return run_prog(ep_prog(ep), ep == EP_TC, f);
}

/*
 * Run @f through @ep and check: verdict @pass, bh_stats[@reason] +1 and no
 * other reason counter moved, and when @rule >= 0, rule counter +1.
 */
#define CHECK_FAIL(fmt, ...) fail_msg(fmt, __VA_ARGS__)

static void check_run(enum ep ep, const struct frame *f, int pass, __u32 reason,
		      int rule, const char *what)
{
	__u64 before[BH_R_MAX], after[BH_R_MAX], rb = 0, ra;
	__u32 gen = 0, zero = 0;
	struct bh_active act;
	int got;

	if (rule >= 0) {
		assert_int_equal(bpf_map_lookup_elem(fd.active, &zero, &act), 0);
		gen = act.gen & 1;
		rb = rule_count(gen, (__u32)rule);
	}
	for (__u32 r = 0; r < BH_R_MAX; r++)
		before[r] = reason_count(r);
	got = run_ep(ep, f);
	for (__u32 r = 0; r < BH_R_MAX; r++)
		after[r] = reason_count(r);
	if (got != pass || after[reason] != before[reason] + 1) {
		char moved[256] = "";
		size_t n = 0;

		for (__u32 r = 0; r < BH_R_MAX; r++)
			if (after[r] != before[r] && n < sizeof(moved))
				n += (size_t)snprintf(moved + n, sizeof(moved) - n, " %s+%llu",
						      reason_name[r],
						      (unsigned long long)(after[r] - before[r]));
		CHECK_FAIL("%s: %s: expected %s %s, got %s; counters moved:%s", ep_name[ep], what,
			 pass ? "PASS" : "DROP", reason_name[reason], got ? "PASS" : "DROP",
			 n ? moved : " none");
	}
	for (__u32 r = 0; r < BH_R_MAX; r++)
		if (r != reason && after[r] != before[r])
			CHECK_FAIL("%s: %s: %s moved too (+%llu)", ep_name[ep], what, reason_name[r],
				 (unsigned long long)(after[r] - before[r]));
	if (rule >= 0) {
		ra = rule_count(gen, (__u32)rule);
		if (ra != rb + 1)
			CHECK_FAIL("%s: %s: rule %d counter rose by %lld, expected 1", ep_name[ep],
				 what, rule, (long long)(ra - rb));
	}
}

/* ---- the table --------------------------------------------------------------------- */

typedef void (*builder)(struct frame *f);

struct step {
	builder build;
	int pass;
	__u32 reason;
};

struct row {
	const char *name;
	builder build;
	int pass;		/* 1 pass, 0 drop */
	__u32 reason;		/* enum bh_reason */
	int rule;		/* RULE(n): the deciding rule's counter must rise; 0: unchecked */
	void (*pre)(void);	/* before the row (quarantine, config changes) */
	void (*post)(void);	/* after it, also when it failed; with mid, also
				 * before each program's run, to undo mid */
	struct step prelude[3];	/* frames sent first, through the same program */
	void (*mid)(void);	/* between the prelude and the frame */
};
#define RULE(n)	((n) + 1)

static struct frame F;

/* Run one row through both programs, state cleared before each. */
static void run_row(const struct row *r)
{
	for (int ep = 0; ep < EP_N; ep++) {
		if (r->mid && r->post)
			r->post();
		clear_state();
		for (int i = 0; i < 3 && r->prelude[i].build; i++) {
			char what[160];

			r->prelude[i].build(&F);
			snprintf(what, sizeof(what), "opening frame %d", i + 1);
			check_run((enum ep)ep, &F, r->prelude[i].pass, r->prelude[i].reason, -1, what);
		}
		if (r->mid)
			r->mid();
		r->build(&F);
		check_run((enum ep)ep, &F, r->pass, r->reason, r->rule - 1, "frame");
	}
}

static int row_setup(void **state)
{
	const struct row *r = *state;

	if (r->pre)
		r->pre();
	return 0;
}

static int row_teardown(void **state)
{
	const struct row *r = *state;

	if (r->post)
		r->post();
	return 0;
}

static void row_test(void **state)
{
	run_row(*state);
}

/* ---- frame builders ------------------------------------------------------------------ */

#define FIN	0x01
#define SYN	0x02
#define RST	0x04
#define ACK	0x10
#define SYNACK	(SYN | ACK)

static void tcp4(struct frame *f, const char *dmac, const char *smac, const char *src,
		 const char *dst, uint16_t sp, uint16_t dp, uint8_t flags)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_TCP, 0, 1, 0);
	tcp(f, sp, dp, flags);
	fin(f);
}

static void udp4(struct frame *f, const char *dmac, const char *smac, const char *src,
		 const char *dst, uint16_t sp, uint16_t dp)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_UDP, 0, 1, 0);
	udp(f, sp, dp);
	payload(f, 16);
	fin(f);
}

static void icmp4(struct frame *f, const char *dmac, const char *smac, const char *src,
		  const char *dst, uint8_t type, uint16_t id)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_ICMP, 0, 1, 0);
	icmp(f, type, 0, id);
	payload(f, 32);
	fin(f);
}

static void tcp6(struct frame *f, const char *dmac, const char *smac, const char *src,
		 const char *dst, uint16_t sp, uint16_t dp, uint8_t flags)
{
	eth(f, dmac, smac, 0x86dd);
	ipv6(f, src, dst, IPPROTO_TCP);
	tcp(f, sp, dp, flags);
	fin(f);
}

static void arp4(struct frame *f, const char *dmac, const char *smac, uint16_t op,
		 const char *sha, const char *spa, const char *tha, const char *tpa)
{
	eth(f, dmac, smac, 0x0806);
	arp(f, op, sha, spa, tha, tpa);
	fin(f);
}

/* an ICMP error from @smac/@src to @dst quoting a UDP datagram @qsrc:@qsp -> @qdst:@qdp */
static void icmp4_err(struct frame *f, const char *dmac, const char *smac, const char *src,
		      const char *dst, uint8_t type, uint8_t code, const char *qsrc,
		      const char *qdst, uint8_t qproto, uint16_t qsp, uint16_t qdp)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_ICMP, 0, 2, 0);
	icmp(f, type, code, 0);
	ipv4_quoted(f, qsrc, qdst, qproto, 20 + 8 + 16);
	put16(f, qsp);
	put16(f, qdp);
	put16(f, 8 + 16);
	put16(f, 0);
	fin(f);
}

#define B(fn, ...) static void fn(struct frame *f) { __VA_ARGS__; }

/* east-west, stateful */
B(f_nvr_cam_syn, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 554, SYN))
B(f_cam_nvr_synack, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, SYNACK))
B(f_cam_nvr_ack, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, ACK))
B(f_cam_nvr_syn_same_tuple, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, SYN))
B(f_cam_nvr_syn, tcp4(f, NVR, CAM, CAM4, NVR4, 41000, 554, SYN))
B(f_cam_nvr_ack_untracked, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40999, ACK))
B(f_nvr_cam_syn_80, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 80, SYN))
B(f_fridge_cam_syn, tcp4(f, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 554, SYN))
B(f_laptop_nvr_ssh, tcp4(f, NVR, LAPTOP, LAPTOP4, NVR4, 40000, 22, SYN))
B(f_laptop_nvr_udp, udp4(f, NVR, LAPTOP, LAPTOP4, NVR4, 40000, 53))
B(f_laptop_cam_echo, icmp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 8, 77))
B(f_cam_laptop_echoreply, icmp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 0, 77))
B(f_cam_laptop_echoreply_other, icmp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 0, 78))
B(f_cam_laptop_echo, icmp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 8, 77))
B(f_laptop_cam_udp, udp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 5000, 9000))
B(f_cam_laptop_udp_reply, udp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 9000, 5000))
B(f_cam_laptop_udp_otherport, udp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 9000, 5001))
B(f_cam_laptop_port_unreach, icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, LAPTOP4, CAM4,
				       IPPROTO_UDP, 5000, 9000))
B(f_cam_laptop_port_unreach_untracked, icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, LAPTOP4,
						 CAM4, IPPROTO_UDP, 5001, 9000))
/* an error that quotes a packet the camera did not receive: forged */
B(f_cam_laptop_port_unreach_forged, icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, NVR4, CAM4,
					      IPPROTO_UDP, 5000, 9000))
/* a third party (the fridge) quoting the laptop's tracked flow to the camera */
B(f_fridge_laptop_port_unreach, icmp4_err(f, LAPTOP, FRIDGE, FRIDGE4, LAPTOP4, 3, 3, LAPTOP4,
					  CAM4, IPPROTO_UDP, 5000, 9000))
B(f_fridge_laptop_frag_needed, icmp4_err(f, LAPTOP, FRIDGE, FRIDGE4, LAPTOP4, 3, 4, LAPTOP4,
					 CAM4, IPPROTO_UDP, 5000, 9000))
B(f_cam_laptop_unreach_ihl6,	/* a quoted header with options is not read */
  icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, LAPTOP4, CAM4, IPPROTO_UDP, 5000, 9000);
  f->b[14 + 20 + 8] = 0x46)
B(f_cam_laptop_rst, tcp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 80, 40000, RST | ACK))
B(f_cam_laptop_fin, tcp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 80, 40000, FIN | ACK))
B(f_laptop_cam_echo6,
  eth(f, CAM, LAPTOP, 0x86dd); ipv6(f, LAPTOP6, CAM6, 58); icmp(f, 128, 0, 99); payload(f, 16);
  fin(f))
B(f_cam_laptop_echoreply6,
  eth(f, LAPTOP, CAM, 0x86dd); ipv6(f, CAM6, LAPTOP6, 58); icmp(f, 129, 0, 99); payload(f, 16);
  fin(f))
B(f_laptop_cam_udp6,
  eth(f, CAM, LAPTOP, 0x86dd); ipv6(f, LAPTOP6, CAM6, 17); udp(f, 5000, 9000); payload(f, 8);
  fin(f))
B(f_cam_laptop_unreach6,	/* ICMPv6 port unreachable quoting the laptop's datagram */
  eth(f, LAPTOP, CAM, 0x86dd); ipv6(f, CAM6, LAPTOP6, 58); icmp(f, 1, 4, 0);
  ipv6_quoted(f, LAPTOP6, CAM6, 17, 16); put16(f, 5000); put16(f, 9000); put16(f, 16);
  put16(f, 0); fin(f))
B(f_laptop_gw_dns, udp4(f, GWMAC, LAPTOP, LAPTOP4, GW4, 5353, 53))
B(f_laptop_stranger, tcp4(f, STRANGER, LAPTOP, LAPTOP4, "192.168.50.77", 40000, 80, SYN))
B(f_stranger_as_nvr, tcp4(f, CAM, STRANGER, NVR4, CAM4, 40000, 554, SYN))
B(f_laptop_arp_unlisted, arp4(f, BCAST, LAPTOP, 1, LAPTOP, LAPTOP4, ZMAC, "192.168.50.99"))
B(f_fridge_arp_unlisted, arp4(f, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, "192.168.50.99"))
B(f_laptop_ns_unlisted,
  eth(f, "33:33:ff:00:00:99", LAPTOP, 0x86dd); ipv6(f, LAPTOP6, "ff02::1:ff00:99", 58);
  nd(f, 135, "fd00:50::99"); fin(f))
B(f_fridge_ns_unlisted,
  eth(f, "33:33:ff:00:00:99", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:99", 58);
  nd(f, 135, "fd00:50::99"); fin(f))
/* the nvr's SYN-ACK... sent by the camera to the fridge's MAC (a poisoned cache) */
B(f_cam_synack_to_fridge, tcp4(f, FRIDGE, CAM, CAM4, NVR4, 554, 40000, SYNACK))
B(f_nvr_arp_unicast_qcam, arp4(f, CAM, NVR, 1, NVR, NVR4, CAM, CAM4))
B(f_laptop_mdns6,
  eth(f, "33:33:00:00:00:fb", LAPTOP, 0x86dd); ipv6(f, "fe80::41", "ff02::fb", 17);
  udp(f, 5353, 5353); payload(f, 16); fin(f))
B(f_fridge_mdns6,
  eth(f, "33:33:00:00:00:fb", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::fb", 17);
  udp(f, 5353, 5353); payload(f, 16); fin(f))
B(f_laptop_cam_gre,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, 47, 0, 1, 0); payload(f, 8); fin(f))
B(f_nvr_cam_gre,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, 47, 0, 1, 0); payload(f, 8); fin(f))
/* the IP length is the packet: Ethernet padding is not read as its headers */
B(f_udp_len4_padded,	/* IPv4 total length: 4 bytes of UDP; padded with a fake rest */
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0, 1, 0); put16(f, 5000);
  put16(f, 9000); fin_pad(f, 0x11))
B(f_tcp_totlen_short_padded,	/* total length 20 + 12: the flags byte is padding */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 0); put16(f, 40000);
  put16(f, 554); put32(f, 1); put32(f, 0); fin_pad(f, 0x52))
B(f6_plen_short_tcp,	/* payload length 8 of a 20-byte TCP header */
  tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN); f->b[14 + 4] = 0; f->b[14 + 5] = 8)
B(f6_plen_short_ext,	/* payload length ends inside the extension headers */
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 0); ext(f, 60, 0, 1); ext(f, 6, 1, 1);
  tcp(f, 40001, 554, SYN); fin(f); f->b[14 + 4] = 0; f->b[14 + 5] = 16)
B(f6_plen_zero,	/* payload length 0 (jumbogram / BIG TCP): bounded by the frame */
  tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN); f->b[14 + 4] = 0; f->b[14 + 5] = 0)
B(f6_ns_plen_short,	/* an NS whose payload length leaves out the target */
  eth(f, "33:33:ff:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:1", 58);
  nd(f, 135, GW6); fin(f); f->b[14 + 5] = 8)
B(f4_udp_padded_ok,	/* a short datagram, zero-padded as on the wire: fine */
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0, 1, 0); udp(f, 5000, 9000);
  fin_pad(f, 0xee))
B(f_laptop_cam_telnet, tcp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 40000, 23, SYN))
/* unicast IP destinations inside group-addressed frames */
B(f_laptop_bcast_to_fridge, udp4(f, BCAST, LAPTOP, LAPTOP4, FRIDGE4, 5353, 5353))
B(f_laptop_mcast_to_fridge, udp4(f, "01:00:5e:00:00:fb", LAPTOP, LAPTOP4, FRIDGE4, 5353, 5353))
B(f_fridge_bcast_udp67_to_cam, udp4(f, BCAST, FRIDGE, FRIDGE4, CAM4, 68, 67))
B(f_cam_bcast_udp67_to_nvr, udp4(f, BCAST, CAM, CAM4, NVR4, 68, 67))
/* a fragmented echo reply: the camera answers a big ping */
B(f_cam_laptop_echoreply_frag1,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_ICMP, 0x2000, 900, 0);
  icmp(f, 0, 0, 77); payload(f, 64); fin(f))
B(f_cam_laptop_echoreply_frag2,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_ICMP, 9, 900, 0);
  payload(f, 64); fin(f))
B(f_cam_laptop_udp_reply_frag1,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_UDP, 0x2000, 901, 0);
  udp(f, 9000, 5000); payload(f, 64); fin(f))
B(f_cam_laptop_udp_reply_frag2,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_UDP, 9, 901, 0); payload(f, 64);
  fin(f))
/* IPv6 fragments whose fragmentable part starts with destination options */
B(f6_frag_dst_first,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 60, 0, 1, 0x5151);
  ext(f, 6, 0, 1); tcp(f, 40000, 554, SYN); payload(f, 32); fin(f))
B(f6_frag_dst_later,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 60, 8, 0, 0x5151);
  payload(f, 32); fin(f))
B(f_laptop_cam_http, tcp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 40000, 80, SYN))
B(f_laptop_cam_telnet_ack, tcp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 40000, 23, ACK))
B(f_cam_laptop_telnet_synack, tcp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 23, 40000, SYNACK))

/* quarantine */
B(f_cam_cloud_443, tcp4(f, GWMAC, CAM, CAM4, "203.0.113.9", 40000, 443, SYN))
B(f_cam_gw_dns, udp4(f, GWMAC, CAM, CAM4, GW4, 5353, 53))
B(f_cam_gw_dns_tcp, tcp4(f, GWMAC, CAM, CAM4, GW4, 40000, 53, SYN))
B(f_cam_gw_ntp, udp4(f, GWMAC, CAM, CAM4, GW4, 123, 123))
B(f_cam_gw_ping, icmp4(f, GWMAC, CAM, CAM4, GW4, 8, 1))
B(f_cam_dhcp_discover,
  eth(f, BCAST, CAM, 0x0800); ipv4(f, "0.0.0.0", "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 68, 67); dhcp4(f, 1, CAM); fin(f))
B(f_nvr_cam_via_gw, tcp4(f, GWMAC, NVR, NVR4, CAM4, 40000, 554, SYN))
B(f_cam_arp_gw, arp4(f, BCAST, CAM, 1, CAM, CAM4, ZMAC, GW4))
B(f_cam_arp_nvr, arp4(f, BCAST, CAM, 1, CAM, CAM4, ZMAC, NVR4))
B(f_nvr_arp_cam, arp4(f, BCAST, NVR, 1, NVR, NVR4, ZMAC, CAM4))

/* internet, gateway */
B(f_cam_inet_80, tcp4(f, GWMAC, CAM, CAM4, "198.51.100.7", 40000, 80, SYN))
B(f_cam_cloud_80, tcp4(f, GWMAC, CAM, CAM4, "203.0.113.9", 40000, 80, SYN))
B(f_cam_cloud_443_outside, tcp4(f, GWMAC, CAM, CAM4, "203.0.114.9", 40000, 443, SYN))
B(f_laptop_inet_80, tcp4(f, GWMAC, LAPTOP, LAPTOP4, "198.51.100.7", 40000, 80, SYN))
B(f_laptop_cloud_443, tcp4(f, GWMAC, LAPTOP, LAPTOP4, "203.0.113.9", 40000, 443, SYN))
B(f_laptop_lan_unlisted, tcp4(f, GWMAC, LAPTOP, LAPTOP4, "192.168.50.99", 40000, 80, SYN))
B(f_laptop_nvr_via_gw, tcp4(f, GWMAC, LAPTOP, LAPTOP4, NVR4, 40000, 80, SYN))
B(f_fridge_gw_dns, udp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 5353, 53))
B(f_fridge_gw_dns_tcp, tcp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 40000, 53, SYN))
B(f_fridge_gw_ssh, tcp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 40000, 22, SYN))
B(f_fridge_dhcp_discover,
  eth(f, BCAST, FRIDGE, 0x0800); ipv4(f, "0.0.0.0", "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 68, 67); dhcp4(f, 1, FRIDGE); fin(f))
B(f_fridge_dhcp_request_unicast, udp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 68, 67))
B(f_stranger_inet, tcp4(f, GWMAC, STRANGER, "192.168.50.77", "198.51.100.7", 40000, 80, SYN))
B(f_stranger_cam, tcp4(f, CAM, STRANGER, "192.168.50.77", CAM4, 40000, 554, SYN))
B(f_stranger_gw_dns, udp4(f, GWMAC, STRANGER, "192.168.50.77", GW4, 5353, 53))

/* ARP */
B(f_laptop_arp_gw, arp4(f, BCAST, LAPTOP, 1, LAPTOP, LAPTOP4, ZMAC, GW4))
B(f_laptop_arp_nvr, arp4(f, BCAST, LAPTOP, 1, LAPTOP, LAPTOP4, ZMAC, NVR4))
B(f_nvr_arp_reply_laptop, arp4(f, LAPTOP, NVR, 2, NVR, NVR4, LAPTOP, LAPTOP4))
B(f_fridge_arp_cam, arp4(f, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, CAM4))
B(f_fridge_arp_as_cam, arp4(f, BCAST, FRIDGE, 2, FRIDGE, CAM4, BCAST, CAM4))
B(f_fridge_arp_as_gw, arp4(f, BCAST, FRIDGE, 2, FRIDGE, GW4, BCAST, GW4))
B(f_fridge_arp_sha_nvr, arp4(f, BCAST, FRIDGE, 1, NVR, FRIDGE4, ZMAC, GW4))
B(f_fridge_arp_garp, arp4(f, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, FRIDGE4))
B(f_cam_arp_from_99, arp4(f, BCAST, CAM, 1, CAM, "192.168.50.99", ZMAC, GW4))
B(f_fridge_arp_probe_cam, arp4(f, BCAST, FRIDGE, 1, FRIDGE, "0.0.0.0", ZMAC, CAM4))
B(f_fridge_arp_reply_gw, arp4(f, GWMAC, FRIDGE, 2, FRIDGE, FRIDGE4, GWMAC, GW4))
B(f_cam_arp_reply_gw, arp4(f, GWMAC, CAM, 2, CAM, CAM4, GWMAC, GW4))
B(f_fridge_arp_reply_cam, arp4(f, CAM, FRIDGE, 2, FRIDGE, FRIDGE4, CAM, CAM4))
B(f_arp_truncated,
  eth(f, BCAST, FRIDGE, 0x0806); arp(f, 1, FRIDGE, FRIDGE4, ZMAC, GW4); f->len = 14 + 20)
B(f_arp_rarp_op,
  eth(f, BCAST, FRIDGE, 0x0806); arp(f, 3, FRIDGE, FRIDGE4, ZMAC, GW4); fin(f))

/* IP spoofing */
B(f_fridge_as_cam, tcp4(f, NVR, FRIDGE, CAM4, NVR4, 40000, 554, SYN))
B(f_cam_from_99, tcp4(f, GWMAC, CAM, "192.168.50.99", "203.0.113.9", 40000, 443, SYN))
B(f_fridge_from_gw_ip, tcp4(f, CAM, FRIDGE, GW4, CAM4, 40000, 554, SYN))
B(f_src_gw_mac, tcp4(f, CAM, GWMAC, GW4, CAM4, 40000, 554, SYN))
B(f_src_group_mac, tcp4(f, CAM, "01:00:5e:00:00:01", NVR4, CAM4, 40000, 554, SYN))
B(f_nvr6_as_cam6, tcp6(f, LAPTOP, NVR, CAM6, LAPTOP6, 40000, 22, SYN))
B(f_nvr6_from_unbound, tcp6(f, CAM, NVR, "fd00:50::99", CAM6, 40000, 554, SYN))
B(f_nvr6_from_linklocal, tcp6(f, CAM, NVR, "fe80::21", "fe80::11", 40000, 554, SYN))

/* VLAN tags */
B(f_vid5, f_nvr_cam_syn(f); tag(f, 0x8100, 5))
B(f_prio_tag_pass, f_nvr_cam_syn(f); tag(f, 0x8100, 0x6000))
B(f_prio_tag_drop, f_fridge_cam_syn(f); tag(f, 0x8100, 0))
B(f_prio_tag_ad, f_nvr_cam_syn(f); tag(f, 0x88a8, 0x2000))
B(f_qinq, f_nvr_cam_syn(f); tag(f, 0x8100, 0); tag(f, 0x88a8, 0))
B(f_qinq_vid, f_nvr_cam_syn(f); tag(f, 0x8100, 7); tag(f, 0x88a8, 100))
B(f_prio_arp_spoof, f_fridge_arp_as_cam(f); tag(f, 0x8100, 0))

/* malformed */
B(f_trunc_tag, eth(f, CAM, NVR, 0x8100); put16(f, 0))
B(f_trunc_ipv4,	/* a full 20-byte header claiming IHL 6 that does not fit */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 0); f->b[14] = 0x46;
  fin_short(f))
B(f_trunc_ipv4_short_xdp, eth(f, CAM, NVR, 0x0800); put16(f, 0x4500); put16(f, 0))
B(f_trunc_tcp,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 0); tcp(f, 40000, 554, SYN);
  f->len -= 10; fin_short(f))
B(f_trunc_udp,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0, 1, 0); put16(f, 5000);
  put16(f, 9000); fin_short(f))
B(f_tcp_doff4, f_nvr_cam_syn(f); f->b[14 + 20 + 12] = 0x40)
B(f_ihl4, f_nvr_cam_syn(f); f->b[14] = 0x44)
B(f_ihl15, f_nvr_cam_syn(f); f->b[14] = 0x4f; f->len = 14 + 40)
B(f_ipv4_version6, f_nvr_cam_syn(f); f->b[14] = 0x65)
B(f_ipv4_totlen_short, f_nvr_cam_syn(f); f->b[16] = 0; f->b[17] = 16)
B(f_ipv4_options,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 2); tcp(f, 40000, 554, SYN);
  fin(f))
B(f_ipv4_options_drop,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_TCP, 0, 1, 10);
  tcp(f, 40000, 554, SYN); fin(f))
B(f_ipv6_trunc, eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, IPPROTO_TCP); f->len -= 8;
  fin_short(f))
B(f_ipv6_trunc_tcp, tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN); f->len -= 4; fin_short(f))
B(f_icmp_trunc,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_ICMP, 0, 1, 0); put16(f, 0x0800);
  fin_short(f))

/* IPv6 */
B(f6_nvr_cam_syn, tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN))
B(f6_cam_nvr_synack, tcp6(f, NVR, CAM, CAM6, NVR6, 554, 40000, SYNACK))
B(f6_nvr_cam_80, tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 80, SYN))
B(f6_hbh_dst_pass,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 0); ext(f, 60, 0, 1); ext(f, 6, 1, 1);
  tcp(f, 40001, 554, SYN); fin(f))
B(f6_hbh_dst_drop,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 0); ext(f, 60, 0, 1); ext(f, 6, 1, 1);
  tcp(f, 40001, 80, SYN); fin(f))
B(f6_dst9,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60);
  for (int i = 0; i < 9; i++) ext(f, i == 8 ? 6 : 60, 0, 1);
  tcp(f, 40002, 554, SYN); fin(f))
B(f6_dst8,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60);
  for (int i = 0; i < 8; i++) ext(f, i == 7 ? 6 : 60, 0, 1);
  tcp(f, 40002, 554, SYN); fin(f))
B(f6_rh0,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 43); ext(f, 6, 2, 0); tcp(f, 40003, 554, SYN);
  fin(f))
B(f6_hdr_too_long,	/* 1 KiB of dst options: past what the parser judges */
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60); ext(f, 6, 127, 1);
  tcp(f, 40003, 554, SYN); fin(f))
B(f6_ext_trunc,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60); put32(f, 0x06000000); fin_short(f))
B(f6_frag_first,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 0, 1, 0xabcd);
  tcp(f, 40000, 554, SYN); payload(f, 32); fin(f))
B(f6_frag_later,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 7, 0, 0xabcd); payload(f, 32);
  fin(f))
B(f6_frag_later_other_id,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 7, 0, 0xdead); payload(f, 32);
  fin(f))
B(f6_frag_first_denied,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 0, 1, 0xbeef);
  tcp(f, 40000, 80, SYN); payload(f, 32); fin(f))
B(f6_frag_later_of_denied,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 7, 0, 0xbeef); payload(f, 32);
  fin(f))
B(f6_atomic_frag,	/* offset 0, M=0 (RFC 6946): judged as a whole packet */
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 0, 0, 0x1111);
  tcp(f, 40000, 554, SYN); fin(f))

/* IPv4 fragments */
B(f4_frag_first,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0x2000, 4242, 0);
  tcp(f, 40000, 554, SYN); payload(f, 20); fin(f))
B(f4_frag_later,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 5, 4242, 0); payload(f, 32); fin(f))
B(f4_frag_later_other_id,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 5, 4243, 0); payload(f, 32); fin(f))
B(f4_frag_later_fridge,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_UDP, 5, 999, 0); payload(f, 32);
  fin(f))
B(f4_frag_first_short_tcp,	/* 8 bytes of TCP header, frame cut there */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0x2000, 4343, 0);
  put16(f, 40000); put16(f, 554); put32(f, 1); fin_short(f))
B(f4_frag_first_short_tcp_padded,	/* the same as on the wire: padded to 60 bytes */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0x2000, 4344, 0);
  put16(f, 40000); put16(f, 554); put32(f, 1); fin_pad(f, 0x55))
B(f4_frag_tiny_overlap,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 1, 4242, 0); payload(f, 32); fin(f))
B(f4_frag_udp_first,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0x2000, 777, 0);
  udp(f, 5000, 9000); payload(f, 24); fin(f))
B(f4_frag_udp_later,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 4, 777, 0); payload(f, 24);
  fin(f))
B(f4_frag_first_denied,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_TCP, 0x2000, 4545, 0);
  tcp(f, 40000, 554, SYN); payload(f, 20); fin(f))
B(f4_frag_later_of_denied,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_TCP, 5, 4545, 0); payload(f, 32);
  fin(f))
B(f4_frag_later_spoofed,	/* the fridge sending a later fragment as the nvr */
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 5, 4242, 0); payload(f, 32);
  fin(f))

/* ND, RA, rogue servers */
B(f_fridge_ns_gw,
  eth(f, "33:33:ff:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:1", 58);
  nd(f, 135, GW6); fin(f))
B(f_nvr_ns_cam,
  eth(f, "33:33:ff:00:00:11", NVR, 0x86dd); ipv6(f, NVR6, "ff02::1:ff00:11", 58);
  nd(f, 135, CAM6); fin(f))
B(f_fridge_ns_cam,
  eth(f, "33:33:ff:00:00:11", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:11", 58);
  nd(f, 135, CAM6); fin(f))
B(f_fridge_ns_dad,
  eth(f, "33:33:ff:00:00:31", FRIDGE, 0x86dd); ipv6(f, "::", "ff02::1:ff00:31", 58);
  nd(f, 135, "fe80::31"); fin(f))
B(f_cam_na_nvr,
  eth(f, NVR, CAM, 0x86dd); ipv6(f, CAM6, NVR6, 58); nd(f, 136, CAM6); fin(f))
B(f_cam_na_gw,
  eth(f, GWMAC, CAM, 0x86dd); ipv6(f, CAM6, GW6, 58); nd(f, 136, CAM6); fin(f))
B(f_fridge_na_as_cam,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  nd(f, 136, CAM6); fin(f))
B(f_fridge_na_as_gw,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  nd(f, 136, GW6); fin(f))
B(f_cam_na_unbound,	/* the camera (HAS_V6) claiming an address not bound to it */
  eth(f, "33:33:00:00:00:01", CAM, 0x86dd); ipv6(f, "fe80::11", "ff02::1", 58);
  nd(f, 136, "fd00:50::99"); fin(f))
B(f_ns_no_target,
  eth(f, "33:33:ff:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:1", 58);
  icmp(f, 135, 0, 0); fin_short(f))
B(f_fridge_ra,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58); ra(f);
  fin(f))
B(f_fridge_redirect,
  eth(f, NVR, FRIDGE, 0x86dd); ipv6(f, "fe80::31", "fe80::21", 58); nd(f, 137, GW6);
  put(f, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16); fin(f))
B(f_fridge_rs,
  eth(f, "33:33:00:00:00:02", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::2", 58);
  icmp(f, 133, 0, 0); fin(f))
B(f_fridge_mld_query,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  icmp(f, 130, 0, 0); payload(f, 16); fin(f))
B(f_fridge_mld_report,
  eth(f, "33:33:00:00:00:16", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::16", 58);
  icmp(f, 143, 0, 0); payload(f, 20); fin(f))
B(f_fridge_dhcp_offer,
  eth(f, BCAST, FRIDGE, 0x0800); ipv4(f, FRIDGE4, "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 67, 68); dhcp4(f, 2, LAPTOP); fin(f))
B(f_fridge_dhcp6_server,
  eth(f, "33:33:00:01:00:02", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "fe80::41", 17);
  udp(f, 547, 546); payload(f, 16); fin(f))
B(f_laptop_dhcp6_solicit,
  eth(f, "33:33:00:01:00:02", LAPTOP, 0x86dd); ipv6(f, "fe80::41", "ff02::1:2", 17);
  udp(f, 546, 547); payload(f, 16); fin(f))

/* multicast */
B(f_fridge_mdns, udp4(f, "01:00:5e:00:00:fb", FRIDGE, FRIDGE4, "224.0.0.251", 5353, 5353))
B(f_laptop_mdns, udp4(f, "01:00:5e:00:00:fb", LAPTOP, LAPTOP4, "224.0.0.251", 5353, 5353))
B(f_laptop_ssdp, udp4(f, "01:00:5e:7f:ff:fa", LAPTOP, LAPTOP4, "239.255.255.250", 40000, 1900))
B(f_laptop_bcast_udp, udp4(f, BCAST, LAPTOP, LAPTOP4, "192.168.50.255", 40000, 5353))

/* ethertypes */
B(f_lldp, eth(f, "01:80:c2:00:00:0e", FRIDGE, 0x88cc); payload(f, 40); fin(f))
B(f_pppoe, eth(f, GWMAC, FRIDGE, 0x8864); payload(f, 40); fin(f))
B(f_pppoe_disc, eth(f, BCAST, FRIDGE, 0x8863); payload(f, 40); fin(f))
B(f_8023, eth(f, GWMAC, FRIDGE, 0x0030); put8(f, 0x42); put8(f, 0x42); put8(f, 0x03);
  payload(f, 45); fin(f))
B(f_eapol_gw, eth(f, GWMAC, FRIDGE, 0x888e); payload(f, 40); fin(f))
B(f_eapol_pae, eth(f, "01:80:c2:00:00:03", FRIDGE, 0x888e); payload(f, 40); fin(f))
B(f_eapol_dev, eth(f, CAM, FRIDGE, 0x888e); payload(f, 40); fin(f))
B(f_ipx, eth(f, GWMAC, FRIDGE, 0x8137); payload(f, 40); fin(f))

/* pre/post hooks */
static void set_cfg_flags(__u32 set, __u32 clear)
{
	__u32 k = 0;
	struct bh_config c;

	assert_int_equal(bpf_map_lookup_elem(fd.config, &k, &c), 0);
	c.flags = (c.flags | set) & ~clear;
	upd(fd.config, &k, &c);
}
static void ew_allow(void) { set_cfg_flags(BH_CFG_EW_ALLOW, 0); }
static void ew_deny(void) { set_cfg_flags(0, BH_CFG_EW_ALLOW); }
static void gw_allow(void) { set_cfg_flags(BH_CFG_GW_ALLOW, 0); }
static void gw_deny(void) { set_cfg_flags(0, BH_CFG_GW_ALLOW); }
static void laptop_group_invalid(void)
{
	put_group(0, G_LAPTOP, BH_ACT_ALLOW);
	{
		__u32 k = G_LAPTOP;
		struct bh_group g = { .internet = BH_ACT_ALLOW, .valid = 0 };

		upd(fd.groups, &k, &g);
	}
}
static void laptop_group_valid(void) { put_group(0, G_LAPTOP, BH_ACT_ALLOW); }
static void q_laptop(void) { quarantine(LAPTOP); }
static void unq_laptop(void) { release(LAPTOP); }
static void q_nvr(void) { quarantine(NVR); }
static void unq_nvr(void) { release(NVR); }

/* age every bh_ct / bh_frag entry past its timeout */
static void age_state(void)
{
	struct bh_ct_key ck, cn;
	struct bh_ct_val cv;
	struct bh_frag_key fk, fn;
	struct bh_frag_val fv;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd.ct, prev, &cn)) {
		ck = cn;
		prev = &ck;
		assert_int_equal(bpf_map_lookup_elem(fd.ct, &ck, &cv), 0);
		cv.last_seen -= BH_CT_TCP_TIMEOUT + 1000000000ULL;
		upd(fd.ct, &ck, &cv);
	}
	prev = NULL;
	while (!bpf_map_get_next_key(fd.frag, prev, &fn)) {
		fk = fn;
		prev = &fk;
		assert_int_equal(bpf_map_lookup_elem(fd.frag, &fk, &fv), 0);
		fv.last_seen -= BH_FRAG_TIMEOUT + 1000000000ULL;
		upd(fd.frag, &fk, &fv);
	}
}

static void q_cam(void) { quarantine(CAM); }
static void unq_cam(void) { release(CAM); }
static void q_release_cam(void) { quarantine(CAM); release(CAM); }

static struct bh_config saved_cfg;
static void invalidate_policy(void)
{
	__u32 k = 0;
	struct bh_config c;

	assert_int_equal(bpf_map_lookup_elem(fd.config, &k, &saved_cfg), 0);
	c = saved_cfg;
	c.flags &= ~BH_CFG_VALID;
	upd(fd.config, &k, &c);
}
static void restore_policy(void)
{
	__u32 k = 0;

	upd(fd.config, &k, &saved_cfg);
}

/* one-step preludes */
#define OPEN(b, r)	{ { b, 1, r } }
#define OPEN_DROP(b, r)	{ { b, 0, r } }

#define P 1
#define D 0

static const struct row rows[] = {
	/* ---- east-west, stateful ---- */
	{ "xdp+tc: nvr->camera tcp/554 SYN passes (rule 0)", f_nvr_cam_syn, P, BH_R_PASS_RULE,
	  RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: camera->nvr SYN-ACK after nvr's SYN passes (reply)", f_cam_nvr_synack, P,
	  BH_R_PASS_REPLY, 0, NULL, NULL, OPEN(f_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->nvr ACK of the tracked flow passes (reply)", f_cam_nvr_ack, P,
	  BH_R_PASS_REPLY, 0, NULL, NULL, OPEN(f_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->nvr SYN-ACK with no nvr SYN dropped (default deny)", f_cam_nvr_synack, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: camera->nvr SYN on the tracked tuple opens nothing (default deny)",
	  f_cam_nvr_syn_same_tuple, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->nvr new SYN dropped (default deny)", f_cam_nvr_syn, D,
	  BH_R_DROP_DEFAULT, 0, NULL, NULL, OPEN(f_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->nvr ACK of no tracked flow dropped (default deny)",
	  f_cam_nvr_ack_untracked, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: nvr->camera tcp/80 dropped (no rule, default deny)", f_nvr_cam_syn_80, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: fridge->camera tcp/554 dropped (default deny)", f_fridge_cam_syn, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop->nvr tcp/22 passes (rule 1, tcp any port)", f_laptop_nvr_ssh, P,
	  BH_R_PASS_RULE, RULE(RULE_LAPTOP_NVR_TCP) },
	{ "xdp+tc: laptop->nvr udp/53 dropped (rule 1 is tcp only)", f_laptop_nvr_udp, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop->camera ICMP echo passes (rule 3, any proto)", f_laptop_cam_echo, P,
	  BH_R_PASS_RULE, RULE(RULE_LAPTOP_CAM_ANY) },
	{ "xdp+tc: camera->laptop echo reply after the laptop's echo passes (reply)",
	  f_cam_laptop_echoreply, P, BH_R_PASS_REPLY, 0, NULL, NULL,
	  OPEN(f_laptop_cam_echo, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop echo reply with another id dropped (default deny)",
	  f_cam_laptop_echoreply_other, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_echo, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop echo request after the laptop's echo dropped (default deny)",
	  f_cam_laptop_echo, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_echo, BH_R_PASS_RULE) },
	{ "xdp+tc: laptop->camera udp/9000 passes (rule 3)", f_laptop_cam_udp, P, BH_R_PASS_RULE,
	  RULE(RULE_LAPTOP_CAM_ANY) },
	{ "xdp+tc: camera->laptop udp reply passes (reply)", f_cam_laptop_udp_reply, P,
	  BH_R_PASS_REPLY, 0, NULL, NULL, OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop udp to another port dropped (default deny)",
	  f_cam_laptop_udp_otherport, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop ICMP port unreachable quoting the tracked udp passes (reply)",
	  f_cam_laptop_port_unreach, P, BH_R_PASS_REPLY, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop ICMP port unreachable quoting an untracked udp dropped",
	  f_cam_laptop_port_unreach_untracked, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop ICMP error quoting a packet from another host dropped",
	  f_cam_laptop_port_unreach_forged, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: laptop->camera tcp/23 dropped (deny rule 2 beats allow-any rule 3)",
	  f_laptop_cam_telnet, D, BH_R_DROP_RULE, RULE(RULE_LAPTOP_CAM_TELNET) },
	{ "xdp+tc: laptop->camera tcp/23 ACK dropped (deny rule 2)", f_laptop_cam_telnet_ack, D,
	  BH_R_DROP_RULE, RULE(RULE_LAPTOP_CAM_TELNET) },
	{ "xdp+tc: laptop->camera tcp/80 passes (rule 3)", f_laptop_cam_http, P, BH_R_PASS_RULE,
	  RULE(RULE_LAPTOP_CAM_ANY) },
	{ "xdp+tc: camera->laptop SYN-ACK from tcp/23 with no flow dropped (default deny)",
	  f_cam_laptop_telnet_synack, D, BH_R_DROP_DEFAULT },

	/* ---- quarantine ---- */
	{ "xdp+tc: quarantined camera->203.0.113.9 tcp/443 dropped (quarantine)", f_cam_cloud_443,
	  D, BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera->gateway udp/53 passes (quarantine.allow dns)",
	  f_cam_gw_dns, P, BH_R_PASS_QSVC, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera->gateway tcp/53 passes (quarantine.allow dns)",
	  f_cam_gw_dns_tcp, P, BH_R_PASS_QSVC, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera DHCP discover broadcast passes (quarantine.allow dhcp)",
	  f_cam_dhcp_discover, P, BH_R_PASS_QSVC, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera->gateway udp/123 dropped (ntp not in quarantine.allow)",
	  f_cam_gw_ntp, D, BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera->gateway ping dropped (icmp not in quarantine.allow)",
	  f_cam_gw_ping, D, BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: nvr->quarantined camera tcp/554 dropped (destination quarantined)",
	  f_nvr_cam_syn, D, BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: nvr->quarantined camera routed via the gateway dropped (quarantine)",
	  f_nvr_cam_via_gw, D, BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera ARP who-has gateway passes", f_cam_arp_gw, P, BH_R_PASS_ARP,
	  0, q_cam, unq_cam },
	{ "xdp+tc: quarantined camera ARP who-has nvr dropped (quarantine)", f_cam_arp_nvr, D,
	  BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: nvr ARP who-has quarantined camera dropped (quarantine)", f_nvr_arp_cam, D,
	  BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ .name = "xdp+tc: camera quarantined mid-flow: its SYN-ACK to the nvr dropped (quarantine)",
	  .build = f_cam_nvr_synack, .pass = D, .reason = BH_R_DROP_QUARANTINE,
	  .prelude = OPEN(f_nvr_cam_syn, BH_R_PASS_RULE), .mid = q_cam, .post = unq_cam },
	{ "xdp+tc: camera released: nvr->camera tcp/554 passes again", f_nvr_cam_syn, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP), q_release_cam, NULL },

	/* ---- internet ---- */
	{ "xdp+tc: camera->198.51.100.7 tcp/80 dropped (cameras internet deny)", f_cam_inet_80, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: camera->203.0.113.9 tcp/443 passes (rule 4, CIDR class)", f_cam_cloud_443, P,
	  BH_R_PASS_RULE, RULE(RULE_CAM_CLOUD) },
	{ "xdp+tc: camera->203.0.113.9 tcp/80 dropped (CIDR class, default deny)", f_cam_cloud_80,
	  D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: camera->203.0.114.9 tcp/443 dropped (outside the CIDR)",
	  f_cam_cloud_443_outside, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop->198.51.100.7 tcp/80 passes (laptop internet allow)", f_laptop_inet_80,
	  P, BH_R_PASS_DEFAULT },
	{ "xdp+tc: laptop->203.0.113.9 tcp/443 passes (CIDR class is the cameras' only)",
	  f_laptop_cloud_443, P, BH_R_PASS_DEFAULT },
	{ "xdp+tc: laptop->192.168.50.99 via gateway MAC dropped (unknown group, east-west deny)",
	  f_laptop_lan_unlisted, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop->nvr tcp/80 routed via gateway MAC passes (east-west rule 1)",
	  f_laptop_nvr_via_gw, P, BH_R_PASS_RULE, RULE(RULE_LAPTOP_NVR_TCP) },
	{ "xdp+tc: nvr->camera tcp/554 routed via gateway MAC passes (rule 0)", f_nvr_cam_via_gw,
	  P, BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: unlisted MAC->198.51.100.7 passes (unknown group internet allow)",
	  f_stranger_inet, P, BH_R_PASS_DEFAULT },
	{ "xdp+tc: unlisted MAC->camera tcp/554 dropped (default deny)", f_stranger_cam, D,
	  BH_R_DROP_DEFAULT },

	/* ---- the gateway ---- */
	{ "xdp+tc: fridge->gateway udp/53 passes (rule 5)", f_fridge_gw_dns, P, BH_R_PASS_RULE,
	  RULE(RULE_DNS) },
	{ "xdp+tc: fridge->gateway tcp/53 passes (rule 5)", f_fridge_gw_dns_tcp, P,
	  BH_R_PASS_RULE, RULE(RULE_DNS) },
	{ "xdp+tc: fridge->gateway tcp/22 dropped (gateway default deny)", f_fridge_gw_ssh, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: fridge DHCP discover broadcast passes (rule 6)", f_fridge_dhcp_discover, P,
	  BH_R_PASS_RULE, RULE(RULE_DHCP) },
	{ "xdp+tc: fridge DHCP request unicast to the gateway passes (rule 6)",
	  f_fridge_dhcp_request_unicast, P, BH_R_PASS_RULE, RULE(RULE_DHCP) },
	{ "xdp+tc: unlisted MAC->gateway udp/53 passes (rule 5)", f_stranger_gw_dns, P,
	  BH_R_PASS_RULE, RULE(RULE_DNS) },

	/* ---- ARP ---- */
	{ "xdp+tc: laptop ARP who-has 192.168.50.1 passes", f_laptop_arp_gw, P, BH_R_PASS_ARP },
	{ "xdp+tc: laptop ARP who-has nvr passes (talk pair)", f_laptop_arp_nvr, P, BH_R_PASS_ARP },
	{ "xdp+tc: nvr ARP reply to laptop passes (talk pair)", f_nvr_arp_reply_laptop, P,
	  BH_R_PASS_ARP },
	{ "xdp+tc: fridge ARP who-has camera dropped (no talk pair)", f_fridge_arp_cam, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: fridge ARP with the camera's sender IP dropped (spoof)", f_fridge_arp_as_cam, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: fridge ARP with the gateway's sender IP dropped (spoof)", f_fridge_arp_as_gw, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: ARP sender MAC != Ethernet source dropped (spoof)", f_fridge_arp_sha_nvr, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: fridge gratuitous ARP of its own IP passes", f_fridge_arp_garp, P,
	  BH_R_PASS_ARP },
	{ "xdp+tc: camera ARP from unbound 192.168.50.99 dropped (spoof, HAS_V4)",
	  f_cam_arp_from_99, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: fridge ARP probe (sender 0.0.0.0) for the camera dropped (no talk pair)",
	  f_fridge_arp_probe_cam, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: fridge ARP reply to the gateway passes", f_fridge_arp_reply_gw, P,
	  BH_R_PASS_ARP },
	{ "xdp+tc: quarantined camera ARP reply to the gateway passes", f_cam_arp_reply_gw, P,
	  BH_R_PASS_ARP, 0, q_cam, unq_cam },
	{ "xdp+tc: fridge unicast ARP reply to the camera dropped (no talk pair)",
	  f_fridge_arp_reply_cam, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: truncated ARP dropped (malformed)", f_arp_truncated, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: ARP opcode 3 dropped (malformed)", f_arp_rarp_op, D, BH_R_DROP_MALFORMED },

	/* ---- IP source spoofing ---- */
	{ "xdp+tc: fridge sending from 192.168.50.11 dropped (spoof)", f_fridge_as_cam, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: camera sending from unbound 192.168.50.99 dropped (spoof, HAS_V4)",
	  f_cam_from_99, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: fridge sending from the gateway's IP dropped (spoof)", f_fridge_from_gw_ip, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: source MAC = gateway MAC dropped (spoof)", f_src_gw_mac, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: group address as source MAC dropped (malformed)", f_src_group_mac, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: nvr sending from the camera's fd00:50::11 dropped (spoof)", f_nvr6_as_cam6, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: nvr sending from unbound fd00:50::99 dropped (spoof, HAS_V6)",
	  f_nvr6_from_unbound, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: nvr->camera tcp/554 from link-local fe80::21 passes (rule 0)",
	  f_nvr6_from_linklocal, P, BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },

	/* ---- VLAN tags ---- */
	{ "xdp+tc: 802.1Q VID 5 dropped (vlan)", f_vid5, D, BH_R_DROP_VLAN },
	{ "xdp+tc: priority tag (VID 0) nvr->camera tcp/554 passes as the inner frame",
	  f_prio_tag_pass, P, BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: priority tag (VID 0) fridge->camera tcp/554 dropped as the inner frame",
	  f_prio_tag_drop, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: 802.1ad priority tag (VID 0) passes as the inner frame", f_prio_tag_ad, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: priority-tagged spoofed ARP dropped (spoof)", f_prio_arp_spoof, D,
	  BH_R_DROP_SPOOF },
	{ "xdp+tc: QinQ with VID 0 twice dropped (vlan)", f_qinq, D, BH_R_DROP_VLAN },
	{ "xdp+tc: QinQ 100/7 dropped (vlan)", f_qinq_vid, D, BH_R_DROP_VLAN },

	/* ---- malformed ---- */
	{ "xdp+tc: truncated Ethernet (802.1Q tag cut short) dropped (malformed)", f_trunc_tag, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: truncated IPv4 header (IHL 6, 20 bytes present) dropped (malformed)",
	  f_trunc_ipv4, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: truncated TCP header dropped (malformed)", f_trunc_tcp, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: truncated UDP header dropped (malformed)", f_trunc_udp, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: truncated ICMP header dropped (malformed)", f_icmp_trunc, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: TCP data offset 4 dropped (malformed)", f_tcp_doff4, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 IHL 4 dropped (malformed)", f_ihl4, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 IHL 15 past the frame end dropped (malformed)", f_ihl15, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 ethertype with version 6 dropped (malformed)", f_ipv4_version6, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 total length below the header length dropped (malformed)",
	  f_ipv4_totlen_short, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 with 8 bytes of options nvr->camera tcp/554 passes (rule 0)",
	  f_ipv4_options, P, BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: IPv4 with 40 bytes of options fridge->camera dropped (default deny)",
	  f_ipv4_options_drop, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: truncated IPv6 TCP header dropped (malformed)", f_ipv6_trunc_tcp, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: truncated IPv6 extension header dropped (malformed)", f6_ext_trunc, D,
	  BH_R_DROP_MALFORMED },

	/* ---- IPv6 ---- */
	{ "xdp+tc: IPv6 nvr->camera tcp/554 passes (rule 0)", f6_nvr_cam_syn, P, BH_R_PASS_RULE,
	  RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: IPv6 camera->nvr SYN-ACK after the nvr's SYN passes (reply)", f6_cam_nvr_synack,
	  P, BH_R_PASS_REPLY, 0, NULL, NULL, OPEN(f6_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv6 nvr->camera tcp/80 dropped (default deny)", f6_nvr_cam_80, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: IPv6 hop-by-hop + dst-options before tcp/554 passes like plain (rule 0)",
	  f6_hbh_dst_pass, P, BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: IPv6 hop-by-hop + dst-options before tcp/80 dropped like plain",
	  f6_hbh_dst_drop, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: IPv6 chain of 8 dst-options headers before tcp/554 passes (rule 0)", f6_dst8, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: IPv6 chain of 9 dst-options headers dropped (exthdr)", f6_dst9, D,
	  BH_R_DROP_EXTHDR },
	{ "xdp+tc: IPv6 routing header type 0 dropped (exthdr)", f6_rh0, D, BH_R_DROP_EXTHDR },
	{ "xdp+tc: IPv6 extension headers past 1 KiB dropped (exthdr)", f6_hdr_too_long, D,
	  BH_R_DROP_EXTHDR },
	{ "xdp+tc: IPv6 first fragment nvr->camera tcp/554 passes (rule 0)", f6_frag_first, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: IPv6 later fragment after an allowed first passes (frag)", f6_frag_later, P,
	  BH_R_PASS_FRAG, 0, NULL, NULL, OPEN(f6_frag_first, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv6 later fragment of another datagram dropped (frag)",
	  f6_frag_later_other_id, D, BH_R_DROP_FRAG, 0, NULL, NULL,
	  OPEN(f6_frag_first, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv6 later fragment after a denied first dropped (frag)",
	  f6_frag_later_of_denied, D, BH_R_DROP_FRAG, 0, NULL, NULL,
	  OPEN_DROP(f6_frag_first_denied, BH_R_DROP_DEFAULT) },
	{ "xdp+tc: IPv6 atomic fragment nvr->camera tcp/554 passes (rule 0)", f6_atomic_frag, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },

	/* ---- IPv4 fragments ---- */
	{ "xdp+tc: IPv4 first fragment nvr->camera tcp/554 passes (rule 0)", f4_frag_first, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: IPv4 later fragment after an allowed first passes (frag)", f4_frag_later, P,
	  BH_R_PASS_FRAG, 0, NULL, NULL, OPEN(f4_frag_first, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv4 later fragment of another datagram dropped (frag)",
	  f4_frag_later_other_id, D, BH_R_DROP_FRAG, 0, NULL, NULL,
	  OPEN(f4_frag_first, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv4 later fragment with no first dropped (frag)", f4_frag_later_fridge, D,
	  BH_R_DROP_FRAG },
	{ "xdp+tc: IPv4 later fragment after a denied first dropped (frag)",
	  f4_frag_later_of_denied, D, BH_R_DROP_FRAG, 0, NULL, NULL,
	  OPEN_DROP(f4_frag_first_denied, BH_R_DROP_DEFAULT) },
	{ "xdp+tc: IPv4 later fragment from a spoofed source dropped (spoof)",
	  f4_frag_later_spoofed, D, BH_R_DROP_SPOOF, 0, NULL, NULL,
	  OPEN(f4_frag_first, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv4 first fragment too short for the TCP header dropped (frag)",
	  f4_frag_first_short_tcp, D, BH_R_DROP_FRAG },
	{ "xdp+tc: IPv4 first fragment with 8 bytes of TCP, padded to 60, dropped (frag)",
	  f4_frag_first_short_tcp_padded, D, BH_R_DROP_FRAG },
	{ "xdp+tc: IPv4 TCP fragment at offset 8 bytes (tiny overlap) dropped (frag)",
	  f4_frag_tiny_overlap, D, BH_R_DROP_FRAG, 0, NULL, NULL,
	  OPEN(f4_frag_first, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv4 udp later fragment after an allowed first passes (frag)",
	  f4_frag_udp_later, P, BH_R_PASS_FRAG, 0, NULL, NULL,
	  OPEN(f4_frag_udp_first, BH_R_PASS_RULE) },

	/* ---- ND, RA, rogue servers ---- */
	{ "xdp+tc: fridge NS for the gateway passes (nd)", f_fridge_ns_gw, P, BH_R_PASS_ND },
	{ "xdp+tc: nvr NS for the camera passes (talk pair)", f_nvr_ns_cam, P, BH_R_PASS_ND },
	{ "xdp+tc: fridge NS for the camera dropped (no talk pair)", f_fridge_ns_cam, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: fridge DAD NS from :: passes (nd)", f_fridge_ns_dad, P, BH_R_PASS_ND },
	{ "xdp+tc: camera NA to nvr for its own address passes (talk pair)", f_cam_na_nvr, P,
	  BH_R_PASS_ND },
	{ "xdp+tc: camera NA to the gateway passes (nd)", f_cam_na_gw, P, BH_R_PASS_ND },
	{ "xdp+tc: fridge NA claiming the camera's fd00:50::11 dropped (spoof)",
	  f_fridge_na_as_cam, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: fridge NA claiming the gateway's fd00:50::1 dropped (spoof)",
	  f_fridge_na_as_gw, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: camera NA claiming unbound fd00:50::99 dropped (spoof, HAS_V6)",
	  f_cam_na_unbound, D, BH_R_DROP_SPOOF },
	{ "xdp+tc: NS without its target dropped (malformed)", f_ns_no_target, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: fridge router advertisement dropped (rogue)", f_fridge_ra, D, BH_R_DROP_ROGUE },
	{ "xdp+tc: fridge ICMPv6 redirect dropped (rogue)", f_fridge_redirect, D,
	  BH_R_DROP_ROGUE },
	{ "xdp+tc: fridge MLD query dropped (rogue)", f_fridge_mld_query, D, BH_R_DROP_ROGUE },
	{ "xdp+tc: fridge router solicitation passes (nd)", f_fridge_rs, P, BH_R_PASS_ND },
	{ "xdp+tc: fridge MLDv2 report passes (nd)", f_fridge_mld_report, P, BH_R_PASS_ND },
	{ "xdp+tc: fridge DHCP offer udp 67->68 dropped (rogue)", f_fridge_dhcp_offer, D,
	  BH_R_DROP_ROGUE },
	{ "xdp+tc: fridge DHCPv6 server udp 547->546 dropped (rogue)", f_fridge_dhcp6_server, D,
	  BH_R_DROP_ROGUE },
	{ "xdp+tc: laptop DHCPv6 solicit multicast dropped (no rule for udp/547)",
	  f_laptop_dhcp6_solicit, D, BH_R_DROP_DEFAULT },

	/* ---- multicast ---- */
	{ "xdp+tc: fridge mDNS udp/5353 to 01:00:5e:00:00:fb dropped (default deny)",
	  f_fridge_mdns, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop mDNS udp/5353 to 01:00:5e:00:00:fb passes (rule 7)", f_laptop_mdns, P,
	  BH_R_PASS_RULE, RULE(RULE_LAPTOP_MDNS) },
	{ "xdp+tc: laptop SSDP udp/1900 multicast dropped (default deny)", f_laptop_ssdp, D,
	  BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop udp/5353 broadcast passes (rule 7, multicast class)",
	  f_laptop_bcast_udp, P, BH_R_PASS_RULE, RULE(RULE_LAPTOP_MDNS) },

	/* ---- ethertypes ---- */
	{ "xdp+tc: LLDP 0x88cc dropped (ethertype)", f_lldp, D, BH_R_DROP_ETHERTYPE },
	{ "xdp+tc: PPPoE session 0x8864 dropped (ethertype)", f_pppoe, D, BH_R_DROP_ETHERTYPE },
	{ "xdp+tc: PPPoE discovery 0x8863 dropped (ethertype)", f_pppoe_disc, D,
	  BH_R_DROP_ETHERTYPE },
	{ "xdp+tc: 802.3 length-field frame dropped (ethertype)", f_8023, D,
	  BH_R_DROP_ETHERTYPE },
	{ "xdp+tc: IPX 0x8137 dropped (ethertype)", f_ipx, D, BH_R_DROP_ETHERTYPE },
	{ "xdp+tc: EAPOL to the gateway MAC passes (eapol)", f_eapol_gw, P, BH_R_PASS_EAPOL },
	{ "xdp+tc: EAPOL to the PAE group address passes (eapol)", f_eapol_pae, P,
	  BH_R_PASS_EAPOL },
	{ "xdp+tc: EAPOL to a device dropped (ethertype)", f_eapol_dev, D, BH_R_DROP_ETHERTYPE },

	/* ---- more replies, ICMP errors ---- */
	{ "xdp+tc: camera->laptop RST-ACK of the laptop's tcp/80 flow passes (reply)",
	  f_cam_laptop_rst, P, BH_R_PASS_REPLY, 0, NULL, NULL,
	  OPEN(f_laptop_cam_http, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop FIN-ACK of the laptop's tcp/80 flow passes (reply)",
	  f_cam_laptop_fin, P, BH_R_PASS_REPLY, 0, NULL, NULL,
	  OPEN(f_laptop_cam_http, BH_R_PASS_RULE) },
	{ "xdp+tc: camera->laptop tcp reply after the flow expired dropped (default deny)",
	  f_cam_laptop_fin, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_http, BH_R_PASS_RULE), .mid = age_state },
	{ "xdp+tc: camera->laptop echo reply after the echo expired dropped (default deny)",
	  f_cam_laptop_echoreply, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_echo, BH_R_PASS_RULE), .mid = age_state },
	{ "xdp+tc: IPv4 later fragment after its first expired dropped (frag)", f4_frag_later, D,
	  BH_R_DROP_FRAG, 0, NULL, NULL, OPEN(f4_frag_first, BH_R_PASS_RULE), .mid = age_state },
	{ "xdp+tc: IPv6 laptop->camera echo passes (rule 3)", f_laptop_cam_echo6, P, BH_R_PASS_RULE,
	  RULE(RULE_LAPTOP_CAM_ANY) },
	{ "xdp+tc: IPv6 camera->laptop echo reply passes (reply)", f_cam_laptop_echoreply6, P,
	  BH_R_PASS_REPLY, 0, NULL, NULL, OPEN(f_laptop_cam_echo6, BH_R_PASS_RULE) },
	{ "xdp+tc: IPv6 camera->laptop echo reply with no echo dropped (default deny)",
	  f_cam_laptop_echoreply6, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: ICMPv6 port unreachable quoting the tracked udp passes (reply)",
	  f_cam_laptop_unreach6, P, BH_R_PASS_REPLY, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp6, BH_R_PASS_RULE) },
	{ "xdp+tc: ICMPv6 port unreachable quoting no tracked flow dropped (default deny)",
	  f_cam_laptop_unreach6, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: ICMP error quoting a header with options (not read) dropped (default deny)",
	  f_cam_laptop_unreach_ihl6, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: fridge port unreachable to laptop quoting laptop->camera flow dropped (not its flow)",
	  f_fridge_laptop_port_unreach, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: fridge frag-needed to laptop quoting laptop->camera flow dropped (not its flow)",
	  f_fridge_laptop_frag_needed, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_laptop_cam_udp, BH_R_PASS_RULE) },
	{ "xdp+tc: laptop->camera GRE passes (rule 3, any proto)", f_laptop_cam_gre, P,
	  BH_R_PASS_RULE, RULE(RULE_LAPTOP_CAM_ANY) },
	{ "xdp+tc: nvr->camera GRE dropped (rule 0 is tcp/554 only)", f_nvr_cam_gre, D,
	  BH_R_DROP_DEFAULT },

	/* ---- unknown devices, quarantine corners ---- */
	{ "xdp+tc: laptop->unlisted MAC tcp/80 dropped (unknown group, default deny)",
	  f_laptop_stranger, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: unlisted MAC sending from the nvr's address dropped (spoof)", f_stranger_as_nvr,
	  D, BH_R_DROP_SPOOF },
	{ "xdp+tc: laptop broadcast ARP who-has an unbound LAN address passes (talks to some group)",
	  f_laptop_arp_unlisted, P, BH_R_PASS_ARP },
	{ "xdp+tc: fridge broadcast ARP who-has an unbound LAN address dropped (talks to nobody)",
	  f_fridge_arp_unlisted, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: laptop NS for an unbound address passes (talks to some group)",
	  f_laptop_ns_unlisted, P, BH_R_PASS_ND },
	{ "xdp+tc: fridge NS for an unbound address dropped (talks to nobody)",
	  f_fridge_ns_unlisted, D, BH_R_DROP_DEFAULT },
	{ "xdp+tc: camera SYN-ACK of the nvr's flow sent to the fridge's MAC dropped (not a reply)",
	  f_cam_synack_to_fridge, D, BH_R_DROP_DEFAULT, 0, NULL, NULL,
	  OPEN(f_nvr_cam_syn, BH_R_PASS_RULE) },
	{ "xdp+tc: nvr unicast ARP to the quarantined camera dropped (quarantine)",
	  f_nvr_arp_unicast_qcam, D, BH_R_DROP_QUARANTINE, 0, q_cam, unq_cam },
	{ "xdp+tc: quarantined laptop->gateway udp/53 passes (qsvc, not rule 5)", f_laptop_gw_dns,
	  P, BH_R_PASS_QSVC, 0, q_laptop, unq_laptop },
	{ "xdp+tc: quarantined laptop mDNS multicast dropped (quarantine, not rule 7)",
	  f_laptop_mdns, D, BH_R_DROP_QUARANTINE, 0, q_laptop, unq_laptop },
	{ "xdp+tc: quarantined nvr->camera tcp/554 dropped (source quarantined)", f_nvr_cam_syn, D,
	  BH_R_DROP_QUARANTINE, 0, q_nvr, unq_nvr },
	{ "xdp+tc: nvr quarantined mid-datagram: its later fragment dropped (quarantine)",
	  f4_frag_later, D, BH_R_DROP_QUARANTINE, 0, NULL, unq_nvr,
	  OPEN(f4_frag_first, BH_R_PASS_RULE), .mid = q_nvr },

	/* ---- defaults ---- */
	{ "xdp+tc: east_west allow: fridge->camera tcp/554 passes (default)", f_fridge_cam_syn, P,
	  BH_R_PASS_DEFAULT, 0, ew_allow, ew_deny },
	{ "xdp+tc: east_west allow: laptop->camera tcp/23 still dropped (deny rule 2)",
	  f_laptop_cam_telnet, D, BH_R_DROP_RULE, RULE(RULE_LAPTOP_CAM_TELNET), ew_allow, ew_deny },
	{ "xdp+tc: east_west allow: fridge mDNS multicast still dropped (no multicast default)",
	  f_fridge_mdns, D, BH_R_DROP_DEFAULT, 0, ew_allow, ew_deny },
	{ "xdp+tc: east_west allow: gateway tcp/22 still dropped (gateway default)",
	  f_fridge_gw_ssh, D, BH_R_DROP_DEFAULT, 0, ew_allow, ew_deny },
	{ "xdp+tc: gateway allow: fridge->gateway tcp/22 passes (default)", f_fridge_gw_ssh, P,
	  BH_R_PASS_DEFAULT, 0, gw_allow, gw_deny },
	{ "xdp+tc: gateway allow: fridge->camera still dropped (east-west default)",
	  f_fridge_cam_syn, D, BH_R_DROP_DEFAULT, 0, gw_allow, gw_deny },
	{ "xdp+tc: laptop group not valid: internet dropped (no group, default deny)",
	  f_laptop_inet_80, D, BH_R_DROP_DEFAULT, 0, laptop_group_invalid, laptop_group_valid },

	/* ---- IPv6 multicast ---- */
	{ "xdp+tc: laptop mDNS to ff02::fb passes (rule 7)", f_laptop_mdns6, P, BH_R_PASS_RULE,
	  RULE(RULE_LAPTOP_MDNS) },
	{ "xdp+tc: fridge mDNS to ff02::fb dropped (default deny)", f_fridge_mdns6, D,
	  BH_R_DROP_DEFAULT },

	/* ---- the IP length bounds the headers, not the frame ---- */
	{ "xdp+tc: IPv4 length claiming 4 bytes of UDP, padded to 60, dropped (malformed)",
	  f_udp_len4_padded, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 length claiming 12 bytes of TCP, padded to 60, dropped (malformed)",
	  f_tcp_totlen_short_padded, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv4 short udp datagram with junk padding passes (rule 3)", f4_udp_padded_ok, P,
	  BH_R_PASS_RULE, RULE(RULE_LAPTOP_CAM_ANY) },
	{ "xdp+tc: IPv6 payload length 8 of a TCP header dropped (malformed)", f6_plen_short_tcp, D,
	  BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv6 payload length ending in the extension headers dropped (malformed)",
	  f6_plen_short_ext, D, BH_R_DROP_MALFORMED },
	{ "xdp+tc: IPv6 payload length 0 (jumbo/BIG TCP) judged by the frame: passes (rule 0)",
	  f6_plen_zero, P, BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
	{ "xdp+tc: NS whose payload length leaves out the target dropped (malformed)",
	  f6_ns_plen_short, D, BH_R_DROP_MALFORMED },

	/* ---- group-addressed frames to a unicast IP; fragmented replies; IPv6
	 * fragments with options in the fragmentable part (found by these rows) */
	{ .name = "xdp+tc: laptop udp/5353 in a broadcast frame to the fridge's IP dropped (east-west)",
	  .build = f_laptop_bcast_to_fridge, .pass = D, .reason = BH_R_DROP_DEFAULT },
	{ .name = "xdp+tc: laptop udp/5353 in an mDNS-MAC frame to the fridge's IP dropped (east-west)",
	  .build = f_laptop_mcast_to_fridge, .pass = D, .reason = BH_R_DROP_DEFAULT },
	{ .name = "xdp+tc: fridge udp/67 in a broadcast frame to the camera's IP dropped (east-west)",
	  .build = f_fridge_bcast_udp67_to_cam, .pass = D, .reason = BH_R_DROP_DEFAULT },
	{ .name = "xdp+tc: quarantined camera udp/67 in a broadcast frame to the nvr's IP dropped",
	  .build = f_cam_bcast_udp67_to_nvr, .pass = D, .reason = BH_R_DROP_QUARANTINE,
	  .pre = q_cam, .post = unq_cam },
	{ .name = "xdp+tc: camera echo reply, later fragment after a first passed as reply, passes (frag)",
	  .build = f_cam_laptop_echoreply_frag2, .pass = P, .reason = BH_R_PASS_FRAG,
	  .prelude = { { f_laptop_cam_echo, 1, BH_R_PASS_RULE },
		       { f_cam_laptop_echoreply_frag1, 1, BH_R_PASS_REPLY } } },
	{ .name = "xdp+tc: camera udp reply, later fragment after a first passed as reply, passes (frag)",
	  .build = f_cam_laptop_udp_reply_frag2, .pass = P, .reason = BH_R_PASS_FRAG,
	  .prelude = { { f_laptop_cam_udp, 1, BH_R_PASS_RULE },
		       { f_cam_laptop_udp_reply_frag1, 1, BH_R_PASS_REPLY } } },
	{ .name = "xdp+tc: IPv6 later fragment whose fragmentable part starts with dst-options passes",
	  .build = f6_frag_dst_later, .pass = P, .reason = BH_R_PASS_FRAG,
	  .prelude = OPEN(f6_frag_dst_first, BH_R_PASS_RULE) },

	/* ---- no policy ---- */
	{ "xdp+tc: no valid policy: nvr->camera tcp/554 dropped (nopolicy)", f_nvr_cam_syn, D,
	  BH_R_DROP_NOPOLICY, 0, invalidate_policy, restore_policy },
	{ "xdp+tc: no valid policy: ARP for the gateway dropped (nopolicy)", f_laptop_arp_gw, D,
	  BH_R_DROP_NOPOLICY, 0, invalidate_policy, restore_policy },
	{ "xdp+tc: policy restored: nvr->camera tcp/554 passes (rule 0)", f_nvr_cam_syn, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
};

/* ---- tests beyond the table ------------------------------------------------------- */

/* ---- learned address claims ------------------------------------------------------ */

#define STRANGER2 "02:00:00:00:00:98"	/* a second MAC in no group */

B(f_stranger_77_dns, udp4(f, GWMAC, STRANGER, "192.168.50.77", GW4, 5000, 53))
B(f_stranger_77_syn, tcp4(f, LAPTOP, STRANGER, "192.168.50.77", LAPTOP4, 40000, 80, SYN))
B(f_stranger2_77_dns, udp4(f, GWMAC, STRANGER2, "192.168.50.77", GW4, 5000, 53))
B(f_stranger2_garp_77, arp4(f, BCAST, STRANGER2, 1, STRANGER2, "192.168.50.77", ZMAC,
			    "192.168.50.77"))
B(f_stranger2_arpspoof_gw, arp4(f, GWMAC, STRANGER2, 2, STRANGER2, "192.168.50.77", GWMAC, GW4))
B(f_nvr_ns_gw_ll,	/* the nvr resolves the gateway from its link-local address */
  eth(f, "33:33:ff:00:00:01", NVR, 0x86dd); ipv6(f, "fe80::21", "ff02::1:ff00:1", 58);
  nd(f, 135, GW6); fin(f))
B(f_fridge_na_nvr_ll,	/* unsolicited NA to all nodes: fe80::21 is at the fridge */
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  nd(f, 136, "fe80::21"); fin(f))

/* the claim of @addr, aged past BH_CLAIM_TIMEOUT (its owner went quiet) */
static void age_claim(const char *addr)
{
	struct bh_addr_key k;
	struct bh_claim_val v;
	struct timespec ts;

	addr16(addr, k.addr);
	assert_int_equal(bpf_map_lookup_elem(fd.claim, &k, &v), 0);
	/* a second past the timeout on the programs' clock (modulo 2^64: a
	 * machine up less than 10 minutes has no earlier time to go to) */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	v.last_seen = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec - BH_CLAIM_TIMEOUT -
		      1000000000ULL;
	assert_int_equal(bpf_map_update_elem(fd.claim, &k, &v, BPF_ANY), 0);
}

static void assert_claim(const char *addr, const char *mac)
{
	struct bh_addr_key k;
	struct bh_claim_val v;
	struct bh_mac_key m = mac_key(mac);

	addr16(addr, k.addr);
	assert_int_equal(bpf_map_lookup_elem(fd.claim, &k, &v), 0);
	assert_memory_equal(v.mac, m.mac, 6);
}

/*
 * An address no ip: binds is the first user's: another MAC announcing it
 * (gratuitous ARP, an ARP reply to the gateway, an unsolicited NA) or
 * sending from it is dropped as spoof until the claim lapses.
 */
static void test_address_claims(void **state)
{
	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		clear_state();
		f_stranger_77_dns(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "first use of .77");
		assert_claim("192.168.50.77", STRANGER);
		f_stranger2_garp_77(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "gratuitous ARP for a claimed address");
		f_stranger2_arpspoof_gw(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "ARP reply to the gateway for it");
		f_stranger2_77_dns(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "sending from it");
		f_stranger_77_dns(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "its owner goes on");

		f_nvr_ns_gw_ll(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_ND, -1, "the nvr uses fe80::21");
		f_fridge_na_nvr_ll(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "NA claiming the nvr's link-local");

		/* the owner went quiet: the claim lapses, the next user takes it
		 * (its cached verdicts are as old then: a hit checks the claim
		 * once a second, test_address_claim_cached; here, a fresh cache) */
		age_claim("192.168.50.77");
		invalidate();
		f_stranger2_garp_77(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_ARP, -1, "announcing a lapsed claim");
		assert_claim("192.168.50.77", STRANGER2);
		f_stranger_77_dns(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "the old owner is now the spoofer");
	}
}

/* A cached verdict keeps its claim fresh, and meets a claim taken meanwhile. */
static void test_address_claim_cached(void **state)
{
	struct bh_addr_key k;
	struct bh_claim_val v = { .last_seen = 0 };
	struct timespec ts;

	(void)state;
	clear_state();
	f_stranger_77_syn(&F);
	check_run(EP_XDP, &F, 0, BH_R_DROP_DEFAULT, -1, "stranger -> laptop tcp/80");
	check_run(EP_XDP, &F, 0, BH_R_DROP_DEFAULT, -1, "again, from the cache");
	/* a second later the hit refreshes the claim */
	usleep(1100 * 1000);
	addr16("192.168.50.77", k.addr);
	assert_int_equal(bpf_map_lookup_elem(fd.claim, &k, &v), 0);
	__u64 before = v.last_seen;
	check_run(EP_XDP, &F, 0, BH_R_DROP_DEFAULT, -1, "a hit a second later");
	assert_int_equal(bpf_map_lookup_elem(fd.claim, &k, &v), 0);
	assert_true(v.last_seen > before);
	/* another MAC holds it now (the stranger's lapsed, as far as the map
	 * says): the cached frame is judged in full, and is a spoof */
	mac_of(STRANGER2, v.mac);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	v.last_seen = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	assert_int_equal(bpf_map_update_elem(fd.claim, &k, &v, BPF_ANY), 0);
	usleep(1100 * 1000);
	check_run(EP_XDP, &F, 0, BH_R_DROP_SPOOF, -1, "the cached frame, its address taken");
}

/* ---- flooded frames, judged per port on egress ------------------------------------ */

B(f_laptop_rs,
  eth(f, "33:33:00:00:00:02", LAPTOP, 0x86dd); ipv6(f, "fe80::41", "ff02::2", 58);
  icmp(f, 133, 0, 0); fin(f))
B(f_laptop_mld,
  eth(f, "33:33:00:00:00:16", LAPTOP, 0x86dd); ipv6(f, "fe80::41", "ff02::16", 58);
  icmp(f, 143, 0, 0); fin(f))
B(f_gw_bcast, udp4(f, BCAST, GWMAC, GW4, "192.168.50.255", 33001, 9))
B(f_laptop_dhcp_discover,
  eth(f, BCAST, LAPTOP, 0x0800); ipv4(f, "0.0.0.0", "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 68, 67); dhcp4(f, 1, LAPTOP); fin(f))

/* the port the tests run frames out of (BPF_PROG_TEST_RUN's default, lo) holds @macs */
static void port_holds(int n, const char *const *macs, bool overflow)
{
	struct bh_port_val v = { .n = (__u8)n, .overflow = overflow };
	__u32 ifindex = 1;

	for (int i = 0; i < n; i++)
		mac_of(macs[i], v.mac[i]);
	if (n < 0) {
		bpf_map_delete_elem(fd.port, &ifindex);
		return;
	}
	assert_int_equal(bpf_map_update_elem(fd.port, &ifindex, &v, BPF_ANY), 0);
}

/* a flooded frame out of that port: 1 let out, 0 withheld (drop_flood +1) */
static int flood_out(builder b)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);
	struct __sk_buff skb = { .ifindex = 1 };
	__u64 before = reason_count(BH_R_DROP_FLOOD), after;

	b(&F);
	opts.data_in = F.b;
	opts.data_size_in = (__u32)F.len;
	opts.ctx_in = &skb;
	opts.ctx_size_in = sizeof(skb);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bulkhead_tc_eg),
						&opts), 0);
	after = reason_count(BH_R_DROP_FLOOD);
	if (opts.retval == TC_ACT_SHOT) {
		assert_int_equal(after, before + 1);
		return 0;
	}
	assert_int_equal((int)opts.retval, TC_ACT_UNSPEC);
	assert_int_equal(after, before);
	return 1;
}

#define PORT(...) do {								\
	static const char *const m_[] = { __VA_ARGS__ };			\
	port_holds((int)(sizeof(m_) / sizeof(m_[0])), m_, false);		\
} while (0)

/*
 * A broadcast or multicast frame reaches the device behind a port only if
 * the policy lets the sender talk to it for that traffic.
 */
static void test_flood_per_port(void **state)
{
	(void)state;
	/* ARP: by talk */
	PORT(NVR);
	assert_int_equal(flood_out(f_laptop_arp_unlisted), 1);
	PORT(FRIDGE);
	assert_int_equal(flood_out(f_laptop_arp_unlisted), 0);
	PORT(NVR, FRIDGE);	/* a shared port: every device on it must be allowed */
	assert_int_equal(flood_out(f_laptop_arp_unlisted), 0);
	quarantine(NVR);
	PORT(NVR);
	assert_int_equal(flood_out(f_laptop_arp_unlisted), 0);
	release(NVR);
	/* nothing learned yet: requests of a sender that talks to some group */
	port_holds(-1, NULL, false);
	assert_int_equal(flood_out(f_laptop_arp_unlisted), 1);
	assert_int_equal(flood_out(f_laptop_ns_unlisted), 1);
	assert_int_equal(flood_out(f_fridge_arp_unlisted), 0);
	assert_int_equal(flood_out(f_laptop_mdns), 0);
	/* ND by talk */
	PORT(CAM);
	assert_int_equal(flood_out(f_laptop_ns_unlisted), 1);
	PORT(FRIDGE);
	assert_int_equal(flood_out(f_laptop_ns_unlisted), 0);
	/* the gateway's: router solicitations, MLD reports, DHCP */
	PORT(CAM);
	assert_int_equal(flood_out(f_laptop_rs), 0);
	assert_int_equal(flood_out(f_laptop_mld), 0);
	assert_int_equal(flood_out(f_laptop_dhcp_discover), 0);
	/* multicast: as if sent to it (laptop -> cameras any), or both in the
	 * same multicast service (laptop -> multicast udp/5353) */
	assert_int_equal(flood_out(f_laptop_mdns), 1);
	PORT(NVR);
	assert_int_equal(flood_out(f_laptop_mdns), 0);
	PORT(LAPTOP);
	assert_int_equal(flood_out(f_laptop_mdns), 1);
	PORT(FRIDGE);
	assert_int_equal(flood_out(f_laptop_mdns6), 0);
	/* more devices than the port holds: also the unknown group's */
	{
		static const char *const m[] = { CAM };

		port_holds(1, m, true);
		assert_int_equal(flood_out(f_laptop_mdns), 0);
	}
	/* the gateway's own broadcasts are never withheld */
	PORT(FRIDGE);
	assert_int_equal(flood_out(f_gw_bcast), 1);
	port_holds(-1, NULL, false);
}

/* Ingress learns which port a MAC is behind; a MAC that moves leaves its old port. */
static void test_port_learning(void **state)
{
	struct bh_port_val v;
	__u32 lo = 1;

	(void)state;
	bpf_map_delete_elem(fd.port, &lo);
	clear_map_raw(fd.macport);
	f_nvr_cam_syn(&F);
	run_ep(EP_TC, &F);
	assert_int_equal(bpf_map_lookup_elem(fd.port, &lo, &v), 0);
	assert_int_equal(v.n, 1);
	f_laptop_arp_gw(&F);
	invalidate();		/* a cache miss: learning is on the miss path */
	run_ep(EP_XDP, &F);
	assert_int_equal(bpf_map_lookup_elem(fd.port, &lo, &v), 0);
	assert_int_equal(v.n, 2);
	assert_false(v.overflow);
	/* the nvr seen on another port (as the map says): it leaves lo's list */
	{
		struct bh_mac_key k = mac_key(LAPTOP);
		__u32 other = 424242;

		assert_int_equal(bpf_map_update_elem(fd.macport, &k, &other, BPF_ANY), 0);
		invalidate();
		run_ep(EP_XDP, &F);	/* the laptop again, on lo */
		assert_int_equal(bpf_map_lookup_elem(fd.port, &lo, &v), 0);
		assert_int_equal(v.n, 2);
	}
	bpf_map_delete_elem(fd.port, &lo);
}

/* A frame through the egress program: it never drops. */
static void run_egress(const struct frame *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .repeat = 1);
	struct __sk_buff skb = {};

	opts.ctx_in = &skb;
	opts.ctx_size_in = sizeof(skb);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bulkhead_tc_eg),
						&opts), 0);
	assert_int_equal((int)opts.retval, TC_ACT_UNSPEC);
}

static int ct_lookup(__u8 proto, const char *src, const char *dst, __u16 sp, __u16 dp,
		     struct bh_ct_val *out)
{
	struct bh_ct_key k = { .proto = proto, .sport = htons(sp), .dport = htons(dp) };

	addr16(src, k.saddr);
	addr16(dst, k.daddr);
	return bpf_map_lookup_elem(fd.ct, &k, out);
}

static size_t ct_count(void)
{
	struct bh_ct_key k, n;
	size_t c = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd.ct, prev, &n)) {
		k = n;
		prev = &k;
		c++;
	}
	return c;
}

B(f_gw_fridge_syn, tcp4(f, FRIDGE, GWMAC, GW4, FRIDGE4, 45000, 8080, SYN))
B(f_gw_fridge_ack, tcp4(f, FRIDGE, GWMAC, GW4, FRIDGE4, 45001, 8080, ACK))
B(f_fridge_gw_synack, tcp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 8080, 45000, SYNACK))
B(f_gw_fridge_udp, udp4(f, FRIDGE, GWMAC, GW4, FRIDGE4, 33000, 161))
B(f_fridge_gw_udp_reply, udp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 161, 33000))
B(f_gw_fridge_ping, icmp4(f, FRIDGE, GWMAC, GW4, FRIDGE4, 8, 4711))
B(f_fridge_gw_pong, icmp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 0, 4711))
B(f_inet_cam_syn_routed, tcp4(f, CAM, GWMAC, "198.51.100.7", CAM4, 443, 50000, SYN))
B(f_cam_inet_synack, tcp4(f, GWMAC, CAM, CAM4, "198.51.100.7", 50000, 443, SYNACK))
B(f_gw_fridge_pong, icmp4(f, FRIDGE, GWMAC, GW4, FRIDGE4, 0, 4712))
B(f_laptop_fridge_syn, tcp4(f, FRIDGE, LAPTOP, LAPTOP4, FRIDGE4, 45000, 8080, SYN))
B(f_gw_fridge_syn6, tcp6(f, FRIDGE, GWMAC, GW6, "fd00:50::31", 45000, 8080, SYN))
B(f_gw_bcast_udp, udp4(f, BCAST, GWMAC, GW4, "192.168.50.255", 33001, 9))

/* the gateway's SYN to the fridge, seen on egress, lets the fridge's SYN-ACK in */
static void test_egress_gateway_syn(void **state)
{
	struct bh_ct_val cv;
	struct bh_mac_key gw = mac_key(GWMAC), fr = mac_key(FRIDGE);

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		clear_state();
		/* the fridge's tcp/8080 SYN-ACK to the gateway: gateway default deny */
		f_fridge_gw_synack(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "SYN-ACK before egress SYN");
		assert_int_not_equal(ct_lookup(IPPROTO_TCP, GW4, FRIDGE4, 45000, 8080, &cv), 0);
		f_gw_fridge_syn(&F);
		run_egress(&F);
		assert_int_equal(ct_lookup(IPPROTO_TCP, GW4, FRIDGE4, 45000, 8080, &cv), 0);
		assert_true(cv.flags & BH_CT_FROM_GW);
		assert_memory_equal(cv.smac, gw.mac, 6);
		assert_memory_equal(cv.dmac, fr.mac, 6);
		assert_true(cv.last_seen != 0);
		f_fridge_gw_synack(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "SYN-ACK after egress SYN");
	}
}

static void test_egress_udp_icmp_v6_routed(void **state)
{
	struct bh_ct_val cv;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		clear_state();
		f_gw_fridge_udp(&F);
		run_egress(&F);
		assert_int_equal(ct_lookup(IPPROTO_UDP, GW4, FRIDGE4, 33000, 161, &cv), 0);
		assert_true(cv.flags & BH_CT_FROM_GW);
		f_fridge_gw_udp_reply(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "udp reply to the gateway");

		f_fridge_gw_pong(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "echo reply before the echo");
		f_gw_fridge_ping(&F);
		run_egress(&F);
		f_fridge_gw_pong(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "echo reply to the gateway");

		/* routed from the internet to the camera (internet deny): the
		 * camera's SYN-ACK answers it */
		f_cam_inet_synack(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "camera SYN-ACK, untracked");
		f_inet_cam_syn_routed(&F);
		run_egress(&F);
		assert_int_equal(ct_lookup(IPPROTO_TCP, "198.51.100.7", CAM4, 443, 50000, &cv), 0);
		assert_true(cv.flags & BH_CT_FROM_GW);
		f_cam_inet_synack(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "camera SYN-ACK, tracked");

		f_gw_fridge_syn6(&F);
		run_egress(&F);
		assert_int_equal(ct_lookup(IPPROTO_TCP, GW6, "fd00:50::31", 45000, 8080, &cv), 0);
	}
}

/* a tracked flow stays tracked while its packets keep coming */
static void test_ct_refresh(void **state)
{
	struct bh_ct_val cv;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		/* ingress: the nvr's ACKs refresh the flow its SYN opened */
		clear_state();
		f_nvr_cam_syn(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_NVR_CAM_RTSP, "nvr SYN");
		age_state();
		tcp4(&F, CAM, NVR, NVR4, CAM4, 40000, 554, ACK);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_NVR_CAM_RTSP, "nvr ACK refreshes");
		f_cam_nvr_ack(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "camera ACK after the refresh");

		/* egress: the gateway's later packets refresh its flow */
		clear_state();
		f_gw_fridge_syn(&F);
		run_egress(&F);
		age_state();
		f_fridge_gw_synack(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "SYN-ACK, flow expired");
		tcp4(&F, FRIDGE, GWMAC, GW4, FRIDGE4, 45000, 8080, ACK);
		run_egress(&F);
		assert_int_equal(ct_lookup(IPPROTO_TCP, GW4, FRIDGE4, 45000, 8080, &cv), 0);
		assert_true(cv.flags & BH_CT_FROM_GW);
		f_fridge_gw_synack(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "SYN-ACK after the refresh");
	}
}

/* replies keep their flow alive: a responder-only stream does not expire */
static void test_ct_refreshed_by_replies(void **state)
{
	struct bh_ct_key k = { .proto = IPPROTO_TCP, .sport = htons(40000), .dport = htons(554) };
	struct bh_ct_val cv, after;

	(void)state;
	addr16(NVR4, k.saddr);
	addr16(CAM4, k.daddr);
	for (int ep = 0; ep < EP_N; ep++) {
		clear_state();
		f_nvr_cam_syn(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_NVR_CAM_RTSP, "nvr SYN");
		/* the initiator then stays silent almost to the timeout */
		assert_int_equal(bpf_map_lookup_elem(fd.ct, &k, &cv), 0);
		cv.last_seen -= BH_CT_TCP_TIMEOUT - 5000000000ULL;
		upd(fd.ct, &k, &cv);
		f_cam_nvr_ack(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "camera reply near the timeout");
		assert_int_equal(bpf_map_lookup_elem(fd.ct, &k, &after), 0);
		/* modular: on a machine up for less than the timeout the aged
		 * stamp wrapped below zero */
		assert_true(after.last_seen - cv.last_seen > BH_CT_TCP_TIMEOUT / 2);
	}
}

/* what the egress program must not record */
static void test_egress_records_only_gateway_openings(void **state)
{
	(void)state;
	clear_state();
	f_gw_fridge_ack(&F);		/* not an opening SYN, no flow to refresh */
	run_egress(&F);
	f_laptop_fridge_syn(&F);	/* not from the gateway's MAC */
	run_egress(&F);
	f_gw_bcast_udp(&F);		/* to a group address */
	run_egress(&F);
	f_gw_fridge_pong(&F);		/* echo reply: opens nothing */
	run_egress(&F);
	f_vid5(&F);			/* a tagged frame it cannot parse as IP */
	run_egress(&F);
	assert_int_equal(ct_count(), 0);
}

/* A hand-written ct entry (nvr -> camera udp 5000 -> 9000): the camera's ICMP
 * port unreachable quoting it is a reply; quoting another port is not. */
static void test_icmp_error_quoting_tracked_flow(void **state)
{
	struct bh_ct_key k = { .proto = IPPROTO_UDP, .sport = htons(5000), .dport = htons(9000) };
	struct bh_ct_val v = {};
	struct timespec ts;

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		clear_state();
		icmp4_err(&F, NVR, CAM, CAM4, NVR4, 3, 3, NVR4, CAM4, IPPROTO_UDP, 5000, 9000);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "port unreachable, untracked");
		addr16(NVR4, k.saddr);
		addr16(CAM4, k.daddr);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v.last_seen = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
		mac_of(NVR, v.smac);
		mac_of(CAM, v.dmac);
		upd(fd.ct, &k, &v);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "port unreachable, tracked");
		icmp4_err(&F, NVR, CAM, CAM4, NVR4, 3, 3, NVR4, CAM4, IPPROTO_UDP, 5000, 9001);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "quoting another port");
		icmp4_err(&F, NVR, CAM, CAM4, NVR4, 11, 0, NVR4, CAM4, IPPROTO_UDP, 5000, 9000);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_REPLY, -1, "time exceeded, tracked");
		/* an entry older than the udp timeout is no flow */
		v.last_seen -= BH_CT_UDP_TIMEOUT + 1000000000ULL;
		upd(fd.ct, &k, &v);
		icmp4_err(&F, NVR, CAM, CAM4, NVR4, 3, 3, NVR4, CAM4, IPPROTO_UDP, 5000, 9000);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "port unreachable, expired");
	}
}

/* Generation flip: gen 1 allows fridge->camera tcp/554 and nothing else. */
static void test_generation_flip(void **state)
{
	__u64 r0, r1;

	(void)state;
	clear_state();
	f_fridge_cam_syn(&F);
	check_run(EP_XDP, &F, 0, BH_R_DROP_DEFAULT, -1, "gen 0: fridge->camera");
	write_policy_b();
	/* written but not active: nothing changes */
	check_run(EP_TC, &F, 0, BH_R_DROP_DEFAULT, -1, "gen 1 written, gen 0 active");
	set_active(1, 2);
	r1 = rule_count(1, RULE1_FRIDGE_CAM_RTSP);
	r0 = rule_count(0, RULE_NVR_CAM_RTSP);
	for (int ep = 0; ep < EP_N; ep++) {
		f_fridge_cam_syn(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE1_FRIDGE_CAM_RTSP,
			  "gen 1: fridge->camera");
		f_nvr_cam_syn(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "gen 1: nvr->camera");
		f_fridge_arp_cam(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_ARP, -1, "gen 1: fridge ARP for camera");
		f_fridge_gw_dns(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "gen 1: no dns rule");
	}
	assert_int_equal(rule_count(1, RULE1_FRIDGE_CAM_RTSP), r1 + 2);
	assert_int_equal(rule_count(0, RULE_NVR_CAM_RTSP), r0);
	/* gen 1 invalid while active: fail closed, gen 0 is not consulted */
	put_config(1, 0, 2);
	f_nvr_cam_syn(&F);
	check_run(EP_XDP, &F, 0, BH_R_DROP_NOPOLICY, -1, "gen 1 active but invalid");
	put_config(1, BH_CFG_VALID, 2);
	/* back to gen 0 */
	set_active(0, 3);
	clear_state();
	for (int ep = 0; ep < EP_N; ep++) {
		f_fridge_cam_syn(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "gen 0 again: fridge->camera");
		f_nvr_cam_syn(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_NVR_CAM_RTSP,
			  "gen 0 again: nvr->camera");
	}
	/* bh_active.gen is read modulo 2 */
	set_active(2, 4);
	f_nvr_cam_syn(&F);
	check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, RULE_NVR_CAM_RTSP, "gen 2 means gen 0");
	set_active(0, 1);
}

/* bh_rulestats: one packet and its bytes per rule hit, in the active generation */
static void test_rule_counters(void **state)
{
	struct bh_counter b4, a4, b2, a2, b3, a3;

	(void)state;
	clear_state();
	b4 = percpu_counter(fd.rulestats, RULE_CAM_CLOUD);
	b2 = percpu_counter(fd.rulestats, RULE_LAPTOP_CAM_TELNET);
	b3 = percpu_counter(fd.rulestats, RULE_LAPTOP_CAM_ANY);
	for (int i = 0; i < 3; i++) {
		f_cam_cloud_443(&F);
		run_ep(i & 1 ? EP_TC : EP_XDP, &F);
	}
	f_laptop_cam_telnet(&F);
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	f_laptop_cam_echo(&F);
	assert_int_equal(run_ep(EP_TC, &F), 1);
	/* a default verdict counts against no rule */
	f_cam_inet_80(&F);
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	a4 = percpu_counter(fd.rulestats, RULE_CAM_CLOUD);
	a2 = percpu_counter(fd.rulestats, RULE_LAPTOP_CAM_TELNET);
	a3 = percpu_counter(fd.rulestats, RULE_LAPTOP_CAM_ANY);
	assert_int_equal(a4.packets - b4.packets, 3);
	assert_int_equal(a4.bytes - b4.bytes, 3 * 60);
	assert_int_equal(a2.packets - b2.packets, 1);
	assert_int_equal(a3.packets - b3.packets, 1);
	assert_int_equal(a3.bytes - b3.bytes, 14 + 20 + 8 + 32);
}

/* bh_devstats: packets, bytes and drops per source MAC */
static void test_device_counters(void **state)
{
	struct bh_dev_stats b, a, s, lb;
	size_t bytes = 0;

	(void)state;
	clear_state();
	b = dev_stats(LAPTOP);
	lb = lru_stats(LAPTOP);
	f_laptop_nvr_ssh(&F);		/* pass */
	bytes += F.len;
	assert_int_equal(run_ep(EP_XDP, &F), 1);
	f_laptop_cam_telnet(&F);	/* drop */
	bytes += F.len;
	assert_int_equal(run_ep(EP_TC, &F), 0);
	f_laptop_arp_gw(&F);		/* pass */
	bytes += F.len;
	assert_int_equal(run_ep(EP_TC, &F), 1);
	f_vid5(&F);			/* drop at parse, from the nvr: not the laptop's */
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	a = dev_stats(LAPTOP);
	assert_int_equal(a.packets - b.packets, 3);
	/* a device of the policy: all in its bh_devctr slot, none by MAC */
	assert_int_equal(lru_stats(LAPTOP).packets - lb.packets, 0);
	assert_int_equal(a.drops - b.drops, 1);
	assert_int_equal(a.bytes - b.bytes, bytes);
	assert_true(a.last_seen >= b.last_seen && a.last_seen != 0);

	/* an unlisted MAC gets its own entry; a parse drop is counted too */
	s = dev_stats("02:00:00:00:00:77");
	assert_int_equal(s.packets, 0);
	eth(&F, GWMAC, "02:00:00:00:00:77", 0x88cc);
	payload(&F, 40);
	fin(&F);
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	s = dev_stats("02:00:00:00:00:77");
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.drops, 1);
	assert_int_equal(s.bytes, 60);

	/* a group source address is not counted per device */
	f_src_group_mac(&F);
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	s = dev_stats("01:00:5e:00:00:01");
	assert_int_equal(s.packets, 0);
}

/* bh_stats counts bytes as well as packets */
static void test_reason_bytes(void **state)
{
	struct bh_counter b, a;

	(void)state;
	b = percpu_counter(fd.stats, BH_R_DROP_ETHERTYPE);
	f_lldp(&F);
	run_ep(EP_XDP, &F);
	eth(&F, GWMAC, FRIDGE, 0x88cc);
	payload(&F, 200);
	fin(&F);
	run_ep(EP_TC, &F);
	a = percpu_counter(fd.stats, BH_R_DROP_ETHERTYPE);
	assert_int_equal(a.packets - b.packets, 2);
	assert_int_equal(a.bytes - b.bytes, 60 + 214);
}

/* BPF_PROG_TEST_RUN's own answer for a frame: 0, or -errno when refused */
static int test_run_errno(struct bpf_program *prog, bool tc, const void *data, size_t len)
{
	struct __sk_buff skb = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (__u32)len,
		    .repeat = 1);

	if (tc) {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	return bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) ? -errno : 0;
}

/*
 * The kernel's test runner refuses some frames before a program runs:
 * shorter than Ethernet (both programs), and for tc an IPv4 or IPv6 frame
 * without its whole fixed IP header (the skb runner pulls it). Those rows
 * can only go through XDP, which must judge them malformed; the refusals
 * are asserted so that a kernel that starts accepting them is noticed.
 */
static void test_xdp_only_truncated_ip(void **state)
{
	__u8 b[13] = { 0 };

	(void)state;
	assert_int_equal(test_run_errno(skel->progs.bulkhead_xdp, false, b, sizeof(b)), -EINVAL);
	assert_int_equal(test_run_errno(skel->progs.bulkhead_tc_in, true, b, sizeof(b)), -EINVAL);

	f_trunc_ipv4_short_xdp(&F);
	assert_int_equal(test_run_errno(skel->progs.bulkhead_tc_in, true, F.b, F.len), -EINVAL);
	check_run(EP_XDP, &F, 0, BH_R_DROP_MALFORMED, -1, "IPv4 frame with 4 bytes of header");

	f_ipv6_trunc(&F);
	assert_int_equal(test_run_errno(skel->progs.bulkhead_tc_in, true, F.b, F.len), -EINVAL);
	check_run(EP_XDP, &F, 0, BH_R_DROP_MALFORMED, -1, "IPv6 frame with 32 bytes of header");
}

/* ---- deny events (bh_events ring buffer, rate-limited per source MAC) ---------------------- */

#define MAX_EVS	4096
static struct bh_event evs[MAX_EVS];
static size_t n_evs;

static int ev_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size == sizeof(struct bh_event) && n_evs < MAX_EVS)
		memcpy(&evs[n_evs++], data, sizeof(struct bh_event));
	return 0;
}

/* Read every event now in the ring into evs[]; returns how many. */
static size_t ev_drain_fd(int map)
{
	struct ring_buffer *rb = ring_buffer__new(map, ev_cb, NULL, NULL);

	assert_non_null(rb);
	n_evs = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n_evs;
}

static size_t ev_drain(void)
{
	return ev_drain_fd(fd.events);
}

static void ev_reset(void)
{
	__u32 zero = 0;
	struct bh_evlimit *z = calloc((size_t)ncpu, sizeof(*z));

	assert_non_null(z);
	clear_map(fd.evlimit, sizeof(struct bh_mac_key));
	clear_evslots(fd.evslot);
	assert_int_equal(bpf_map_update_elem(fd.evcpu, &zero, z, BPF_ANY), 0);
	free(z);
	ev_drain();
}

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * A frame's time (last seen, conntrack, events) is CLOCK_MONOTONIC_COARSE:
 * bh_now() reads it once per tick and CPU and keeps it in bh_clock. Within
 * a tick or two of the clock around the run, and it moves when jiffies do
 * (a reading kept past its tick would not).
 */
static void test_frame_clock(void **state)
{
	struct bh_clock *c = calloc((size_t)ncpu, sizeof(*c));
	struct timespec res;
	__u64 tick, before, after, t1, t2;
	__u32 zero = 0;
	bool found = false;

	(void)state;
	assert_non_null(c);
	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	tick = (__u64)res.tv_sec * 1000000000ULL + (__u64)res.tv_nsec;
	assert_true(tick > 0);
	clear_state();
	f_laptop_nvr_ssh(&F);
	before = coarse_ns();
	assert_int_equal(run_ep(EP_XDP, &F), 1);
	after = coarse_ns();
	t1 = dev_stats(LAPTOP).last_seen;
	assert_true(t1 + 2 * tick >= before);
	assert_true(t1 <= after);

	usleep((useconds_t)(3 * tick / 1000));	/* three ticks: jiffies move */
	before = coarse_ns();
	assert_int_equal(run_ep(EP_TC, &F), 1);
	after = coarse_ns();
	t2 = dev_stats(LAPTOP).last_seen;
	assert_true(t2 > t1);
	assert_true(t2 + 2 * tick >= before);
	assert_true(t2 <= after);

	/* the CPU that ran it keeps that reading, with its jiffies */
	assert_int_equal(bpf_map_lookup_elem(fd.clock, &zero, c), 0);
	for (int i = 0; i < ncpu; i++)
		if (c[i].ns == t2 && c[i].jiffies)
			found = true;
	assert_true(found);
	free(c);
}

static void test_deny_event_fields(void **state)
{
	struct bh_mac_key smac = mac_key(LAPTOP), dmac = mac_key(CAM);
	__u8 sa[16], da[16];

	(void)state;
	clear_state();
	ev_reset();
	f_laptop_cam_http(&F);		/* passes: no event */
	assert_int_equal(run_ep(EP_TC, &F), 1);
	assert_int_equal(ev_drain(), 0);
	f_laptop_cam_telnet(&F);	/* deny rule 2: exactly one event */
	assert_int_equal(run_ep(EP_TC, &F), 0);
	assert_int_equal(ev_drain(), 1);
	addr16(LAPTOP4, sa);
	addr16(CAM4, da);
	assert_memory_equal(evs[0].smac, smac.mac, 6);
	assert_memory_equal(evs[0].dmac, dmac.mac, 6);
	assert_memory_equal(evs[0].saddr, sa, 16);
	assert_memory_equal(evs[0].daddr, da, 16);
	assert_int_equal(evs[0].eth_proto, 0x0800);
	assert_int_equal(evs[0].proto, 6);
	assert_int_equal(evs[0].is_v4, 1);
	assert_int_equal(evs[0].sport, 40000);
	assert_int_equal(evs[0].dport, 23);
	assert_int_equal(evs[0].reason, BH_R_DROP_RULE);
	assert_int_equal(evs[0].rule_id, RULE_LAPTOP_CAM_TELNET);
	assert_int_equal(evs[0].suppressed, 0);
	assert_true(evs[0].time_ns != 0);
	/* the same frame through XDP: one more */
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	assert_int_equal(ev_drain(), 1);
	assert_int_equal(evs[0].reason, BH_R_DROP_RULE);
}

/* A burst of 1000 denied frames: at most BH_EV_BURST (+ refill) events; the
 * next event after a refill carries the rest as .suppressed. */
static void test_deny_event_rate_limit(void **state)
{
	struct bh_counter before = percpu_counter(fd.stats, BH_R_DROP_RULE), after;
	const __u32 burst = 1000;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = burst);
	struct timespec ts = { 0, 1000000000L / BH_EV_RATE + 20000000L };
	size_t n;
	__u64 sum = 0;

	(void)state;
	clear_state();
	ev_reset();
	f_laptop_cam_telnet(&F);
	opts.data_in = F.b;
	opts.data_size_in = (__u32)F.len;
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bulkhead_xdp),
						&opts), 0);
	assert_int_equal(opts.retval, XDP_DROP);
	after = percpu_counter(fd.stats, BH_R_DROP_RULE);
	assert_int_equal(after.packets - before.packets, burst);
	n = ev_drain();
	assert_true(n >= BH_EV_BURST && n <= BH_EV_BURST + 2);
	for (size_t i = 0; i < n; i++)
		sum += 1 + evs[i].suppressed;
	nanosleep(&ts, NULL);
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	assert_int_equal(ev_drain(), 1);
	assert_true(evs[0].suppressed >= burst - BH_EV_BURST - 2);
	sum += 1 + evs[0].suppressed;
	assert_int_equal(sum, burst + 1);	/* events + suppressed = drops */

	/* another MAC has its own bucket */
	f_vid5(&F);
	assert_int_equal(run_ep(EP_XDP, &F), 0);
	assert_int_equal(ev_drain(), 1);
	assert_int_equal(evs[0].reason, BH_R_DROP_VLAN);
}

/* ---- the flow verdict cache, through the controller's own writers ------------------ */
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
	__u64 sum = 0;
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
	assert_int_equal(bpf_prog_test_run_opts(xdp, &o), 0);
	assert_int_equal(o.retval, XDP_DROP);
	n = ev_drain_fd(cm.events);
	assert_true(n >= BH_EV_BURST && n <= BH_EV_BURST + 2);
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
	assert_int_equal(bpf_prog_test_run_opts(xdp, &o), 0);
	n = ev_drain_fd(cm.events);
	for (size_t i = 0; i < n; i++)
		sum += 1 + evs[i].suppressed;
	assert_int_equal(bpf_map_lookup_elem(cm.evlimit, &nvr, &b), 0);
	assert_int_equal(sum + b.suppressed, 2001);
	assert_true(b.suppressed >= 1000 - BH_EV_BURST - 2);
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

/* ---- main ------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return -1;
	skel = bulkhead_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bulkhead_bpf__open_and_load: %s\n", strerror(errno));
		return -1;
	}
#define FD(f) fd.f = bpf_map__fd(skel->maps.bh_##f)
	FD(active); FD(config); FD(groups); FD(devices); FD(ips); FD(policy); FD(inet);
	FD(talk); FD(gw_mac); FD(gw_ip); FD(lan); FD(quarantine); FD(ct); FD(frag);
	FD(stats); FD(rulestats); FD(devstats); FD(devctr); FD(events); FD(evlimit); FD(evcpu);
	FD(vepoch); FD(vcache); FD(clock); FD(evslot); FD(port); FD(macport); FD(claim);
#undef FD
	write_gateway();
	write_policy_a();
	set_active(0, 1);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bulkhead_bpf__destroy(skel);
	return 0;
}

static int cache_tests(void)
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


/* ==== detection call sites (issue 18) ================================================
 * The verdict feeds lib/detect.h: denied first packets, refusals, worm
 * ports, the blocklist (drop_block) and the quarantine level lan, through
 * the real programs. Kept in one block: this file is being split by area.
 */

static struct bh_det_signal det_sig[16];
static int det_n;

static int det_cb(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len == sizeof(struct bh_det_signal) && det_n < 16)
		memcpy(&det_sig[det_n], data, len);
	det_n++;
	return 0;
}

/* the signals put on bh_signals since the last call */
static int det_drain(void)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.bh_signals), det_cb,
						  NULL, NULL);

	assert_non_null(rb);
	det_n = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return det_n;
}

/* detection on: port scans act at 15, telnet at 10, a blocklist hit at 1, the rest off */
static void det_on(void)
{
	struct bh_det_cfg c = { .flags = BH_DETC_ON, .salt = 0x5eed,
				.telnet_ports = { 23, 2323 } };
	__u32 zero = 0;

	c.thr[BH_DET_PORT_SCAN] = (struct bh_det_thr){ .act = 15, .window_ms = 300000 };
	c.thr[BH_DET_TELNET] = (struct bh_det_thr){ .act = 10, .window_ms = 60000 };
	c.thr[BH_DET_BLOCK] = (struct bh_det_thr){ .act = 1, .window_ms = 300000 };
	upd(bpf_map__fd(skel->maps.bh_detect_cfg), &zero, &c);
	clear_map(bpf_map__fd(skel->maps.bh_detect), sizeof(struct bh_mac_key));
	clear_state();
	det_drain();
}

static void det_off(void)
{
	struct bh_det_cfg c = {};
	__u32 zero = 0;

	upd(bpf_map__fd(skel->maps.bh_detect_cfg), &zero, &c);
	clear_map(bpf_map__fd(skel->maps.bh_detect), sizeof(struct bh_mac_key));
	det_drain();
}

/* A port scan of denied SYNs through the real program: one signal, at the 15th port. */
static void test_detect_port_scan(void **state)
{
	__u8 a[16];

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		det_on();
		for (int i = 0; i < 15; i++) {
			tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, (uint16_t)(1000 + i), SYN);
			check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "fridge scans camera");
			assert_int_equal(det_drain(), i == 14 ? 1 : 0);
		}
		addr16(CAM4, a);
		assert_int_equal(det_sig[0].kind, BH_DET_PORT_SCAN);
		assert_int_equal(det_sig[0].level, BH_DET_ACT);
		assert_int_equal(det_sig[0].count, 15);
		assert_int_equal(det_sig[0].port, 1014);
		assert_memory_equal(det_sig[0].mac, mac_key(FRIDGE).mac, 6);
		assert_memory_equal(det_sig[0].addr, a, 16);
		/* the 16th port: the level fired in this window already */
		tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 2000, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "16th port");
		assert_int_equal(det_drain(), 0);
	}
	det_off();
}

/* Refused attempts count for the opener: RSTs back from closed ports of an allowed peer. */
static void test_detect_refused(void **state)
{
	(void)state;
	det_on();
	for (int i = 0; i < 15; i++) {
		/* laptop -> nvr: any tcp allowed; the nvr answers RST|ACK */
		tcp4(&F, NVR, LAPTOP, LAPTOP4, NVR4, 41000, (uint16_t)(3000 + i), SYN);
		check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, -1, "laptop opens nvr port");
		tcp4(&F, LAPTOP, NVR, NVR4, LAPTOP4, (uint16_t)(3000 + i), 41000, RST | ACK);
		check_run(EP_XDP, &F, 1, BH_R_PASS_REPLY, -1, "nvr refuses");
	}
	assert_int_equal(det_drain(), 1);
	assert_int_equal(det_sig[0].kind, BH_DET_PORT_SCAN);
	assert_memory_equal(det_sig[0].mac, mac_key(LAPTOP).mac, 6);
	assert_true(det_sig[0].flags & (BH_DETN_REFUSED >> 24));
	det_off();
}

/* Allowed flows make no signal and no detection state. */
static void test_detect_allowed_quiet(void **state)
{
	struct bh_mac_key k = mac_key(NVR);
	struct bh_det_state st;

	(void)state;
	det_on();
	for (int i = 0; i < 40; i++) {
		tcp4(&F, CAM, NVR, NVR4, CAM4, (uint16_t)(42000 + i), 554, SYN);
		check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, -1, "nvr pulls camera");
		tcp4(&F, NVR, CAM, CAM4, NVR4, 554, (uint16_t)(42000 + i), SYN | ACK);
		check_run(EP_XDP, &F, 1, BH_R_PASS_REPLY, -1, "camera answers");
	}
	assert_int_equal(det_drain(), 0);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.bh_detect), &k, &st), 0);
	det_off();
}

/* A blocklisted internet address: drop_block, one act signal; the rest of the CIDR passes. */
static void test_detect_blocklist(void **state)
{
	struct bh_block_key bk = { .prefixlen = 96 + 32 };
	__u32 line = 7;

	(void)state;
	det_on();
	addr16("203.0.113.66", bk.addr);
	upd(bpf_map__fd(skel->maps.bh_block), &bk, &line);
	for (int ep = 0; ep < EP_N; ep++) {
		tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.66", 43000, 443, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_BLOCK, -1, "camera to a listed address");
		tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.67", 43000, 443, SYN);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, -1, "camera to its cloud");
	}
	assert_int_equal(det_drain(), 1);
	assert_int_equal(det_sig[0].kind, BH_DET_BLOCK);
	assert_int_equal(det_sig[0].level, BH_DET_ACT);
	assert_memory_equal(det_sig[0].mac, mac_key(CAM).mac, 6);
	/* a bogon on the list never touches the LAN */
	addr16(NVR4, bk.addr);
	upd(bpf_map__fd(skel->maps.bh_block), &bk, &line);
	tcp4(&F, CAM, NVR, NVR4, CAM4, 43001, 554, SYN);
	check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, -1, "listed LAN address");
	clear_map(bpf_map__fd(skel->maps.bh_block), sizeof(bk));
	det_off();
}

/* Quarantine level lan: the internet kept, the LAN cut both ways; full cuts both. */
static void test_detect_lan_quarantine(void **state)
{
	struct bh_mac_key k = mac_key(CAM);
	struct bh_quar_val v = { .since = 1, .level = BH_QLVL_LAN };

	(void)state;
	clear_state();
	upd(fd.quarantine, &k, &v);
	for (int ep = 0; ep < EP_N; ep++) {
		tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.5", 44000, 443, SYN);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, -1, "lan level: camera to its cloud");
		tcp4(&F, GWMAC, CAM, CAM4, "198.51.100.5", 44000, 443, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "lan level: policy still judges");
		tcp4(&F, NVR, CAM, CAM4, NVR4, 44000, 80, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_QUARANTINE, -1, "lan level: camera to nvr");
		tcp4(&F, CAM, NVR, NVR4, CAM4, 44001, 554, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_QUARANTINE, -1, "lan level: nvr to camera");
		arp4(&F, BCAST, CAM, 1, CAM, CAM4, ZMAC, NVR4);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_QUARANTINE, -1, "lan level: camera resolves nvr");
	}
	v.level = BH_QLVL_FULL;
	upd(fd.quarantine, &k, &v);
	tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.5", 44002, 443, SYN);
	check_run(EP_XDP, &F, 0, BH_R_DROP_QUARANTINE, -1, "full level: camera to its cloud");
	release(CAM);
}

int main(void)
{
	static const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_egress_gateway_syn),
		cmocka_unit_test(test_egress_udp_icmp_v6_routed),
		cmocka_unit_test(test_egress_records_only_gateway_openings),
		cmocka_unit_test(test_icmp_error_quoting_tracked_flow),
		cmocka_unit_test(test_ct_refresh),
		cmocka_unit_test(test_ct_refreshed_by_replies),
		cmocka_unit_test(test_generation_flip),
		cmocka_unit_test(test_rule_counters),
		cmocka_unit_test(test_device_counters),
		cmocka_unit_test(test_frame_clock),
		cmocka_unit_test(test_reason_bytes),
		cmocka_unit_test(test_xdp_only_truncated_ip),
		cmocka_unit_test(test_deny_event_fields),
		cmocka_unit_test(test_deny_event_rate_limit),
		cmocka_unit_test(test_address_claims),
		cmocka_unit_test(test_address_claim_cached),
		cmocka_unit_test(test_flood_per_port),
		cmocka_unit_test(test_port_learning),
		cmocka_unit_test(test_detect_port_scan),
		cmocka_unit_test(test_detect_refused),
		cmocka_unit_test(test_detect_allowed_quiet),
		cmocka_unit_test(test_detect_blocklist),
		cmocka_unit_test(test_detect_lan_quarantine),
	};
	size_t n_rows = sizeof(rows) / sizeof(rows[0]);
	size_t n_extra = sizeof(extra) / sizeof(extra[0]);
	struct CMUnitTest *tests = calloc(n_rows + n_extra, sizeof(*tests));
	int ret;

	if (!tests)
		return 1;
	for (size_t i = 0; i < n_rows; i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = row_test;
		tests[i].setup_func = row_setup;
		tests[i].teardown_func = row_teardown;
		tests[i].initial_state = (void *)&rows[i];
	}
	memcpy(tests + n_rows, extra, sizeof(extra));
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	ret = _cmocka_run_group_tests("verdict", tests, n_rows + n_extra, group_setup,
				      group_teardown);
	free(tests);
	return cache_tests() || ret;
}
