/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/detect.h - detection of a compromised device in the dataplane: per
 * device, in bounded memory, the distinct LAN hosts and ports its failed
 * attempts reach, the hosts it tries on worm ports, its blocklist hits and
 * its denied frames; one signal on bh_signals when a count reaches a level
 * of bh_detect_cfg (docs/detect.md). Self-contained: its maps are here,
 * beside their lookups, and it compiles on its own; the counting itself,
 * free of maps, is lib/detect_core.h, which the daemon of --mode nft
 * compiles too.
 *
 * Entry points, for the verdict core:
 *   bh_detect_note(smac, daddr, what, now)   an attempt or a dropped frame
 *   bh_block_hit(addr)                       the blocklist (LPM trie)
 *
 * Both are static __noinline: a BPF-to-BPF call with a frame of its own
 * (bh_detect_note 32 bytes, bh_block_hit 32; llvm-objdump, see
 * docs/detect.md), verified at each call site with the caller's pointers.
 * Kernels before 6.x add every frame of a call chain against 512 bytes:
 * called from decide_ip() (a chain of 288 + 32 + 64 today) each adds 32.
 */
#ifndef BH_LIB_DETECT_H
#define BH_LIB_DETECT_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#include "bulkhead_abi.h"
#include "detect_core.h"

/* ---- maps (keys and values: the detection block of bulkhead_abi.h) ------- */

/* source MAC -> detection state. bpf; user deletes a MAC's entry on release */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_DETECT);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_det_state);
} bh_detect SEC(".maps");

/* key 0 -> thresholds, windows, salt, worm ports. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_det_cfg);
} bh_detect_cfg SEC(".maps");

/* signals to the daemon (struct bh_det_signal). bpf */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BH_SIGNALS_RING);
} bh_signals SEC(".maps");

/* LPM: blocklisted prefixes -> their line in the blocklist file. user */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BH_MAX_BLOCK);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_block_key);
	__type(value, __u32);
} bh_block SEC(".maps");

/* A new device's state starts from these zeroes (no value on the stack). */
static const struct bh_det_state bh_det_zero;

/* ---- signals ------------------------------------------------------------- */

/*
 * Put the signal @pd of the device @smac's attempt on bh_signals: its
 * level, or 0 when the ring is full. Out of line, with no stack of its
 * own: bh_detect_note()'s frame holds only what it counts with.
 */
static __noinline int bh_det_emit(const __u8 *smac, const __u8 *daddr, __u32 what, __u64 now,
				  __u64 pd)
{
	struct bh_det_signal *sig;

	if (!smac || !daddr)
		return 0;
	sig = bpf_ringbuf_reserve(&bh_signals, sizeof(*sig), 0);
	if (!sig)
		return 0;
	bh_det_signal_fill(sig, smac, daddr, what, now, pd);
	bpf_ringbuf_submit(sig, 0);
	return (int)(pd & 3);
}

/*
 * Note one attempt or dropped frame of the device @smac (6 bytes) to
 * @daddr (16 bytes, v4-mapped for IPv4; the ARP target for ARP): @what is
 * BH_DETN_WHAT(proto, dport, BH_DETN_*), @now the frame's coarse ns
 * (bh_now()). What it counts, each in its kind's window:
 *   - BH_DETN_DROP: a denied frame (BH_DET_DENY_RATE)
 *   - BH_DETN_BLOCK: a blocklist hit (BH_DET_BLOCK)
 *   - BH_DETN_NEW, tcp to a worm port: the host (BH_DET_TELNET)
 *   - BH_DETN_NEW with DENIED or REFUSED, not INTERNET: the host among the
 *     (proto, port)'s hosts (BH_DET_ADDR_SCAN) and the port among the
 *     host's ports (BH_DET_PORT_SCAN; tcp and udp with a port only)
 * When a count reaches a level not yet signalled in its kind's window, one
 * struct bh_det_signal goes to bh_signals (one per call at most: another
 * kind that reached a level signals on the device's next attempt).
 * Returns the level signalled, or 0. Per-device state is shared by the
 * CPUs without locks: two CPUs racing may lose a count or signal twice.
 */
static __noinline __attribute__((unused)) int
bh_detect_note(const __u8 *smac, const __u8 *daddr, __u32 what, __u64 now)
{
	struct bh_mac_key mk = {};
	struct bh_det_cfg *cfg;
	struct bh_det_state *st;
	__u32 now_ms, key = 0;
	int level;
	__u64 pd;

	cfg = bpf_map_lookup_elem(&bh_detect_cfg, &key);
	if (!cfg || !(cfg->flags & BH_DETC_ON) || !smac || !daddr)
		return 0;
	if (!bh_det_wants(cfg, what))
		return 0;	/* an allowed attempt off the worm ports: no state for it */
	__builtin_memcpy(mk.mac, smac, 6);
	st = bpf_map_lookup_elem(&bh_detect, &mk);
	if (!st) {
		bpf_map_update_elem(&bh_detect, &mk, &bh_det_zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&bh_detect, &mk);
		if (!st)
			return 0;
	}
	now_ms = (__u32)(now / 1000000);
	pd = bh_det_note_state(cfg, st, daddr, what, now_ms);
	if (!pd)
		return 0;
	level = bh_det_emit(smac, daddr, what, now, pd);
	if (!level)
		return 0;	/* ring full: not marked, the next attempt tries again */
	bh_det_fired(st, pd, level, now_ms);
	return level;
}

/*
 * 1 when @addr (16 bytes, v4-mapped for IPv4) is in a blocklisted prefix.
 * Out of line: the 20-byte key stays off the caller's frame.
 */
static __noinline __attribute__((unused)) int bh_block_hit(const __u8 *addr)
{
	struct bh_block_key k = { .prefixlen = 128 };

	if (!addr)
		return 0;
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_block, &k) != NULL;
}

#endif /* BH_LIB_DETECT_H */
