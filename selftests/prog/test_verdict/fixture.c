// SPDX-License-Identifier: GPL-2.0
/*
 * fixture.c - test_verdict's fixture: the objects loaded once (no attach), the
 * hand-written policy in the maps (the ABI structs, no compiler), the counters
 * read back, a frame run through XDP or tc ingress with its verdict and
 * counters checked, a table row run through both, and the hooks the rows call
 * before and after.
 */
#include "verdict.h"

struct bulkhead_bpf *skel;
int ncpu;
struct verdict_fds fd;

/* ---- address helpers ---------------------------------------------------------- */

/* "a.b.c.d" as v4-mapped, or an IPv6 address, into 16 bytes */
void addr16(const char *s, __u8 out[16])
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

struct bh_mac_key mac_key(const char *s)
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
void invalidate(void)
{
	__u32 zero = 0, v = 0;

	if (bpf_map_lookup_elem(fd.vepoch, &zero, &v))
		fail_msg("bh_vepoch: %s", strerror(errno));
	v++;
	if (bpf_map_update_elem(fd.vepoch, &zero, &v, BPF_ANY))
		fail_msg("bh_vepoch: %s", strerror(errno));
}

void upd(int map, const void *k, const void *v)
{
	if (bpf_map_update_elem(map, k, v, BPF_ANY))
		fail_msg("map update: %s", strerror(errno));
	invalidate();
}

void put_group(__u32 gen, __u16 g, __u8 internet)
{
	__u32 k = gen * BH_MAX_GROUPS + g;
	struct bh_group v = { .internet = internet, .valid = 1 };

	upd(fd.groups, &k, &v);
}

void put_device(__u32 gen, const char *mac, __u16 group, __u16 flags, __u32 id)
{
	struct bh_dev_key k = { .gen = (__u8)gen };
	struct bh_dev_val v = { .group = group, .flags = flags, .ctr_slot = id };

	mac_of(mac, k.mac);
	upd(fd.devices, &k, &v);
}

void put_ip(__u32 gen, const char *addr, const char *mac, __u16 group)
{
	struct bh_ip_key k = { .gen = (__u8)gen };
	struct bh_ip_val v = { .group = group };

	addr16(addr, k.addr);
	mac_of(mac, v.mac);
	upd(fd.ips, &k, &v);
}

void put_pol(__u32 gen, __u16 sg, __u16 dg, __u8 proto, __u16 port, __u8 action,
		    __u32 rule)
{
	struct bh_pol_key k = { .gen = (__u8)gen, .proto = proto, .port = port,
				.sgroup = sg, .dgroup = dg };
	struct bh_pol_val v = { .action = action, .rule_id = rule };

	upd(fd.policy, &k, &v);
}

void put_talk(__u32 gen, __u16 a, __u16 b)
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

void put_config(__u32 gen, __u32 flags, __u32 epoch)
{
	struct bh_config c = { .flags = flags, .unknown_group = G_UNKNOWN,
			       .qallow = BH_SVC_DHCP | BH_SVC_DNS, .epoch = epoch,
			       .abi_version = BH_ABI_VERSION };

	upd(fd.config, &gen, &c);
}

void set_active(__u32 gen, __u32 epoch)
{
	struct bh_active a = { .gen = gen, .epoch = epoch };
	__u32 zero = 0;

	upd(fd.active, &zero, &a);
}

/* groups, devices, bound addresses: the same in both generations */
void put_members(__u32 gen)
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
void write_policy_a(void)
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
void write_policy_b(void)
{
	put_members(1);
	put_pol(1, G_FRIDGE, G_CAMERAS, IPPROTO_TCP, 554, BH_ACT_ALLOW, RULE1_FRIDGE_CAM_RTSP);
	put_talk(1, G_FRIDGE, G_CAMERAS);
	put_config(1, BH_CFG_VALID, 2);
}

