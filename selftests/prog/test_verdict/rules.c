// SPDX-License-Identifier: GPL-2.0
/*
 * rules.c - test_verdict, talk and rules: internet, the gateway, defaults, no
 * valid policy, a generation flip.
 */
#include "verdict.h"

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

static const struct row rows[] = {
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

	/* ---- no policy ---- */
	{ "xdp+tc: no valid policy: nvr->camera tcp/554 dropped (nopolicy)", f_nvr_cam_syn, D,
	  BH_R_DROP_NOPOLICY, 0, invalidate_policy, restore_policy },
	{ "xdp+tc: no valid policy: ARP for the gateway dropped (nopolicy)", f_laptop_arp_gw, D,
	  BH_R_DROP_NOPOLICY, 0, invalidate_policy, restore_policy },
	{ "xdp+tc: policy restored: nvr->camera tcp/554 passes (rule 0)", f_nvr_cam_syn, P,
	  BH_R_PASS_RULE, RULE(RULE_NVR_CAM_RTSP) },
};

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_generation_flip),
};

VERDICT_AREA(rules, rows, ARRAY_SIZE(rows), tests, ARRAY_SIZE(tests));
