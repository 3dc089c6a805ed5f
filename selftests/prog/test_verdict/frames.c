// SPDX-License-Identifier: GPL-2.0
/*
 * frames.c - the frames test_verdict's table rows send, one builder each
 * (declared in verdict.h).
 */
#include "verdict.h"

#undef B
#define B(fn, ...) void fn(struct frame *f) { __VA_ARGS__; }

/* east-west, stateful */
B(f_nvr_cam_syn, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 554, SYN))
B(f_cam_nvr_synack, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, SYNACK))
B(f_cam_nvr_ack, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, ACK))
B(f_cam_nvr_syn_same_tuple, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40000, SYN))
B(f_cam_nvr_syn, tcp4(f, NVR, CAM, CAM4, NVR4, 41000, 554, SYN))
B(f_cam_nvr_ack_untracked, tcp4(f, NVR, CAM, CAM4, NVR4, 554, 40999, ACK))
B(f_nvr_cam_syn_80, tcp4(f, CAM, NVR, NVR4, CAM4, 40000, 80, SYN))
B(f_fridge_cam_syn, tcp4(f, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 554, SYN))
B(f_laptop_nvr_ssh, tcp4(f, NVR, LAPTOP, LAPTOP4, NVR4, 40000, 22, SYN))
B(f_laptop_nvr_udp, udp4(f, NVR, LAPTOP, LAPTOP4, NVR4, 40000, 53))
B(f_laptop_cam_echo, icmp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 8, 77))
B(f_cam_laptop_echoreply, icmp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 0, 77))
B(f_cam_laptop_echoreply_other, icmp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 0, 78))
B(f_cam_laptop_echo, icmp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 8, 77))
B(f_laptop_cam_udp, udp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 5000, 9000))
B(f_cam_laptop_udp_reply, udp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 9000, 5000))
B(f_cam_laptop_udp_otherport, udp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 9000, 5001))
B(f_cam_laptop_port_unreach, icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, LAPTOP4, CAM4,
				       IPPROTO_UDP, 5000, 9000))
B(f_cam_laptop_port_unreach_untracked, icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, LAPTOP4,
						 CAM4, IPPROTO_UDP, 5001, 9000))
/* an error that quotes a packet the camera did not receive: forged */
B(f_cam_laptop_port_unreach_forged, icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, NVR4, CAM4,
					      IPPROTO_UDP, 5000, 9000))
/* a third party (the fridge) quoting the laptop's tracked flow to the camera */
B(f_fridge_laptop_port_unreach, icmp4_err(f, LAPTOP, FRIDGE, FRIDGE4, LAPTOP4, 3, 3, LAPTOP4,
					  CAM4, IPPROTO_UDP, 5000, 9000))
B(f_fridge_laptop_frag_needed, icmp4_err(f, LAPTOP, FRIDGE, FRIDGE4, LAPTOP4, 3, 4, LAPTOP4,
					 CAM4, IPPROTO_UDP, 5000, 9000))
B(f_cam_laptop_unreach_ihl6,	/* a quoted header with options is not read */
  icmp4_err(f, LAPTOP, CAM, CAM4, LAPTOP4, 3, 3, LAPTOP4, CAM4, IPPROTO_UDP, 5000, 9000);
  f->b[14 + 20 + 8] = 0x46)
B(f_cam_laptop_rst, tcp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 80, 40000, RST | ACK))
B(f_cam_laptop_fin, tcp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 80, 40000, FIN | ACK))
B(f_laptop_cam_echo6,
  eth(f, CAM, LAPTOP, 0x86dd); ipv6(f, LAPTOP6, CAM6, 58); icmp(f, 128, 0, 99); payload(f, 16);
  fin(f))
B(f_cam_laptop_echoreply6,
  eth(f, LAPTOP, CAM, 0x86dd); ipv6(f, CAM6, LAPTOP6, 58); icmp(f, 129, 0, 99); payload(f, 16);
  fin(f))
B(f_laptop_cam_udp6,
  eth(f, CAM, LAPTOP, 0x86dd); ipv6(f, LAPTOP6, CAM6, 17); udp(f, 5000, 9000); payload(f, 8);
  fin(f))
