// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c - test_verdict, L2 and parsing: ARP, VLAN tags, malformed and
 * truncated frames, ethertypes, the IP length against the frame, forged IP
 * sources.
 */
#include "verdict.h"

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

static const struct row rows[] = {
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
};

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_xdp_only_truncated_ip),
};

VERDICT_AREA(parse, rows, ARRAY_SIZE(rows), tests, ARRAY_SIZE(tests));
