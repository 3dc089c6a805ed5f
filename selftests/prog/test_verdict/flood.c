// SPDX-License-Identifier: GPL-2.0
/*
 * flood.c - test_verdict, flooded frames, judged per port on egress; port
 * learning.
 */
#include "verdict.h"

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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_flood_per_port),
	cmocka_unit_test(test_port_learning),
};

VERDICT_AREA(flood, NULL, 0, tests, ARRAY_SIZE(tests));