B(f_cam_laptop_unreach6,	/* ICMPv6 port unreachable quoting the laptop's datagram */
  eth(f, LAPTOP, CAM, 0x86dd); ipv6(f, CAM6, LAPTOP6, 58); icmp(f, 1, 4, 0);
  ipv6_quoted(f, LAPTOP6, CAM6, 17, 16); put16(f, 5000); put16(f, 9000); put16(f, 16);
  put16(f, 0); fin(f))
B(f_laptop_gw_dns, udp4(f, GWMAC, LAPTOP, LAPTOP4, GW4, 5353, 53))
B(f_laptop_stranger, tcp4(f, STRANGER, LAPTOP, LAPTOP4, "192.168.50.77", 40000, 80, SYN))
B(f_stranger_as_nvr, tcp4(f, CAM, STRANGER, NVR4, CAM4, 40000, 554, SYN))
B(f_laptop_arp_unlisted, arp4(f, BCAST, LAPTOP, 1, LAPTOP, LAPTOP4, ZMAC, "192.168.50.99"))
B(f_fridge_arp_unlisted, arp4(f, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, "192.168.50.99"))
B(f_laptop_ns_unlisted,
  eth(f, "33:33:ff:00:00:99", LAPTOP, 0x86dd); ipv6(f, LAPTOP6, "ff02::1:ff00:99", 58);
  nd(f, 135, "fd00:50::99"); fin(f))
B(f_fridge_ns_unlisted,
  eth(f, "33:33:ff:00:00:99", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:99", 58);
  nd(f, 135, "fd00:50::99"); fin(f))
/* the nvr's SYN-ACK... sent by the camera to the fridge's MAC (a poisoned cache) */
B(f_cam_synack_to_fridge, tcp4(f, FRIDGE, CAM, CAM4, NVR4, 554, 40000, SYNACK))
B(f_nvr_arp_unicast_qcam, arp4(f, CAM, NVR, 1, NVR, NVR4, CAM, CAM4))
B(f_laptop_mdns6,
  eth(f, "33:33:00:00:00:fb", LAPTOP, 0x86dd); ipv6(f, "fe80::41", "ff02::fb", 17);
  udp(f, 5353, 5353); payload(f, 16); fin(f))
B(f_fridge_mdns6,
  eth(f, "33:33:00:00:00:fb", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::fb", 17);
  udp(f, 5353, 5353); payload(f, 16); fin(f))
B(f_laptop_cam_gre,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, 47, 0, 1, 0); payload(f, 8); fin(f))
B(f_nvr_cam_gre,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, 47, 0, 1, 0); payload(f, 8); fin(f))
/* the IP length is the packet: Ethernet padding is not read as its headers */
B(f_udp_len4_padded,	/* IPv4 total length: 4 bytes of UDP; padded with a fake rest */
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0, 1, 0); put16(f, 5000);
  put16(f, 9000); fin_pad(f, 0x11))
B(f_tcp_totlen_short_padded,	/* total length 20 + 12: the flags byte is padding */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 0); put16(f, 40000);
  put16(f, 554); put32(f, 1); put32(f, 0); fin_pad(f, 0x52))
B(f6_plen_short_tcp,	/* payload length 8 of a 20-byte TCP header */
  tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN); f->b[14 + 4] = 0; f->b[14 + 5] = 8)
B(f6_plen_short_ext,	/* payload length ends inside the extension headers */
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 0); ext(f, 60, 0, 1); ext(f, 6, 1, 1);
  tcp(f, 40001, 554, SYN); fin(f); f->b[14 + 4] = 0; f->b[14 + 5] = 16)
B(f6_plen_zero,	/* payload length 0 (jumbogram / BIG TCP): bounded by the frame */
  tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN); f->b[14 + 4] = 0; f->b[14 + 5] = 0)
B(f6_ns_plen_short,	/* an NS whose payload length leaves out the target */
  eth(f, "33:33:ff:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:1", 58);
  nd(f, 135, GW6); fin(f); f->b[14 + 5] = 8)
B(f4_udp_padded_ok,	/* a short datagram, zero-padded as on the wire: fine */
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0, 1, 0); udp(f, 5000, 9000);
  fin_pad(f, 0xee))
