// SPDX-License-Identifier: GPL-2.0
/*
 * detect.c - test_verdict's detection call sites (issue 18): the verdict
 * feeding lib/detect.h (denied first packets, refusals, worm ports, the
 * blocklist as drop_block) and the quarantine level lan, through the real
 * programs. An area of the main group (the objects main.c loads, the
 * policy written by hand), its tests run after the table rows.
 */
#include "verdict.h"

/* ==== detection call sites (issue 18) ================================================
 * The verdict feeds lib/detect.h: denied first packets, refusals, worm
 * ports, the blocklist (drop_block) and the quarantine level lan, through
 * the real programs.
 */
static struct bh_det_signal det_sig[16];
static int det_n;

static int det_cb(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len == sizeof(struct bh_det_signal) && det_n < 16)
		memcpy(&det_sig[det_n], data, len);
	det_n++;
	return 0;
}

/* the signals put on bh_signals since the last call */
static int det_drain(void)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.bh_signals), det_cb,
						  NULL, NULL);

	assert_non_null(rb);
	det_n = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return det_n;
}

/* detection on: port scans act at 15, telnet at 10, a blocklist hit at 1, the rest off */
static void det_on(void)
{
	struct bh_det_cfg c = { .flags = BH_DETC_ON, .salt = 0x5eed,
				.telnet_ports = { 23, 2323 } };
	__u32 zero = 0;

	c.thr[BH_DET_PORT_SCAN] = (struct bh_det_thr){ .act = 15, .window_ms = 300000 };
	c.thr[BH_DET_TELNET] = (struct bh_det_thr){ .act = 10, .window_ms = 60000 };
	c.thr[BH_DET_BLOCK] = (struct bh_det_thr){ .act = 1, .window_ms = 300000 };
	upd(bpf_map__fd(skel->maps.bh_detect_cfg), &zero, &c);
	clear_map(bpf_map__fd(skel->maps.bh_detect), sizeof(struct bh_mac_key));
	clear_state();
	det_drain();
}

static void det_off(void)
{
	struct bh_det_cfg c = {};
	__u32 zero = 0;

	upd(bpf_map__fd(skel->maps.bh_detect_cfg), &zero, &c);
	clear_map(bpf_map__fd(skel->maps.bh_detect), sizeof(struct bh_mac_key));
	det_drain();
}

/* A port scan of denied SYNs through the real program: one signal, at the 15th port. */
static void test_detect_port_scan(void **state)
{
	__u8 a[16];

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		det_on();
		for (int i = 0; i < 15; i++) {
			tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, (uint16_t)(1000 + i), SYN);
			check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "fridge scans camera");
			assert_int_equal(det_drain(), i == 14 ? 1 : 0);
		}
		addr16(CAM4, a);
		assert_int_equal(det_sig[0].kind, BH_DET_PORT_SCAN);
		assert_int_equal(det_sig[0].level, BH_DET_ACT);
		assert_int_equal(det_sig[0].count, 15);
		assert_int_equal(det_sig[0].port, 1014);
		assert_memory_equal(det_sig[0].mac, mac_key(FRIDGE).mac, 6);
		assert_memory_equal(det_sig[0].addr, a, 16);
		/* the 16th port: the level fired in this window already */
		tcp4(&F, CAM, FRIDGE, FRIDGE4, CAM4, 40000, 2000, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "16th port");
		assert_int_equal(det_drain(), 0);
	}
	det_off();
}

/* Refused attempts count for the opener: RSTs back from closed ports of an allowed peer. */
static void test_detect_refused(void **state)
{
	(void)state;
	det_on();
	for (int i = 0; i < 15; i++) {
		/* laptop -> nvr: any tcp allowed; the nvr answers RST|ACK */
		tcp4(&F, NVR, LAPTOP, LAPTOP4, NVR4, 41000, (uint16_t)(3000 + i), SYN);
		check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, -1, "laptop opens nvr port");
		tcp4(&F, LAPTOP, NVR, NVR4, LAPTOP4, (uint16_t)(3000 + i), 41000, RST | ACK);
		check_run(EP_XDP, &F, 1, BH_R_PASS_REPLY, -1, "nvr refuses");
	}
	assert_int_equal(det_drain(), 1);
	assert_int_equal(det_sig[0].kind, BH_DET_PORT_SCAN);
	assert_memory_equal(det_sig[0].mac, mac_key(LAPTOP).mac, 6);
	assert_true(det_sig[0].flags & (BH_DETN_REFUSED >> 24));
	det_off();
}