/* the gateway: MAC, LAN addresses and prefixes (generation independent) */
void write_gateway(void)
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
void clear_map_raw(int map)
{
	__u8 next[64];

	while (!bpf_map_get_next_key(map, NULL, next))
		if (bpf_map_delete_elem(map, next))
			fail_msg("map delete: %s", strerror(errno));
}

/* ... and as a controller write */
void clear_map(int map, size_t key_size)
{
	assert_true(key_size <= 64);
	clear_map_raw(map);
	invalidate();
}

void clear_state(void)
{
	clear_map(fd.ct, sizeof(struct bh_ct_key));
	clear_map(fd.frag, sizeof(struct bh_frag_key));
	clear_map(fd.claim, sizeof(struct bh_addr_key));
}

void quarantine(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);
	struct bh_quar_val v = { .since = 1 };

	upd(fd.quarantine, &k, &v);
}

void release(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);

	bpf_map_delete_elem(fd.quarantine, &k);
	invalidate();
}

/* ---- counters ------------------------------------------------------------------- */

struct bh_counter percpu_counter(int map, __u32 key)
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

__u64 reason_count(__u32 reason)
{
	return percpu_counter(fd.stats, reason).packets;
}

__u64 rule_count(__u32 gen, __u32 rule)
{
	return percpu_counter(fd.rulestats, gen * BH_MAX_RULES + rule).packets;
}

/* add the per-CPU counters at @key of @map (if any) into @sum */
void add_devstats(int map, const void *key, struct bh_dev_stats *sum)
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
__u32 dev_slot(int devices, const struct bh_mac_key *k)
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
struct bh_dev_stats slot_devstats(int devices, int devctr, const struct bh_mac_key *k)
{
	struct bh_dev_stats sum = {};
	__u32 slot = dev_slot(devices, k);

	if (slot)
		add_devstats(devctr, &slot, &sum);
	return sum;
}

/* a MAC's counters as the readers add them: its slot and its bh_devstats entry */
struct bh_dev_stats sum_devstats(int devices, int devctr, int devstats,
					const struct bh_mac_key *k)
{
	struct bh_dev_stats sum = slot_devstats(devices, devctr, k);

	add_devstats(devstats, k, &sum);
	return sum;
}

/* a MAC's deny event bucket: at its counter slot, else in bh_evlimit; 0 when found */
int ev_bucket(int devices, int evslot, int evlimit, const struct bh_mac_key *k,
		     struct bh_evlimit *b)
{
	__u32 slot = dev_slot(devices, k);

	return slot ? bpf_map_lookup_elem(evslot, &slot, b) : bpf_map_lookup_elem(evlimit, k, b);
}

/* zero every slot's deny event bucket, as a fresh load has them */
void clear_evslots(int evslot)
{
	struct bh_evlimit z = {};

	for (__u32 i = 0; i < BH_MAX_DEVCTR; i++)
		assert_int_equal(bpf_map_update_elem(evslot, &i, &z, BPF_ANY), 0);
}

struct bh_dev_stats dev_stats(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);

	return sum_devstats(fd.devices, fd.devctr, fd.devstats, &k);
}

/* only what bh_devstats holds for @mac (by MAC, not by slot) */
struct bh_dev_stats lru_stats(const char *mac)
{
	struct bh_mac_key k = mac_key(mac);
	struct bh_dev_stats sum = {};

	add_devstats(fd.devstats, &k, &sum);
	return sum;
}

#define REASON_ID(id, name)	[BH_R_##id] = #id,
const char *const reason_name[BH_R_MAX] = { BH_REASONS(REASON_ID) };

/* ---- running a frame --------------------------------------------------------------- */

const char *const ep_name[EP_N] = { "xdp", "tc" };

struct bpf_program *ep_prog(enum ep ep)
{
	return ep == EP_XDP ? skel->progs.bulkhead_xdp : skel->progs.bulkhead_tc_in;
}

