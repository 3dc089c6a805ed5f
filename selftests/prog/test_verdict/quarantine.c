// SPDX-License-Identifier: GPL-2.0
/*
 * quarantine.c - test_verdict, quarantine: a quarantined device's frames,
 * unknown devices, corners.
 */
#include "verdict.h"

static const struct row rows[] = {
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
};

VERDICT_AREA(quarantine, rows, ARRAY_SIZE(rows), NULL, 0);