/* Allowed flows make no signal and no detection state. */
static void test_detect_allowed_quiet(void **state)
{
	struct bh_mac_key k = mac_key(NVR);
	struct bh_det_state st;

	(void)state;
	det_on();
	for (int i = 0; i < 40; i++) {
		tcp4(&F, CAM, NVR, NVR4, CAM4, (uint16_t)(42000 + i), 554, SYN);
		check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, -1, "nvr pulls camera");
		tcp4(&F, NVR, CAM, CAM4, NVR4, 554, (uint16_t)(42000 + i), SYN | ACK);
		check_run(EP_XDP, &F, 1, BH_R_PASS_REPLY, -1, "camera answers");
	}
	assert_int_equal(det_drain(), 0);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.bh_detect), &k, &st), 0);
	det_off();
}

/* A blocklisted internet address: drop_block, one act signal; the rest of the CIDR passes. */
static void test_detect_blocklist(void **state)
{
	struct bh_block_key bk = { .prefixlen = 96 + 32 };
	__u32 line = 7;

	(void)state;
	det_on();
	addr16("203.0.113.66", bk.addr);
	upd(bpf_map__fd(skel->maps.bh_block), &bk, &line);
	for (int ep = 0; ep < EP_N; ep++) {
		tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.66", 43000, 443, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_BLOCK, -1, "camera to a listed address");
		tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.67", 43000, 443, SYN);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, -1, "camera to its cloud");
	}
	assert_int_equal(det_drain(), 1);
	assert_int_equal(det_sig[0].kind, BH_DET_BLOCK);
	assert_int_equal(det_sig[0].level, BH_DET_ACT);
	assert_memory_equal(det_sig[0].mac, mac_key(CAM).mac, 6);
	/* a bogon on the list never touches the LAN */
	addr16(NVR4, bk.addr);
	upd(bpf_map__fd(skel->maps.bh_block), &bk, &line);
	tcp4(&F, CAM, NVR, NVR4, CAM4, 43001, 554, SYN);
	check_run(EP_XDP, &F, 1, BH_R_PASS_RULE, -1, "listed LAN address");
	clear_map(bpf_map__fd(skel->maps.bh_block), sizeof(bk));
	det_off();
}

/* Quarantine level lan: the internet kept, the LAN cut both ways; full cuts both. */
static void test_detect_lan_quarantine(void **state)
{
	struct bh_mac_key k = mac_key(CAM);
	struct bh_quar_val v = { .since = 1, .level = BH_QLVL_LAN };

	(void)state;
	clear_state();
	upd(fd.quarantine, &k, &v);
	for (int ep = 0; ep < EP_N; ep++) {
		tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.5", 44000, 443, SYN);
		check_run((enum ep)ep, &F, 1, BH_R_PASS_RULE, -1, "lan level: camera to its cloud");
		tcp4(&F, GWMAC, CAM, CAM4, "198.51.100.5", 44000, 443, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_DEFAULT, -1, "lan level: policy still judges");
		tcp4(&F, NVR, CAM, CAM4, NVR4, 44000, 80, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_QUARANTINE, -1, "lan level: camera to nvr");
		tcp4(&F, CAM, NVR, NVR4, CAM4, 44001, 554, SYN);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_QUARANTINE, -1, "lan level: nvr to camera");
		arp4(&F, BCAST, CAM, 1, CAM, CAM4, ZMAC, NVR4);
		check_run((enum ep)ep, &F, 0, BH_R_DROP_QUARANTINE, -1, "lan level: camera resolves nvr");
	}
	v.level = BH_QLVL_FULL;
	upd(fd.quarantine, &k, &v);
	tcp4(&F, GWMAC, CAM, CAM4, "203.0.113.5", 44002, 443, SYN);
	check_run(EP_XDP, &F, 0, BH_R_DROP_QUARANTINE, -1, "full level: camera to its cloud");
	release(CAM);
}