/* Run @f through a program: 1 pass, 0 drop; fails on errors and other codes. */
int run_prog(struct bpf_program *prog, bool tc, const struct frame *f)
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

int run_ep(enum ep ep, const struct frame *f)
{
	return run_prog(ep_prog(ep), ep == EP_TC, f);
}

/*
 * Run @f through @ep and check: verdict @pass, bh_stats[@reason] +1 and no
 * other reason counter moved, and when @rule >= 0, rule counter +1.
 */

void check_run(enum ep ep, const struct frame *f, int pass, __u32 reason,
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

struct frame F;

/* Run one row through both programs, state cleared before each. */
void run_row(const struct row *r)
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

int row_setup(void **state)
{
	const struct row *r = *state;

	if (r->pre)
		r->pre();
	return 0;
}

int row_teardown(void **state)
{
	const struct row *r = *state;

	if (r->post)
		r->post();
	return 0;
}

void row_test(void **state)
{
	run_row(*state);
}

/* pre/post hooks */
void set_cfg_flags(__u32 set, __u32 clear)
{
	__u32 k = 0;
	struct bh_config c;

	assert_int_equal(bpf_map_lookup_elem(fd.config, &k, &c), 0);
	c.flags = (c.flags | set) & ~clear;
	upd(fd.config, &k, &c);
}
void ew_allow(void) { set_cfg_flags(BH_CFG_EW_ALLOW, 0); }
void ew_deny(void) { set_cfg_flags(0, BH_CFG_EW_ALLOW); }
void gw_allow(void) { set_cfg_flags(BH_CFG_GW_ALLOW, 0); }
void gw_deny(void) { set_cfg_flags(0, BH_CFG_GW_ALLOW); }
void laptop_group_invalid(void)
{
	put_group(0, G_LAPTOP, BH_ACT_ALLOW);
	{
		__u32 k = G_LAPTOP;
		struct bh_group g = { .internet = BH_ACT_ALLOW, .valid = 0 };

		upd(fd.groups, &k, &g);
	}
}
void laptop_group_valid(void) { put_group(0, G_LAPTOP, BH_ACT_ALLOW); }
void q_laptop(void) { quarantine(LAPTOP); }
void unq_laptop(void) { release(LAPTOP); }
void q_nvr(void) { quarantine(NVR); }
void unq_nvr(void) { release(NVR); }

/* age every bh_ct / bh_frag entry past its timeout */
void age_state(void)
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

void q_cam(void) { quarantine(CAM); }
void unq_cam(void) { release(CAM); }
void q_release_cam(void) { quarantine(CAM); release(CAM); }

static struct bh_config saved_cfg;
void invalidate_policy(void)
{
	__u32 k = 0;
	struct bh_config c;

	assert_int_equal(bpf_map_lookup_elem(fd.config, &k, &saved_cfg), 0);
	c = saved_cfg;
	c.flags &= ~BH_CFG_VALID;
	upd(fd.config, &k, &c);
}
void restore_policy(void)
{
	__u32 k = 0;

	upd(fd.config, &k, &saved_cfg);
}

int group_setup(void **state)
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
	FD(pin); FD(pinned);
#undef FD
	write_gateway();
	write_policy_a();
	set_active(0, 1);
	return 0;
}

int group_teardown(void **state)
{
	(void)state;
	bulkhead_bpf__destroy(skel);
	return 0;
}

/* ---- deny events (bh_events ring buffer) ---- */

struct bh_event evs[MAX_EVS];
size_t n_evs;

static int ev_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size == sizeof(struct bh_event) && n_evs < MAX_EVS)
		memcpy(&evs[n_evs++], data, sizeof(struct bh_event));
	return 0;
}

/* Read every event now in the ring into evs[]; returns how many. */
size_t ev_drain_fd(int map)
{
	struct ring_buffer *rb = ring_buffer__new(map, ev_cb, NULL, NULL);

	assert_non_null(rb);
	n_evs = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n_evs;
}
