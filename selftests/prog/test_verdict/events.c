// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - test_verdict, events and accounting: rule, device and reason
 * counters (packets and bytes), the frame clock, deny events and their rate
 * limit.
 */
#include "verdict.h"

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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rule_counters),
	cmocka_unit_test(test_device_counters),
	cmocka_unit_test(test_frame_clock),
	cmocka_unit_test(test_reason_bytes),
	cmocka_unit_test(test_deny_event_fields),
	cmocka_unit_test(test_deny_event_rate_limit),
};

VERDICT_AREA(events, NULL, 0, tests, ARRAY_SIZE(tests));
