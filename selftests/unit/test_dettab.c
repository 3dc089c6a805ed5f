// SPDX-License-Identifier: GPL-2.0
/*
 * test_dettab.c - unit tests of the detection state of --mode nft
 * (userspace/dettab.c over bpf/lib/detect_core.h; cmocka, also built with
 * ASan+UBSan): the same counts as the BPF harness (15 ports of one host
 * signal once, 24 hosts do not and the 25th does, watch then act, windows
 * expiring, internet attempts not counted as scans, telnet on allowed
 * attempts, a blocklist hit), and the table itself: bounded, the least
 * recently noted device out first, forget and clear.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "detect.h"
#include "dettab.h"

#define MS	1000000ULL	/* ns */

static const __u8 mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const __u8 mac_b[6] = { 2, 0, 0, 0, 0, 0xb };

static void cfg_defaults(struct bh_det_cfg *cfg)
{
	struct bh_detect_policy dp;

	bh_detect_defaults(&dp);
	dp.on = true;
	bh_detect_to_bpf(&dp, 0x5eed, cfg);
	bh_detect_policy_free(&dp);
}

static void v4(__u8 a[16], __u8 b0, __u8 b1, __u8 b2, __u8 b3)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = b0;
	a[13] = b1;
	a[14] = b2;
	a[15] = b3;
}

static int note(struct bh_dettab *t, const struct bh_det_cfg *cfg, const __u8 *mac,
		const __u8 *a, __u8 proto, __u16 port, __u32 flags, __u64 now,
		struct bh_det_signal *sig)
{
	return bh_dettab_note(t, cfg, mac, a, BH_DETN_WHAT(proto, port, flags | BH_DETN_V4), now,
			      sig);
}

static void test_port_scan(void **state)
{
	struct bh_det_signal sig;
	struct bh_dettab *t;
	struct bh_det_cfg cfg;
	__u8 a[16];
	int acts = 0, watches = 0, lvl;

	(void)state;
	cfg_defaults(&cfg);
	assert_int_equal(bh_dettab_new(&t, BH_MAX_DETECT), 0);
	v4(a, 192, 168, 1, 20);
	for (__u16 p = 1; p <= 40; p++) {
		lvl = note(t, &cfg, mac_a, a, IPPROTO_TCP, p, BH_DETN_NEW | BH_DETN_DENIED,
			   1000 * MS + p * MS, &sig);
		if (lvl == BH_DET_WATCH) {
			watches++;
			assert_int_equal(p, 8);
			assert_int_equal(sig.kind, BH_DET_PORT_SCAN);
		}
		if (lvl == BH_DET_ACT) {
			acts++;
			assert_int_equal(p, 15);
			assert_int_equal(sig.kind, BH_DET_PORT_SCAN);
			assert_int_equal(sig.count, 15);
			assert_int_equal(sig.port, 15);
			assert_int_equal(sig.proto, IPPROTO_TCP);
			assert_memory_equal(sig.mac, mac_a, 6);
			assert_memory_equal(sig.addr, a, 16);
			assert_int_equal(sig.window_ms, 14);
		}
	}
	assert_int_equal(watches, 1);
	assert_int_equal(acts, 1);
	assert_int_equal(bh_dettab_count(t), 1);
	/* after the window, the same scan signals again */
	for (__u16 p = 1; p <= 15; p++)
		lvl = note(t, &cfg, mac_a, a, IPPROTO_TCP, p, BH_DETN_NEW | BH_DETN_DENIED,
			   1000 * MS + 301000 * MS + p * MS, &sig);
	assert_int_equal(lvl, BH_DET_ACT);
	bh_dettab_free(t);
}

