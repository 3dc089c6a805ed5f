/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib/detect_core.h - the map-free part of detection (docs/detect.md): the
 * distinct-target sets, windows and levels over one device's struct
 * bh_det_state, in plain C that both the BPF programs (lib/detect.h, which
 * adds the maps and the signal ring) and the daemon of --mode nft
 * (userspace/dettab.c, fed from an NFLOG group) compile, so both run the
 * same algorithm. No helper, no map, no libc: only what both sides have.
 *
 * Entry points:
 *   bh_det_wants(cfg, what)                 does @what need a device state?
 *   bh_det_note_state(cfg, st, daddr, what, now_ms)
 *                                           count it; the signal reached
 *                                           (BH_DET_PD) or 0
 *   bh_det_signal_fill(sig, smac, daddr, what, now, pd)
 *                                           the struct bh_det_signal of @pd
 *   bh_det_fired(st, pd, level, now_ms)     the signal was sent: mark it
 */
#ifndef BH_LIB_DETECT_CORE_H
#define BH_LIB_DETECT_CORE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "../bulkhead_abi.h"

#ifndef __noinline
#define __noinline	__attribute__((noinline))
#endif
#ifndef __always_inline
#define __always_inline	inline __attribute__((always_inline))
#endif

/* loops unrolled for the verifier; a plain loop elsewhere */
#if defined(__clang__) && defined(__bpf__)
#define BH_DET_UNROLL	_Pragma("unroll")
#else
#define BH_DET_UNROLL
#endif

#define BH_DET_TCP	6	/* IPPROTO_TCP, without the headers that define it */
#define BH_DET_UDP	17	/* IPPROTO_UDP */

/* ---- distinct-target sets ------------------------------------------------- */

/* A 32-bit finaliser (lowbias32): every input bit moves every output bit. */
static __always_inline __u32 bh_det_mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/*
 * A host as 32 bits: an IPv4 address itself (host order, so that the
 * addresses of one /25 differ in the low 7 bits), an IPv6 one folded.
 */
static __always_inline __u32 bh_det_host(const __u8 *a, __u32 what)
{
	__u32 w[4];

	__builtin_memcpy(w, a, 16);
	if (what & BH_DETN_V4)
		return (__u32)a[12] << 24 | (__u32)a[13] << 16 | (__u32)a[14] << 8 | a[15];
	return bh_det_mix(w[0] ^ bh_det_mix(w[1] ^ bh_det_mix(w[2] ^ bh_det_mix(w[3]))));
}

/*
 * The bit of @v in a 128-bit set: its low 7 bits plus a salted hash of the
 * rest. Values of one 128-aligned block (the hosts of a /25, ports
 * 0-127, 128-255, ...) never share a bit; values of different blocks
 * land at random.
 */
static __always_inline __u32 bh_det_bit(__u32 v, __u32 salt)
{
	return (v + bh_det_mix((v >> 7) ^ salt)) & (BH_DET_BITS - 1);
}

/* Add bit @bit to @s: 1 when it was not set (a new distinct target). */
static __always_inline int bh_det_set_add(struct bh_det_set *s, __u32 bit)
{
	__u64 m = 1ULL << (bit & 63);
	__u32 w = (bit >> 6) & 1;

	if (s->bits[w] & m)
		return 0;
	s->bits[w] |= m;
	s->n++;
	return 1;
}

static __always_inline bool bh_det_expired(__u32 start_ms, __u32 now_ms, __u32 window_ms)
{
	return (__s32)(now_ms - start_ms) >= (__s32)window_ms || (__s32)(now_ms - start_ms) < 0;
}

static __always_inline void bh_det_set_reset(struct bh_det_set *s, __u32 key, __u32 now_ms)
{
	s->bits[0] = 0;
	s->bits[1] = 0;
	s->n = 0;
	s->key = key;
	s->start_ms = now_ms;
}

/*
 * The candidate set for @key among @sets, its window current: the one
 * that holds @key, else an empty or expired one, else the one with the
 * fewest targets (a single stray attempt never evicts a growing scan).
 */
static __always_inline struct bh_det_set *bh_det_slot(struct bh_det_set *sets, __u32 key,
						      __u32 now_ms, __u32 window_ms)
{
	struct bh_det_set *free = NULL, *least = &sets[0];
	int i;

BH_DET_UNROLL
	for (i = 0; i < BH_DET_SLOTS; i++) {
		struct bh_det_set *s = &sets[i];

		if (s->n && bh_det_expired(s->start_ms, now_ms, window_ms))
			s->n = 0;
		if (!s->n) {
			if (!free)
				free = s;
			continue;
		}
		if (s->key == key)
			return s;
		if (s->n < least->n || !least->n)
			least = s;
	}
	bh_det_set_reset(free ? free : least, key, now_ms);
	return free ? free : least;
}