B(f_laptop_cam_telnet, tcp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 40000, 23, SYN))
/* unicast IP destinations inside group-addressed frames */
B(f_laptop_bcast_to_fridge, udp4(f, BCAST, LAPTOP, LAPTOP4, FRIDGE4, 5353, 5353))
B(f_laptop_mcast_to_fridge, udp4(f, "01:00:5e:00:00:fb", LAPTOP, LAPTOP4, FRIDGE4, 5353, 5353))
B(f_fridge_bcast_udp67_to_cam, udp4(f, BCAST, FRIDGE, FRIDGE4, CAM4, 68, 67))
B(f_cam_bcast_udp67_to_nvr, udp4(f, BCAST, CAM, CAM4, NVR4, 68, 67))
/* a fragmented echo reply: the camera answers a big ping */
B(f_cam_laptop_echoreply_frag1,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_ICMP, 0x2000, 900, 0);
  icmp(f, 0, 0, 77); payload(f, 64); fin(f))
B(f_cam_laptop_echoreply_frag2,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_ICMP, 9, 900, 0);
  payload(f, 64); fin(f))
B(f_cam_laptop_udp_reply_frag1,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_UDP, 0x2000, 901, 0);
  udp(f, 9000, 5000); payload(f, 64); fin(f))
B(f_cam_laptop_udp_reply_frag2,
  eth(f, LAPTOP, CAM, 0x0800); ipv4(f, CAM4, LAPTOP4, IPPROTO_UDP, 9, 901, 0); payload(f, 64);
  fin(f))
/* IPv6 fragments whose fragmentable part starts with destination options */
B(f6_frag_dst_first,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 60, 0, 1, 0x5151);
  ext(f, 6, 0, 1); tcp(f, 40000, 554, SYN); payload(f, 32); fin(f))
B(f6_frag_dst_later,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 60, 8, 0, 0x5151);
  payload(f, 32); fin(f))
B(f_laptop_cam_http, tcp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 40000, 80, SYN))
B(f_laptop_cam_telnet_ack, tcp4(f, CAM, LAPTOP, LAPTOP4, CAM4, 40000, 23, ACK))
B(f_cam_laptop_telnet_synack, tcp4(f, LAPTOP, CAM, CAM4, LAPTOP4, 23, 40000, SYNACK))

