// SPDX-License-Identifier: GPL-2.0
/*
 * pin.c - test_verdict, per-port MAC pinning (bpf/lib/pin.h): a MAC the
 * policy pins to a port is accepted only from that port, before the
 * verdict cache, through the controller's own writer (bh_dp_pins()).
 */
#include "verdict.h"

B(f_laptop_gw_dns_pin, udp4(f, GWMAC, LAPTOP, LAPTOP4, GW4, 5000, 53))
B(f_cam_gw_dns_pin, udp4(f, GWMAC, CAM, CAM4, GW4, 5353, 53))

/* BPF_PROG_TEST_RUN's frames come in by lo */
#define TEST_PORT	1
#define OTHER_PORT	4242

/* the maps bh_dp_pins() writes, and bh_dp_invalidate() bumps */
static int pins_write(const struct bh_pin_pair *pp, size_t n)
{
	struct bh_maps m;

	memset(&m, 0xff, sizeof(m));	/* -1: no other map */
	m.pin = fd.pin;
	m.pinned = fd.pinned;
	m.vepoch = fd.vepoch;
	return bh_dp_pins(&m, pp, n);
}

static void pin(const char *mac, __u32 ifindex)
{
	struct bh_pin_pair pp = { .ifindex = ifindex };

	mac_of(mac, pp.mac);
	assert_int_equal(pins_write(&pp, 1), 0);
}

static __u32 pinned_count(void)
{
	__u32 zero = 0, n = 99;

	assert_int_equal(bpf_map_lookup_elem(fd.pinned, &zero, &n), 0);
	return n;
}

static void test_port_pin(void **state)
{
	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		clear_state();
		assert_int_equal(pins_write(NULL, 0), 0);
		assert_int_equal(pinned_count(), 0);
		f_laptop_gw_dns_pin(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "nothing pinned");
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "nothing pinned, cached");

		pin(LAPTOP, TEST_PORT);
		assert_int_equal(pinned_count(), 1);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "pinned to the port it came by");

		/* the same frame, cached as passed: from another port it is not
		 * the laptop's, and no cached verdict says otherwise */
		pin(LAPTOP, OTHER_PORT);
		n_evs = 0;
		ev_drain_fd(fd.events);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "pinned to another port");
		n_evs = 0;
		ev_drain_fd(fd.events);
		assert_true(n_evs >= 1);
		assert_int_equal(evs[n_evs - 1].reason, BH_R_DROP_SPOOF);
		assert_int_equal(evs[n_evs - 1].rule_id, BH_RULE_PIN);
		f_cam_gw_dns_pin(&F);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "an unpinned MAC");

		/* a port that does not exist now: pinned to none */
		pin(LAPTOP, 0);
		f_laptop_gw_dns_pin(&F);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_SPOOF, -1, "pinned to a port gone");

		/* unpinned: judged by the policy again */
		assert_int_equal(pins_write(NULL, 0), 0);
		assert_int_equal(pinned_count(), 0);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, RULE_DNS, "unpinned");
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_port_pin),
};

VERDICT_AREA(pin, NULL, 0, tests, ARRAY_SIZE(tests));
