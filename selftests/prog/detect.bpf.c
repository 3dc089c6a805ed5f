// SPDX-License-Identifier: GPL-2.0
/*
 * detect.bpf.c - a test harness for bpf/lib/detect.h alone, for
 * test_detect_bpf: each BPF_PROG_TEST_RUN frame is not a frame but the
 * arguments of one call (struct det_call), so the test drives time,
 * addresses and verdicts directly; the program returns what the call did.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/detect.h"

/* the test's "frame": one call's arguments */
struct det_call {
	__u8 smac[6];
	__u8 op;		/* DET_OP_* */
	__u8 pad;
	__u8 daddr[16];
	__u32 what;		/* BH_DETN_WHAT(...) */
	__u32 pad2;
	__u64 now;		/* coarse ns */
};

#define DET_OP_NOTE	0	/* bh_detect_note(): returns the level signalled */
#define DET_OP_BLOCK	1	/* bh_block_hit(): returns 1 on a hit */
#define DET_OP_VERDICT	2	/* as the verdict will: a hit is noted with BH_DETN_BLOCK;
				   returns 10 * hit + level */

SEC("xdp")
int detect_call(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct det_call *c = data;
	__u32 what;
	int hit;

	if ((void *)(c + 1) > data_end)
		return -1;
	switch (c->op) {
	case DET_OP_NOTE:
		return bh_detect_note(c->smac, c->daddr, c->what, c->now);
	case DET_OP_BLOCK:
		return bh_block_hit(c->daddr);
	case DET_OP_VERDICT:
		what = c->what;
		hit = bh_block_hit(c->daddr);
		if (hit)
			what |= BH_DETN_BLOCK;
		return 10 * hit + bh_detect_note(c->smac, c->daddr, what, c->now);
	}
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