static void test_address_scan_exact(void **state)
{
	struct bh_det_signal sig;
	struct bh_dettab *t;
	struct bh_det_cfg cfg;
	__u8 a[16];
	int lvl = 0;

	(void)state;
	cfg_defaults(&cfg);
	assert_int_equal(bh_dettab_new(&t, 16), 0);
	for (int h = 1; h <= 25; h++) {
		v4(a, 192, 168, 1, (__u8)h);
		lvl = note(t, &cfg, mac_a, a, IPPROTO_TCP, 80, BH_DETN_NEW | BH_DETN_DENIED,
			   5000 * MS + (__u64)h * MS, &sig);
		if (h < 12)
			assert_int_equal(lvl, 0);
		if (h > 12 && h < 25)
			assert_int_equal(lvl, 0);	/* 24 hosts: no act */
	}
	assert_int_equal(lvl, BH_DET_ACT);	/* the 25th */
	assert_int_equal(sig.kind, BH_DET_ADDR_SCAN);
	assert_int_equal(sig.count, 25);
	bh_dettab_free(t);
}

static void test_internet_and_allowed(void **state)
{
	struct bh_det_signal sig;
	struct bh_dettab *t;
	struct bh_det_cfg cfg;
	__u8 a[16];

	(void)state;
	cfg_defaults(&cfg);
	assert_int_equal(bh_dettab_new(&t, 16), 0);
	/* denied internet attempts and allowed LAN ones are no scan */
	for (int h = 1; h <= 100; h++) {
		v4(a, 198, 18, 0, (__u8)h);
		assert_int_equal(note(t, &cfg, mac_a, a, IPPROTO_TCP, 443,
				      BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_INTERNET,
				      (__u64)h * MS, &sig), 0);
		v4(a, 192, 168, 1, (__u8)h);
		assert_int_equal(note(t, &cfg, mac_b, a, IPPROTO_TCP, (__u16)(1000 + h),
				      BH_DETN_NEW, (__u64)h * MS, &sig), 0);
	}
	/* an allowed attempt off the worm ports has no state */
	assert_int_equal(bh_dettab_count(t), 1);
	bh_dettab_free(t);
}

static void test_telnet_and_block(void **state)
{
	struct bh_det_signal sig;
	struct bh_dettab *t;
	struct bh_det_cfg cfg;
	__u8 a[16];
	int lvl = 0, h;

	(void)state;
	cfg_defaults(&cfg);
	assert_int_equal(bh_dettab_new(&t, 16), 0);
	for (h = 1; h <= 10; h++) {
		v4(a, 198, 18, 2, (__u8)(h * 7));
		lvl = note(t, &cfg, mac_a, a, IPPROTO_TCP, 23, BH_DETN_NEW | BH_DETN_INTERNET,
			   (__u64)h * MS, &sig);
		if (h == 3)
			assert_int_equal(lvl, BH_DET_WATCH);
	}
	assert_int_equal(lvl, BH_DET_ACT);
	assert_int_equal(sig.kind, BH_DET_TELNET);
	assert_int_equal(sig.count, 10);

	v4(a, 203, 0, 113, 77);
	lvl = note(t, &cfg, mac_b, a, IPPROTO_TCP, 443,
		   BH_DETN_NEW | BH_DETN_BLOCK | BH_DETN_INTERNET, 50 * MS, &sig);
	assert_int_equal(lvl, BH_DET_ACT);
	assert_int_equal(sig.kind, BH_DET_BLOCK);
	assert_int_equal(sig.count, 1);
	assert_int_equal(sig.window_ms, 0);	/* the attempt starts its window */
	assert_memory_equal(sig.addr, a, 16);
	/* off: nothing counted */
	cfg.flags = 0;
	assert_int_equal(note(t, &cfg, mac_b, a, IPPROTO_TCP, 443,
			      BH_DETN_NEW | BH_DETN_BLOCK | BH_DETN_INTERNET, 400000 * MS, &sig), 0);
	bh_dettab_free(t);
}