/*
 * A fragmented SYN scan (nmap -f): each probe's first fragment carries 8
 * bytes of TCP, the ports but not the flags. The parse drops it
 * (drop_frag); its ports still count: a port scan at the 15th port, over
 * IPv4 and IPv6. To the gateway's MAC (routed) it counts for the worm
 * ports only, and a fragment without its ports counts for nothing.
 */
static void frag_probe4(const char *dmac, const char *dst, uint16_t dport, uint16_t id)
{
	eth(&F, dmac, FRIDGE, 0x0800);
	ipv4(&F, FRIDGE4, dst, IPPROTO_TCP, 0x2000, id, 0);
	put16(&F, 40000);
	put16(&F, dport);
	put32(&F, 1);
	fin(&F);
}

static void test_detect_frag_scan(void **state)
{
	char dst[32];

	(void)state;
	for (int ep = 0; ep < EP_N; ep++) {
		det_on();
		for (int i = 0; i < 15; i++) {
			frag_probe4(CAM, CAM4, (uint16_t)(1000 + i), (uint16_t)(100 + i));
			check_run((enum ep)ep, &F, 0, BH_R_DROP_FRAG, -1, "fridge: fragmented probe");
			assert_int_equal(det_drain(), i == 14 ? 1 : 0);
		}
		assert_int_equal(det_sig[0].kind, BH_DET_PORT_SCAN);
		assert_int_equal(det_sig[0].level, BH_DET_ACT);
		assert_int_equal(det_sig[0].count, 15);
		assert_int_equal(det_sig[0].port, 1014);
		assert_memory_equal(det_sig[0].mac, mac_key(FRIDGE).mac, 6);
	}
	/* IPv6: the fragment header, 8 bytes of TCP */
	det_on();
	for (int i = 0; i < 15; i++) {
		eth(&F, CAM, FRIDGE, 0x86dd);
		ipv6(&F, "fd00:50::31", CAM6, 44);
		frag6(&F, IPPROTO_TCP, 0, 1, (uint32_t)(200 + i));
		put16(&F, 40000);
		put16(&F, (uint16_t)(2000 + i));
		put32(&F, 1);
		fin(&F);
		check_run(EP_XDP, &F, 0, BH_R_DROP_FRAG, -1, "fridge: fragmented IPv6 probe");
	}
	assert_int_equal(det_drain(), 1);
	assert_int_equal(det_sig[0].kind, BH_DET_PORT_SCAN);
	/* routed: 15 ports of one internet host are no scan; telnet to 10 hosts is a worm */
	det_on();
	for (int i = 0; i < 15; i++) {
		frag_probe4(GWMAC, "198.51.100.7", (uint16_t)(3000 + i), (uint16_t)(300 + i));
		check_run(EP_XDP, &F, 0, BH_R_DROP_FRAG, -1, "fragmented probe of an internet host");
	}
	assert_int_equal(det_drain(), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(dst, sizeof(dst), "198.51.100.%d", 20 + i);
		frag_probe4(GWMAC, dst, 23, (uint16_t)(400 + i));
		check_run(EP_XDP, &F, 0, BH_R_DROP_FRAG, -1, "fragmented telnet probe");
	}
	assert_int_equal(det_drain(), 1);
	assert_int_equal(det_sig[0].kind, BH_DET_TELNET);
	/* 2 bytes of TCP: no ports, nothing counted as a port */
	det_on();
	for (int i = 0; i < 15; i++) {
		eth(&F, CAM, FRIDGE, 0x0800);
		ipv4(&F, FRIDGE4, CAM4, IPPROTO_TCP, 0x2000, (uint16_t)(500 + i), 0);
		put16(&F, 40000);
		fin(&F);
		check_run(EP_XDP, &F, 0, BH_R_DROP_FRAG, -1, "a first fragment without its ports");
	}
	assert_int_equal(det_drain(), 0);
	det_off();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_detect_port_scan),
	cmocka_unit_test(test_detect_refused),
	cmocka_unit_test(test_detect_allowed_quiet),
	cmocka_unit_test(test_detect_blocklist),
	cmocka_unit_test(test_detect_lan_quarantine),
	cmocka_unit_test(test_detect_frag_scan),
};

VERDICT_AREA(detect, NULL, 0, tests, ARRAY_SIZE(tests));
