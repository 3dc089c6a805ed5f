// SPDX-License-Identifier: GPL-2.0
/*
 * ipv6.c - test_verdict, IPv6: extension headers, fragments, ND, RA, rogue
 * servers, multicast.
 */
#include "verdict.h"

static const struct row rows[] = {
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

	/* ---- IPv6 multicast ---- */
	{ "xdp+tc: laptop mDNS to ff02::fb passes (rule 7)", f_laptop_mdns6, P, BH_R_PASS_RULE,
	  RULE(RULE_LAPTOP_MDNS) },
	{ "xdp+tc: fridge mDNS to ff02::fb dropped (default deny)", f_fridge_mdns6, D,
	  BH_R_DROP_DEFAULT },
};

VERDICT_AREA(ipv6, rows, ARRAY_SIZE(rows), NULL, 0);
