/* SPDX-License-Identifier: GPL-2.0 */
/*
 * brnf_probe.h - does bridged IP really reach an nftables inet table here?
 * --mode nft judges it in table inet bulkhead, which sees bridged frames
 * only through br_netfilter; the probe sends frames through a bridge of
 * its own, in a scratch network namespace, and counts them (brnf_probe.c).
 */
#ifndef BH_BRNF_PROBE_H
#define BH_BRNF_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* What a probe saw. */
struct bh_brnf_probe {
	bool ran;		/* it ran to the end: the fields below are what it saw */
	bool bridged4, bridged6;	/* the IPv4 / IPv6 frame entered the bridge */
	bool v4, v6;		/* ... and reached the inet table's prerouting hook */
	bool sysctls_off;	/* the namespace's bridge-nf-call-ip{,6}tables were
				 * set to 0 first: only the bridge's own options,
				 * as up sets them, carried the frames */
	unsigned int ms;	/* how long it took, fork to answer */
};

/*
 * bh_brnf_probe() kills its child after this: it answers in milliseconds,
 * but under an emulator (the kernel rig's TCG) the first one, making the
 * first namespace, took seconds
 */
#define BH_BRNF_PROBE_TIMEOUT_MS	10000

/*
 * Send one IPv4/UDP and one IPv6/UDP frame through a bridge with
 * nf_call_iptables and nf_call_ip6tables set (as up --mode nft sets them
 * on the policy's bridges), in a scratch network namespace of a child
 * process (the host's bridges and ruleset are never touched), and count
 * them in a table inet of its own on the prerouting hook, where table
 * inet bulkhead judges them. 0 when both families reached it; -EOPNOTSUPP
 * with @r->ran when one did not; any other -errno when the probe could not
 * run (@r->ran false). On an error @err says what and what to do.
 */
int bh_brnf_probe(struct bh_brnf_probe *r, char *err, size_t errlen);

/*
 * Tests only: with BH_TEST_BRNF_OFF=1 in its environment bh_brnf_probe()
 * leaves the scratch bridge's nf_call options off, so it must see bridged
 * IP not reach table inet (up --mode nft's refusal, end to end). It can
 * only make the probe fail, and the error says it was set.
 */
#define BH_BRNF_TEST_OFF	"BH_TEST_BRNF_OFF"

/*
 * The same probe with the scratch bridge's nf_call options set to
 * @nf_call and the child killed after @timeout_ms. For the tests.
 */
int bh_brnf_probe_run(bool nf_call, unsigned int timeout_ms, struct bh_brnf_probe *r,
		      char *err, size_t errlen);

/* "ipv4 ipv6", "ipv4", "ipv6" or "none": the families @r saw reach table inet */
const char *bh_brnf_probe_families(const struct bh_brnf_probe *r);

#endif /* BH_BRNF_PROBE_H */