/*
 * Add @bit to the candidate for @key among @sets (bh_det_slot()): returns
 * its count and window start, n << 32 | start_ms. Out of line, so that the
 * verifier sees one scalar come back rather than a state per slot chosen
 * (with two candidate kinds a note's states would multiply past its limit).
 */
static __noinline __u64 bh_det_slot_add(struct bh_det_set *sets, __u32 key, __u32 bit,
					__u32 now_ms, __u32 window_ms)
{
	struct bh_det_set *s;

	if (!sets)
		return 0;
	s = bh_det_slot(sets, key, now_ms, window_ms);
	bh_det_set_add(s, bit);
	return (__u64)s->n << 32 | s->start_ms;
}

/* ---- levels and signals ---------------------------------------------------- */

/*
 * The level @n reaches for @kind that has not been signalled in the
 * kind's window yet: BH_DET_ACT, BH_DET_WATCH or 0. Out of line: one
 * scalar comes back to the verifier, not a state per level and window.
 */
static __noinline __u32 bh_det_level(const struct bh_det_cfg *cfg, struct bh_det_state *st,
					  __u32 kind, __u32 n, __u32 now_ms)
{
	const struct bh_det_thr *t;
	__u32 level = 0;

	if (!cfg || !st || kind >= BH_DET_KINDS)
		return 0;
	t = &cfg->thr[kind];
	if (t->act && n >= t->act)
		level = BH_DET_ACT;
	else if (t->watch && n >= t->watch)
		level = BH_DET_WATCH;
	if (!level)
		return 0;
	if (st->fired[kind] && bh_det_expired(st->fired_ms[kind], now_ms, t->window_ms))
		st->fired[kind] = 0;
	return st->fired[kind] >= level ? 0 : level;
}

/*
 * What one attempt signals, packed in a register (a struct would be
 * spilled to the stack): level bits 0-1, kind 2-4, window ms 5-31 (at
 * most 2^27 ms, 37 hours: windows are at most 24 h), count 32-63; 0: none.
 */
#define BH_DET_PD(level, kind, win, n) \
	((__u64)(level) | (__u64)(kind) << 2 | (__u64)((win) & 0x7ffffff) << 5 | (__u64)(n) << 32)

/* @pd, or the signal @kind's count @n reaches, when @pd holds none yet. */
static __always_inline __u64 bh_det_check(const struct bh_det_cfg *cfg, struct bh_det_state *st,
					  __u64 pd, __u32 kind, __u32 n, __u32 start_ms,
					  __u32 now_ms)
{
	__u32 level;

	if (pd || kind >= BH_DET_KINDS)
		return pd;
	level = bh_det_level(cfg, st, kind, n, now_ms);
	if (!level)
		return 0;
	return BH_DET_PD(level, kind, now_ms - start_ms, n);
}

/* One more in a plain counter's window. */
static __always_inline __u32 bh_det_count(struct bh_det_ctr *c, __u32 now_ms, __u32 window_ms)
{
	if (!c->n || bh_det_expired(c->start_ms, now_ms, window_ms)) {
		c->n = 0;
		c->start_ms = now_ms;
	}
	return ++c->n;
}

static __always_inline bool bh_det_telnet_port(const struct bh_det_cfg *cfg, __u16 port)
{
	int i;

	if (!port)
		return false;
BH_DET_UNROLL
	for (i = 0; i < BH_DET_PORTS; i++)
		if (cfg->telnet_ports[i] == port)
			return true;
	return false;
}

/*
 * The attempt's scans (BH_DETN_NEW): worm ports, then port and address
 * scans of failed attempts on the LAN. Returns the first signal reached
 * (BH_DET_PD) or 0. Out of line: its slots' pointers stay off
 * bh_detect_note()'s frame.
 */
static __noinline __u64 bh_det_scans(const struct bh_det_cfg *cfg, struct bh_det_state *st,
				     const __u8 *daddr, __u32 what, __u32 now_ms)
{
	struct bh_det_set *s;
	__u64 pd = 0, ns;
	__u32 host;

	if (!cfg || !st || !daddr)
		return 0;
	host = bh_det_host(daddr, what);
	if ((what & 0xff) == BH_DET_TCP && bh_det_telnet_port(cfg, (__u16)(what >> 8))) {
		s = &st->telnet;
		if (!s->n || bh_det_expired(s->start_ms, now_ms, cfg->thr[BH_DET_TELNET].window_ms))
			bh_det_set_reset(s, 0, now_ms);
		bh_det_set_add(s, bh_det_bit(host, cfg->salt));
		pd = bh_det_check(cfg, st, pd, BH_DET_TELNET, s->n, s->start_ms, now_ms);
	}
	if (!(what & (BH_DETN_DENIED | BH_DETN_REFUSED)) || (what & BH_DETN_INTERNET))
		return pd;
	if (((what & 0xff) == BH_DET_TCP || (what & 0xff) == BH_DET_UDP) && (what & 0xffff00)) {
		ns = bh_det_slot_add(st->ports, host, bh_det_bit((what >> 8) & 0xffff, cfg->salt),
				     now_ms, cfg->thr[BH_DET_PORT_SCAN].window_ms);
		pd = bh_det_check(cfg, st, pd, BH_DET_PORT_SCAN, (__u32)(ns >> 32), (__u32)ns,
				  now_ms);
	}
	/* the (proto, port) of the attempt: @what's low 24 bits */
	ns = bh_det_slot_add(st->hosts, what & 0xffffff, bh_det_bit(host, cfg->salt), now_ms,
			     cfg->thr[BH_DET_ADDR_SCAN].window_ms);
	return bh_det_check(cfg, st, pd, BH_DET_ADDR_SCAN, (__u32)(ns >> 32), (__u32)ns, now_ms);
}