/* quarantine */
B(f_cam_cloud_443, tcp4(f, GWMAC, CAM, CAM4, "203.0.113.9", 40000, 443, SYN))
B(f_cam_gw_dns, udp4(f, GWMAC, CAM, CAM4, GW4, 5353, 53))
B(f_cam_gw_dns_tcp, tcp4(f, GWMAC, CAM, CAM4, GW4, 40000, 53, SYN))
B(f_cam_gw_ntp, udp4(f, GWMAC, CAM, CAM4, GW4, 123, 123))
B(f_cam_gw_ping, icmp4(f, GWMAC, CAM, CAM4, GW4, 8, 1))
B(f_cam_dhcp_discover,
  eth(f, BCAST, CAM, 0x0800); ipv4(f, "0.0.0.0", "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 68, 67); dhcp4(f, 1, CAM); fin(f))
B(f_nvr_cam_via_gw, tcp4(f, GWMAC, NVR, NVR4, CAM4, 40000, 554, SYN))
B(f_cam_arp_gw, arp4(f, BCAST, CAM, 1, CAM, CAM4, ZMAC, GW4))
B(f_cam_arp_nvr, arp4(f, BCAST, CAM, 1, CAM, CAM4, ZMAC, NVR4))
B(f_nvr_arp_cam, arp4(f, BCAST, NVR, 1, NVR, NVR4, ZMAC, CAM4))

/* internet, gateway */
B(f_cam_inet_80, tcp4(f, GWMAC, CAM, CAM4, "198.51.100.7", 40000, 80, SYN))
B(f_cam_cloud_80, tcp4(f, GWMAC, CAM, CAM4, "203.0.113.9", 40000, 80, SYN))
B(f_cam_cloud_443_outside, tcp4(f, GWMAC, CAM, CAM4, "203.0.114.9", 40000, 443, SYN))
B(f_laptop_inet_80, tcp4(f, GWMAC, LAPTOP, LAPTOP4, "198.51.100.7", 40000, 80, SYN))
B(f_laptop_cloud_443, tcp4(f, GWMAC, LAPTOP, LAPTOP4, "203.0.113.9", 40000, 443, SYN))
B(f_laptop_lan_unlisted, tcp4(f, GWMAC, LAPTOP, LAPTOP4, "192.168.50.99", 40000, 80, SYN))
B(f_laptop_nvr_via_gw, tcp4(f, GWMAC, LAPTOP, LAPTOP4, NVR4, 40000, 80, SYN))
B(f_fridge_gw_dns, udp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 5353, 53))
B(f_fridge_gw_dns_tcp, tcp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 40000, 53, SYN))
B(f_fridge_gw_ssh, tcp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 40000, 22, SYN))
B(f_fridge_dhcp_discover,
  eth(f, BCAST, FRIDGE, 0x0800); ipv4(f, "0.0.0.0", "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 68, 67); dhcp4(f, 1, FRIDGE); fin(f))
B(f_fridge_dhcp_request_unicast, udp4(f, GWMAC, FRIDGE, FRIDGE4, GW4, 68, 67))
B(f_stranger_inet, tcp4(f, GWMAC, STRANGER, "192.168.50.77", "198.51.100.7", 40000, 80, SYN))
B(f_stranger_cam, tcp4(f, CAM, STRANGER, "192.168.50.77", CAM4, 40000, 554, SYN))
B(f_stranger_gw_dns, udp4(f, GWMAC, STRANGER, "192.168.50.77", GW4, 5353, 53))

/* ARP */
B(f_laptop_arp_gw, arp4(f, BCAST, LAPTOP, 1, LAPTOP, LAPTOP4, ZMAC, GW4))
B(f_laptop_arp_nvr, arp4(f, BCAST, LAPTOP, 1, LAPTOP, LAPTOP4, ZMAC, NVR4))
B(f_nvr_arp_reply_laptop, arp4(f, LAPTOP, NVR, 2, NVR, NVR4, LAPTOP, LAPTOP4))
B(f_fridge_arp_cam, arp4(f, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, CAM4))
B(f_fridge_arp_as_cam, arp4(f, BCAST, FRIDGE, 2, FRIDGE, CAM4, BCAST, CAM4))
B(f_fridge_arp_as_gw, arp4(f, BCAST, FRIDGE, 2, FRIDGE, GW4, BCAST, GW4))
B(f_fridge_arp_sha_nvr, arp4(f, BCAST, FRIDGE, 1, NVR, FRIDGE4, ZMAC, GW4))
B(f_fridge_arp_garp, arp4(f, BCAST, FRIDGE, 1, FRIDGE, FRIDGE4, ZMAC, FRIDGE4))
B(f_cam_arp_from_99, arp4(f, BCAST, CAM, 1, CAM, "192.168.50.99", ZMAC, GW4))
B(f_fridge_arp_probe_cam, arp4(f, BCAST, FRIDGE, 1, FRIDGE, "0.0.0.0", ZMAC, CAM4))
B(f_fridge_arp_reply_gw, arp4(f, GWMAC, FRIDGE, 2, FRIDGE, FRIDGE4, GWMAC, GW4))
B(f_cam_arp_reply_gw, arp4(f, GWMAC, CAM, 2, CAM, CAM4, GWMAC, GW4))
B(f_fridge_arp_reply_cam, arp4(f, CAM, FRIDGE, 2, FRIDGE, FRIDGE4, CAM, CAM4))
B(f_arp_truncated,
  eth(f, BCAST, FRIDGE, 0x0806); arp(f, 1, FRIDGE, FRIDGE4, ZMAC, GW4); f->len = 14 + 20)
B(f_arp_rarp_op,
  eth(f, BCAST, FRIDGE, 0x0806); arp(f, 3, FRIDGE, FRIDGE4, ZMAC, GW4); fin(f))

/* IP spoofing */
B(f_fridge_as_cam, tcp4(f, NVR, FRIDGE, CAM4, NVR4, 40000, 554, SYN))
B(f_cam_from_99, tcp4(f, GWMAC, CAM, "192.168.50.99", "203.0.113.9", 40000, 443, SYN))
B(f_fridge_from_gw_ip, tcp4(f, CAM, FRIDGE, GW4, CAM4, 40000, 554, SYN))
B(f_src_gw_mac, tcp4(f, CAM, GWMAC, GW4, CAM4, 40000, 554, SYN))
B(f_src_group_mac, tcp4(f, CAM, "01:00:5e:00:00:01", NVR4, CAM4, 40000, 554, SYN))
B(f_nvr6_as_cam6, tcp6(f, LAPTOP, NVR, CAM6, LAPTOP6, 40000, 22, SYN))
B(f_nvr6_from_unbound, tcp6(f, CAM, NVR, "fd00:50::99", CAM6, 40000, 554, SYN))
B(f_nvr6_from_linklocal, tcp6(f, CAM, NVR, "fe80::21", "fe80::11", 40000, 554, SYN))

/* VLAN tags */
B(f_vid5, f_nvr_cam_syn(f); tag(f, 0x8100, 5))
B(f_prio_tag_pass, f_nvr_cam_syn(f); tag(f, 0x8100, 0x6000))
B(f_prio_tag_drop, f_fridge_cam_syn(f); tag(f, 0x8100, 0))
B(f_prio_tag_ad, f_nvr_cam_syn(f); tag(f, 0x88a8, 0x2000))
B(f_qinq, f_nvr_cam_syn(f); tag(f, 0x8100, 0); tag(f, 0x88a8, 0))
B(f_qinq_vid, f_nvr_cam_syn(f); tag(f, 0x8100, 7); tag(f, 0x88a8, 100))
B(f_prio_arp_spoof, f_fridge_arp_as_cam(f); tag(f, 0x8100, 0))

/* malformed */
B(f_trunc_tag, eth(f, CAM, NVR, 0x8100); put16(f, 0))
B(f_trunc_ipv4,	/* a full 20-byte header claiming IHL 6 that does not fit */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 0); f->b[14] = 0x46;
  fin_short(f))
B(f_trunc_ipv4_short_xdp, eth(f, CAM, NVR, 0x0800); put16(f, 0x4500); put16(f, 0))
B(f_trunc_tcp,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 0); tcp(f, 40000, 554, SYN);
  f->len -= 10; fin_short(f))
