// SPDX-License-Identifier: GPL-2.0
/*
 * kernel.c - what the running kernel offers Bulkhead: its release, tcx
 * links or only clsact filters for tc, and br_netfilter (without it a
 * bridge hands no frame to table inet, whatever nf_call_iptables says).
 * br_netfilter is loaded with libkmod when it is a module that is not
 * loaded yet, as Debian's and OpenWrt's kernels build it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <libkmod.h>

#include "dataplane.h"
#include "kernel.h"

#define BR_NF_SYSCTL	"/proc/sys/net/bridge/bridge-nf-call-iptables"

bool bh_kernel_br_netfilter(void)
{
	/* br_netfilter registers these per network namespace */
	return !access(BR_NF_SYSCTL, F_OK);
}

void bh_kernel_facts(struct bh_kernel *k)
{
	LIBBPF_OPTS(bpf_prog_query_opts, qo);
	struct utsname u;
	__u32 ids[1];

	memset(k, 0, sizeof(*k));
	if (!uname(&u))
		snprintf(k->release, sizeof(k->release), "%s", u.release);
	/* a tcx query of lo: kernels without tcx refuse the attach type */
	qo.prog_ids = ids;
	qo.prog_cnt = 1;
	k->tcx = !bpf_prog_query_opts(1, (enum bpf_attach_type)BH_ATTACH_TCX_INGRESS, &qo);
	k->br_netfilter = bh_kernel_br_netfilter();
}

int bh_kernel_load_br_netfilter(char *err, size_t errlen)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int ret;

	if (bh_kernel_br_netfilter())
		return 0;
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		snprintf(err, errlen, "br_netfilter is not loaded and libkmod cannot start");
		return -ENOMEM;
	}
	ret = kmod_module_new_from_name(ctx, "br_netfilter", &mod);
	if (!ret)
		ret = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (ret > 0)
		ret = -ENOENT;	/* blacklisted or a module's install command said no */
	if (!ret && !bh_kernel_br_netfilter())
		ret = -ENOENT;
	if (ret)
		snprintf(err, errlen,
			 "--mode nft needs br_netfilter (without it bridged IP never reaches table inet %s and the policy would not be enforced), and it cannot be loaded: %s; load it (modprobe br_netfilter; to keep it, echo br_netfilter > /etc/modules-load.d/bulkhead.conf) or use --mode tc",
			 "bulkhead", strerror(-ret));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}
