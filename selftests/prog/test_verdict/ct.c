// SPDX-License-Identifier: GPL-2.0
/*
 * ct.c - test_verdict, connection tracking and replies: stateful east-west
 * flows, ICMP errors, IPv4 fragments, fragmented replies, what the egress
 * program records.
 */
#include "verdict.h"

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
};

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_egress_gateway_syn),
	cmocka_unit_test(test_egress_udp_icmp_v6_routed),
	cmocka_unit_test(test_egress_records_only_gateway_openings),
	cmocka_unit_test(test_icmp_error_quoting_tracked_flow),
	cmocka_unit_test(test_ct_refresh),
	cmocka_unit_test(test_ct_refreshed_by_replies),
};

VERDICT_AREA(ct, rows, ARRAY_SIZE(rows), tests, ARRAY_SIZE(tests));