B(f_trunc_udp,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0, 1, 0); put16(f, 5000);
  put16(f, 9000); fin_short(f))
B(f_tcp_doff4, f_nvr_cam_syn(f); f->b[14 + 20 + 12] = 0x40)
B(f_ihl4, f_nvr_cam_syn(f); f->b[14] = 0x44)
B(f_ihl15, f_nvr_cam_syn(f); f->b[14] = 0x4f; f->len = 14 + 40)
B(f_ipv4_version6, f_nvr_cam_syn(f); f->b[14] = 0x65)
B(f_ipv4_totlen_short, f_nvr_cam_syn(f); f->b[16] = 0; f->b[17] = 16)
B(f_ipv4_options,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0, 1, 2); tcp(f, 40000, 554, SYN);
  fin(f))
B(f_ipv4_options_drop,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_TCP, 0, 1, 10);
  tcp(f, 40000, 554, SYN); fin(f))
B(f_ipv6_trunc, eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, IPPROTO_TCP); f->len -= 8;
  fin_short(f))
B(f_ipv6_trunc_tcp, tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN); f->len -= 4; fin_short(f))
B(f_icmp_trunc,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_ICMP, 0, 1, 0); put16(f, 0x0800);
  fin_short(f))

/* IPv6 */
B(f6_nvr_cam_syn, tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 554, SYN))
B(f6_cam_nvr_synack, tcp6(f, NVR, CAM, CAM6, NVR6, 554, 40000, SYNACK))
B(f6_nvr_cam_80, tcp6(f, CAM, NVR, NVR6, CAM6, 40000, 80, SYN))
B(f6_hbh_dst_pass,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 0); ext(f, 60, 0, 1); ext(f, 6, 1, 1);
  tcp(f, 40001, 554, SYN); fin(f))
B(f6_hbh_dst_drop,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 0); ext(f, 60, 0, 1); ext(f, 6, 1, 1);
  tcp(f, 40001, 80, SYN); fin(f))
B(f6_dst9,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60);
  for (int i = 0; i < 9; i++) ext(f, i == 8 ? 6 : 60, 0, 1);
  tcp(f, 40002, 554, SYN); fin(f))
B(f6_dst8,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60);
  for (int i = 0; i < 8; i++) ext(f, i == 7 ? 6 : 60, 0, 1);
  tcp(f, 40002, 554, SYN); fin(f))
B(f6_rh0,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 43); ext(f, 6, 2, 0); tcp(f, 40003, 554, SYN);
  fin(f))
