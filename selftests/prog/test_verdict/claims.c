// SPDX-License-Identifier: GPL-2.0
/*
 * claims.c - test_verdict, learned address claims: an unbound address taken by
 * the first MAC that uses it, kept while used, given up after a quiet timeout.
 */
#include "verdict.h"

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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_address_claims),
	cmocka_unit_test(test_address_claim_cached),
};

VERDICT_AREA(claims, NULL, 0, tests, ARRAY_SIZE(tests));