/* the bound: the least recently noted device goes; forget, clear */
static void test_bound_lru(void **state)
{
	struct bh_det_signal sig;
	struct bh_dettab *t;
	struct bh_det_cfg cfg;
	__u8 a[16], m[6] = { 2, 0, 0, 0, 1, 0 };
	int lvl;

	(void)state;
	cfg_defaults(&cfg);
	assert_int_equal(bh_dettab_new(&t, 0), -EINVAL);
	assert_int_equal(bh_dettab_new(&t, 4), 0);
	v4(a, 192, 168, 1, 20);
	/* mac_a: 14 ports, one short of act */
	for (__u16 p = 1; p <= 14; p++)
		note(t, &cfg, mac_a, a, IPPROTO_TCP, p, BH_DETN_NEW | BH_DETN_DENIED, p * MS, &sig);
	/* three others: the table is full, mac_a the least recent */
	for (int i = 1; i <= 3; i++) {
		m[5] = (__u8)i;
		note(t, &cfg, m, a, IPPROTO_UDP, 9, BH_DETN_NEW | BH_DETN_DENIED, 20 * MS, &sig);
	}
	assert_int_equal(bh_dettab_count(t), 4);
	/* mac_a noted again: most recent; a fifth device pushes out m ..:01 */
	lvl = note(t, &cfg, mac_a, a, IPPROTO_TCP, 14, BH_DETN_NEW | BH_DETN_DENIED, 21 * MS, &sig);
	assert_int_equal(lvl, 0);
	m[5] = 5;
	note(t, &cfg, m, a, IPPROTO_UDP, 9, BH_DETN_NEW | BH_DETN_DENIED, 22 * MS, &sig);
	assert_int_equal(bh_dettab_count(t), 4);
	/* mac_a kept its 14 ports: the 15th acts */
	lvl = note(t, &cfg, mac_a, a, IPPROTO_TCP, 15, BH_DETN_NEW | BH_DETN_DENIED, 23 * MS, &sig);
	assert_int_equal(lvl, BH_DET_ACT);
	/* a flood of new MACs pushes everyone out, the count stays bounded */
	for (int i = 0; i < 1000; i++) {
		m[4] = (__u8)(i >> 8);
		m[5] = (__u8)i;
		m[3] = 9;
		note(t, &cfg, m, a, IPPROTO_UDP, 9, BH_DETN_NEW | BH_DETN_DENIED, 30 * MS, &sig);
		assert_true(bh_dettab_count(t) <= 4);
	}
	/* mac_a was pushed out: its 15 ports start again */
	for (__u16 p = 1; p <= 14; p++)
		assert_int_equal(note(t, &cfg, mac_a, a, IPPROTO_TCP, p,
				      BH_DETN_NEW | BH_DETN_DENIED, 40 * MS, &sig) == BH_DET_ACT, 0);
	/* forget: from the middle of the table, the others stay findable */
	bh_dettab_forget(t, mac_a);
	assert_int_equal(bh_dettab_count(t), 3);
	bh_dettab_forget(t, mac_a);
	assert_int_equal(bh_dettab_count(t), 3);
	m[4] = (__u8)(999 >> 8);
	m[5] = (__u8)999;
	bh_dettab_forget(t, m);
	assert_int_equal(bh_dettab_count(t), 2);
	for (__u16 p = 1; p <= 14; p++)
		assert_int_equal(note(t, &cfg, mac_a, a, IPPROTO_TCP, p,
				      BH_DETN_NEW | BH_DETN_DENIED, 50 * MS, &sig) == BH_DET_ACT, 0);
	assert_int_equal(bh_dettab_count(t), 3);
	bh_dettab_clear(t);
	assert_int_equal(bh_dettab_count(t), 0);
	bh_dettab_forget(NULL, mac_a);
	bh_dettab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_scan),
		cmocka_unit_test(test_address_scan_exact),
		cmocka_unit_test(test_internet_and_allowed),
		cmocka_unit_test(test_telnet_and_block),
		cmocka_unit_test(test_bound_lru),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
