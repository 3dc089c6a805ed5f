// SPDX-License-Identifier: GPL-2.0
/*
 * bench_verdict.c - the cost of one verdict, per path, through both entry
 * points, measured with BPF_PROG_TEST_RUN (the kernel times `repeat` runs
 * of the program on one frame and reports the mean), next to an empty
 * program returning the same action: the floor. Median of RUNS runs.
 *
 * Output: a Markdown table on stdout (bench/run.sh puts it into
 * docs/benchmarks.md). Figures are ratios measured in one run; the machine
 * is shared, so the absolute ns move from run to run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "empty.skel.h"
#include "paths.h"

int main(int argc, char **argv)
{
	__u32 repeat = argc > 1 ? (__u32)strtoul(argv[1], NULL, 0) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct bulkhead_bpf *skel;
	struct empty_bpf *empty;
	struct bh_maps maps;

	if (runs < 1 || runs > 16)
		runs = 5;
	skel = fixture_open(&maps, bench_policy);
	empty = empty_bpf__open_and_load();
	if (!skel || !empty || bench_prepare(skel, &maps)) {
		fprintf(stderr, "bench: cannot load the BPF objects (root?)\n");
		return 2;
	}

	printf("| path | XDP ns | XDP floor ns | XDP ratio | tc ns | tc floor ns | tc ratio |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < N_PATHS; i++) {
		const struct path *p = &paths[i];
		struct frame f;
		__u32 rv;
		double x, xf, t, tf;

		p->build(&f);
		x = measure(bpf_program__fd(skel->progs.bulkhead_xdp), &f, repeat, runs, &rv);
		if (rv != (p->pass ? XDP_PASS : XDP_DROP))
			fprintf(stderr, "bench: %s: unexpected XDP verdict %u\n", p->name, rv);
		xf = measure(bpf_program__fd(p->pass ? empty->progs.empty_xdp_pass :
						       empty->progs.empty_xdp_drop),
			     &f, repeat, runs, &rv);
		t = measure(bpf_program__fd(skel->progs.bulkhead_tc_in), &f, repeat, runs, &rv);
		if (rv != (__u32)(p->pass ? TC_ACT_UNSPEC : TC_ACT_SHOT))
			fprintf(stderr, "bench: %s: unexpected tc verdict %d\n", p->name, (int)rv);
		tf = measure(bpf_program__fd(p->pass ? empty->progs.empty_tc_pass :
						       empty->progs.empty_tc_drop),
			     &f, repeat, runs, &rv);
		if (x < 0 || xf < 0 || t < 0 || tf < 0) {
			fprintf(stderr, "bench: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
			return 2;
		}
		printf("| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", p->name,
		       x, xf, xf > 0 ? x / xf : 0, t, tf, tf > 0 ? t / tf : 0);
	}
	empty_bpf__destroy(empty);
	bulkhead_bpf__destroy(skel);
	return 0;
}