/* Does @what need the device's state: an allowed attempt counts for the worm ports only. */
static __always_inline bool bh_det_wants(const struct bh_det_cfg *cfg, __u32 what)
{
	return (what & (BH_DETN_DENIED | BH_DETN_REFUSED | BH_DETN_BLOCK | BH_DETN_DROP)) ||
	       ((what & 0xff) == BH_DET_TCP && bh_det_telnet_port(cfg, (__u16)(what >> 8)));
}

/*
 * Count one attempt or dropped frame (@what: BH_DETN_WHAT(proto, dport,
 * BH_DETN_*)) to @daddr (16 bytes, v4-mapped for IPv4; the ARP target for
 * ARP) in the device's @st at @now_ms. What it counts, each in its kind's
 * window:
 *   - BH_DETN_DROP: a denied frame (BH_DET_DENY_RATE)
 *   - BH_DETN_BLOCK: a blocklist hit (BH_DET_BLOCK)
 *   - BH_DETN_NEW, tcp to a worm port: the host (BH_DET_TELNET)
 *   - BH_DETN_NEW with DENIED or REFUSED, not INTERNET: the host among the
 *     (proto, port)'s hosts (BH_DET_ADDR_SCAN) and the port among the
 *     host's ports (BH_DET_PORT_SCAN; tcp and udp with a port only)
 * Returns the first signal a count reached at a level not yet signalled
 * in its kind's window (BH_DET_PD), or 0: the caller sends it and marks
 * it with bh_det_fired() (another kind that reached a level signals on
 * the device's next attempt).
 */
static __always_inline __u64 bh_det_note_state(const struct bh_det_cfg *cfg,
					       struct bh_det_state *st, const __u8 *daddr,
					       __u32 what, __u32 now_ms)
{
	__u64 pd = 0;
	__u32 n;

	/* the count first: it may start the window (arguments have no order) */
	if (what & BH_DETN_DROP) {
		n = bh_det_count(&st->deny, now_ms, cfg->thr[BH_DET_DENY_RATE].window_ms);
		pd = bh_det_check(cfg, st, pd, BH_DET_DENY_RATE, n, st->deny.start_ms, now_ms);
	}
	if (what & BH_DETN_BLOCK) {
		n = bh_det_count(&st->block, now_ms, cfg->thr[BH_DET_BLOCK].window_ms);
		pd = bh_det_check(cfg, st, pd, BH_DET_BLOCK, n, st->block.start_ms, now_ms);
	}
	if (what & BH_DETN_NEW) {
		__u64 sp = bh_det_scans(cfg, st, daddr, what, now_ms);

		if (!pd)
			pd = sp;
	}
	return pd;
}

/* The signal @pd of the device @smac's attempt (@what, to @daddr) at @now ns. */
static __always_inline void bh_det_signal_fill(struct bh_det_signal *sig, const __u8 *smac,
					       const __u8 *daddr, __u32 what, __u64 now,
					       __u64 pd)
{
	sig->time_ns = now;
	__builtin_memcpy(sig->mac, smac, 6);
	sig->kind = (__u8)((pd >> 2) & 7);
	sig->level = (__u8)(pd & 3);
	sig->count = (__u32)(pd >> 32);
	sig->window_ms = (__u32)(pd >> 5) & 0x7ffffff;
	sig->port = (__u16)(what >> 8);
	sig->proto = (__u8)what;
	sig->flags = (__u8)(what >> 24);
	__builtin_memcpy(sig->addr, daddr, 16);
	sig->pad = 0;
}

/* The signal @pd went out at @level (its kind fires once per window). */
static __always_inline void bh_det_fired(struct bh_det_state *st, __u64 pd, int level,
					 __u32 now_ms)
{
	__u32 kind = (__u32)(pd >> 2) & 7;

	if (kind < BH_DET_KINDS) {
		st->fired[kind] = (__u8)level;
		st->fired_ms[kind] = now_ms;
	}
}

#endif /* BH_LIB_DETECT_CORE_H */
