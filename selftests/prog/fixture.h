/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fixture.h - the BPF objects loaded without attaching, for tests and
 * benchmarks that drive them with BPF_PROG_TEST_RUN: map fds, a gateway
 * (02:00:00:00:00:01, 192.168.50.1/24, fd00:50::1/64) and a policy from
 * YAML, compiled and written by the controller's own code.
 */
#ifndef BH_FIXTURE_H
#define BH_FIXTURE_H

#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "bulkhead.skel.h"
#include "compile.h"
#include "dataplane.h"

static inline int fixture_apply_yaml(struct bh_maps *maps, const char *yaml)
{
	struct bh_policy *p = NULL;
	struct bh_compiled c;
	struct bh_diag d = {};
	char err[256] = "";
	int ret;

	ret = bh_policy_load_buf("test.yaml", yaml, strlen(yaml), &p, &d);
	if (ret) {
		bh_diag_print(&d);
		return ret;
	}
	ret = bh_compile(p, &c, &d);
	if (ret) {
		bh_diag_print(&d);
	} else {
		ret = bh_dp_apply(maps, &c, err, sizeof(err));
		if (ret < 0)
			fprintf(stderr, "apply: %s\n", err);
		bh_compiled_free(&c);
	}
	bh_policy_free(p);
	return ret < 0 ? ret : 0;
}

/*
 * The programs loaded, the gateway set and @yaml applied. @no_vcache: the
 * benchmarks' build-time knob (bh_bench_no_vcache in bpf/lib/config.h),
 * every frame judged in full; @no_flows: bh_bench_no_flows, nothing
 * recorded in bh_flow.
 */
static inline struct bulkhead_bpf *fixture_open_knobs(struct bh_maps *maps, const char *yaml,
						      bool no_vcache, bool no_flows)
{
	struct bh_port port = { .ifindex = 1 };
	struct bh_gw_addr addrs[2] = {};
	__u8 gw[1][6] = { { 0x02, 0, 0, 0, 0, 0x01 } };
	struct bh_topology t = { .ports = &port, .n_ports = 1, .macs = gw, .n_macs = 1,
				 .addrs = addrs, .n_addrs = 2 };
	struct bulkhead_bpf *skel = bulkhead_bpf__open();

	if (!skel)
		return NULL;
	skel->rodata->bh_bench_no_vcache = no_vcache;
	skel->rodata->bh_bench_no_flows = no_flows;
	if (bulkhead_bpf__load(skel)) {
		bulkhead_bpf__destroy(skel);
		return NULL;
	}
#define FD(f, m) maps->f = bpf_map__fd(skel->maps.m)
	FD(active, bh_active); FD(config, bh_config); FD(groups, bh_groups);
	FD(devices, bh_devices); FD(ips, bh_ips); FD(policy, bh_policy);
	FD(inet, bh_inet); FD(talk, bh_talk); FD(gw_mac, bh_gw_mac);
	FD(gw_ip, bh_gw_ip); FD(lan, bh_lan); FD(quarantine, bh_quarantine);
	FD(ct, bh_ct); FD(frag, bh_frag); FD(stats, bh_stats);
	FD(rulestats, bh_rulestats); FD(devstats, bh_devstats);
	FD(events, bh_events); FD(evlimit, bh_evlimit); FD(evcpu, bh_evcpu);
	FD(vepoch, bh_vepoch); FD(vcache, bh_vcache); FD(devctr, bh_devctr);
	FD(clock, bh_clock); FD(evslot, bh_evslot);
	FD(port, bh_port); FD(macport, bh_macport); FD(claim, bh_claim);
	FD(flow, bh_flow); FD(flowstat, bh_flowstat);
	FD(pin, bh_pin); FD(pinned, bh_pinned);
#undef FD
	bh_parse_addr("192.168.50.1", &addrs[0].addr);
	addrs[0].plen = 24;
	bh_parse_addr("fd00:50::1", &addrs[1].addr);
	addrs[1].plen = 64;
	if (bh_dp_set_gateway(maps, &t) || fixture_apply_yaml(maps, yaml)) {
		bulkhead_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static inline struct bulkhead_bpf *fixture_open_opts(struct bh_maps *maps, const char *yaml,
						     bool no_vcache)
{
	return fixture_open_knobs(maps, yaml, no_vcache, false);
}

static inline struct bulkhead_bpf *fixture_open(struct bh_maps *maps, const char *yaml)
{
	return fixture_open_opts(maps, yaml, false);
}

#endif /* BH_FIXTURE_H */