B(f6_hdr_too_long,	/* 1 KiB of dst options: past what the parser judges */
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60); ext(f, 6, 127, 1);
  tcp(f, 40003, 554, SYN); fin(f))
B(f6_ext_trunc,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 60); put32(f, 0x06000000); fin_short(f))
B(f6_frag_first,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 0, 1, 0xabcd);
  tcp(f, 40000, 554, SYN); payload(f, 32); fin(f))
B(f6_frag_later,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 7, 0, 0xabcd); payload(f, 32);
  fin(f))
B(f6_frag_later_other_id,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 7, 0, 0xdead); payload(f, 32);
  fin(f))
B(f6_frag_first_denied,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 0, 1, 0xbeef);
  tcp(f, 40000, 80, SYN); payload(f, 32); fin(f))
B(f6_frag_later_of_denied,
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 7, 0, 0xbeef); payload(f, 32);
  fin(f))
B(f6_atomic_frag,	/* offset 0, M=0 (RFC 6946): judged as a whole packet */
  eth(f, CAM, NVR, 0x86dd); ipv6(f, NVR6, CAM6, 44); frag6(f, 6, 0, 0, 0x1111);
  tcp(f, 40000, 554, SYN); fin(f))

/* IPv4 fragments */
B(f4_frag_first,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0x2000, 4242, 0);
  tcp(f, 40000, 554, SYN); payload(f, 20); fin(f))
B(f4_frag_later,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 5, 4242, 0); payload(f, 32); fin(f))
B(f4_frag_later_other_id,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 5, 4243, 0); payload(f, 32); fin(f))
B(f4_frag_later_fridge,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_UDP, 5, 999, 0); payload(f, 32);
  fin(f))
B(f4_frag_first_short_tcp,	/* 8 bytes of TCP header, frame cut there */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0x2000, 4343, 0);
  put16(f, 40000); put16(f, 554); put32(f, 1); fin_short(f))
B(f4_frag_first_short_tcp_padded,	/* the same as on the wire: padded to 60 bytes */
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 0x2000, 4344, 0);
  put16(f, 40000); put16(f, 554); put32(f, 1); fin_pad(f, 0x55))
B(f4_frag_tiny_overlap,
  eth(f, CAM, NVR, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 1, 4242, 0); payload(f, 32); fin(f))
B(f4_frag_udp_first,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 0x2000, 777, 0);
  udp(f, 5000, 9000); payload(f, 24); fin(f))
B(f4_frag_udp_later,
  eth(f, CAM, LAPTOP, 0x0800); ipv4(f, LAPTOP4, CAM4, IPPROTO_UDP, 4, 777, 0); payload(f, 24);
  fin(f))
B(f4_frag_first_denied,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_TCP, 0x2000, 4545, 0);
  tcp(f, 40000, 554, SYN); payload(f, 20); fin(f))
B(f4_frag_later_of_denied,
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, FRIDGE4, CAM4, IPPROTO_TCP, 5, 4545, 0); payload(f, 32);
  fin(f))
B(f4_frag_later_spoofed,	/* the fridge sending a later fragment as the nvr */
  eth(f, CAM, FRIDGE, 0x0800); ipv4(f, NVR4, CAM4, IPPROTO_TCP, 5, 4242, 0); payload(f, 32);
  fin(f))

/* ND, RA, rogue servers */
B(f_fridge_ns_gw,
  eth(f, "33:33:ff:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:1", 58);
  nd(f, 135, GW6); fin(f))
B(f_nvr_ns_cam,
  eth(f, "33:33:ff:00:00:11", NVR, 0x86dd); ipv6(f, NVR6, "ff02::1:ff00:11", 58);
  nd(f, 135, CAM6); fin(f))
B(f_fridge_ns_cam,
  eth(f, "33:33:ff:00:00:11", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:11", 58);
  nd(f, 135, CAM6); fin(f))
B(f_fridge_ns_dad,
  eth(f, "33:33:ff:00:00:31", FRIDGE, 0x86dd); ipv6(f, "::", "ff02::1:ff00:31", 58);
  nd(f, 135, "fe80::31"); fin(f))
B(f_cam_na_nvr,
  eth(f, NVR, CAM, 0x86dd); ipv6(f, CAM6, NVR6, 58); nd(f, 136, CAM6); fin(f))
B(f_cam_na_gw,
  eth(f, GWMAC, CAM, 0x86dd); ipv6(f, CAM6, GW6, 58); nd(f, 136, CAM6); fin(f))
B(f_fridge_na_as_cam,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  nd(f, 136, CAM6); fin(f))
B(f_fridge_na_as_gw,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  nd(f, 136, GW6); fin(f))
B(f_cam_na_unbound,	/* the camera (HAS_V6) claiming an address not bound to it */
  eth(f, "33:33:00:00:00:01", CAM, 0x86dd); ipv6(f, "fe80::11", "ff02::1", 58);
  nd(f, 136, "fd00:50::99"); fin(f))
B(f_ns_no_target,
  eth(f, "33:33:ff:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1:ff00:1", 58);
  icmp(f, 135, 0, 0); fin_short(f))
B(f_fridge_ra,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58); ra(f);
  fin(f))
B(f_fridge_redirect,
  eth(f, NVR, FRIDGE, 0x86dd); ipv6(f, "fe80::31", "fe80::21", 58); nd(f, 137, GW6);
  put(f, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16); fin(f))
B(f_fridge_rs,
  eth(f, "33:33:00:00:00:02", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::2", 58);
  icmp(f, 133, 0, 0); fin(f))
B(f_fridge_mld_query,
  eth(f, "33:33:00:00:00:01", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::1", 58);
  icmp(f, 130, 0, 0); payload(f, 16); fin(f))
B(f_fridge_mld_report,
  eth(f, "33:33:00:00:00:16", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "ff02::16", 58);
  icmp(f, 143, 0, 0); payload(f, 20); fin(f))
B(f_fridge_dhcp_offer,
  eth(f, BCAST, FRIDGE, 0x0800); ipv4(f, FRIDGE4, "255.255.255.255", IPPROTO_UDP, 0, 1, 0);
  udp(f, 67, 68); dhcp4(f, 2, LAPTOP); fin(f))
B(f_fridge_dhcp6_server,
  eth(f, "33:33:00:01:00:02", FRIDGE, 0x86dd); ipv6(f, "fe80::31", "fe80::41", 17);
  udp(f, 547, 546); payload(f, 16); fin(f))
B(f_laptop_dhcp6_solicit,
  eth(f, "33:33:00:01:00:02", LAPTOP, 0x86dd); ipv6(f, "fe80::41", "ff02::1:2", 17);
  udp(f, 546, 547); payload(f, 16); fin(f))

/* multicast */
B(f_fridge_mdns, udp4(f, "01:00:5e:00:00:fb", FRIDGE, FRIDGE4, "224.0.0.251", 5353, 5353))
B(f_laptop_mdns, udp4(f, "01:00:5e:00:00:fb", LAPTOP, LAPTOP4, "224.0.0.251", 5353, 5353))
B(f_laptop_ssdp, udp4(f, "01:00:5e:7f:ff:fa", LAPTOP, LAPTOP4, "239.255.255.250", 40000, 1900))
B(f_laptop_bcast_udp, udp4(f, BCAST, LAPTOP, LAPTOP4, "192.168.50.255", 40000, 5353))

/* ethertypes */
B(f_lldp, eth(f, "01:80:c2:00:00:0e", FRIDGE, 0x88cc); payload(f, 40); fin(f))
B(f_pppoe, eth(f, GWMAC, FRIDGE, 0x8864); payload(f, 40); fin(f))
B(f_pppoe_disc, eth(f, BCAST, FRIDGE, 0x8863); payload(f, 40); fin(f))
B(f_8023, eth(f, GWMAC, FRIDGE, 0x0030); put8(f, 0x42); put8(f, 0x42); put8(f, 0x03);
  payload(f, 45); fin(f))
B(f_eapol_gw, eth(f, GWMAC, FRIDGE, 0x888e); payload(f, 40); fin(f))
B(f_eapol_pae, eth(f, "01:80:c2:00:00:03", FRIDGE, 0x888e); payload(f, 40); fin(f))
B(f_eapol_dev, eth(f, CAM, FRIDGE, 0x888e); payload(f, 40); fin(f))
B(f_ipx, eth(f, GWMAC, FRIDGE, 0x8137); payload(f, 40); fin(f))
