// SPDX-License-Identifier: GPL-2.0
/*
 * test_brnf_probe.c - the br_netfilter probe (userspace/brnf_probe.c;
 * cmocka, also built with ASan+UBSan), on this machine's kernel: bridged
 * IPv4 and IPv6 reach table inet with the bridge's nf_call options set;
 * with them off (and the namespace's sysctls 0) both frames enter the
 * bridge and neither reaches it, which the probe must say; the host's
 * namespace keeps its links, tables and sysctls; a child that does not
 * answer in time is killed and reaped; with bulkhead.service's
 * capabilities alone (no CAP_SYS_ADMIN) it runs in a user namespace; where
 * no namespace may be made (seccomp, as systemd's RestrictNamespaces=yes)
 * it cannot run, says so and is never a success; BH_TEST_BRNF_OFF makes
 * it fail and says so.
 *
 * Needs root and br_netfilter, which it loads as up does when it is a
 * module not loaded yet (skipped, with the reason, when it cannot).
 */
#include <net/if.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/netfilter.h>
#include <linux/seccomp.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <cmocka.h>

#include "brnf_probe.h"
#include "kernel.h"
#include "nl.h"

#define BRNF_SYSCTL	"/proc/sys/net/bridge/bridge-nf-call-"

/* root, and br_netfilter loaded as up loads it (libkmod, when a module) */
static void need_root_and_brnf(void)
{
	char err[512] = "";

	if (geteuid()) {
		print_message("# SKIP needs root (a network namespace)\n");
		skip();
	}
	if (bh_kernel_load_br_netfilter(err, sizeof(err))) {
		print_message("# SKIP %s\n", err);
		skip();
	}
}

static void test_probe_reaches(void **state)
{
	struct bh_brnf_probe r;
	char err[1024] = "";

	(void)state;
	need_root_and_brnf();
	assert_int_equal(bh_brnf_probe(&r, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(r.ran);
	assert_true(r.bridged4 && r.bridged6);
	assert_true(r.v4 && r.v6);
	/* the bridge's options alone carried them, as up relies on */
	assert_true(r.sysctls_off);
	assert_string_equal(bh_brnf_probe_families(&r), "ipv4 ipv6");
	assert_true(r.ms < BH_BRNF_PROBE_TIMEOUT_MS);
	print_message("# probe: %u ms\n", r.ms);
}

/* the condition missing: the probe must see the frames not arrive */
static void test_probe_nf_call_off(void **state)
{
	struct bh_brnf_probe r;
	char err[1024] = "";

	(void)state;
	need_root_and_brnf();
	assert_int_equal(bh_brnf_probe_run(false, BH_BRNF_PROBE_TIMEOUT_MS, &r, err, sizeof(err)), -EOPNOTSUPP);
	assert_true(r.ran);
	assert_true(r.sysctls_off);
	assert_true(r.bridged4 && r.bridged6);	/* they entered the bridge ... */
	assert_false(r.v4);			/* ... and did not reach table inet */
	assert_false(r.v6);
	assert_string_equal(bh_brnf_probe_families(&r), "none");
	assert_non_null(strstr(err, "bridged IPv4 and IPv6 do not"));
	assert_non_null(strstr(err, "table inet saw neither"));
	assert_non_null(strstr(err, "use --mode tc"));
	print_message("# %s\n", err);
}

static int sysctl_read(const char *name, char *buf, size_t len)
{
	FILE *f = fopen(name, "r");
	int ret = f && fgets(buf, (int)len, f) ? 0 : -1;

	if (f)
		fclose(f);
	return ret;
}

/* table @family bulkhead_probe in this namespace: 0, or -ENOENT */
static int probe_table_here(int family)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (__u16)family, 0, 0);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, "bulkhead_probe");
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return bh_nl_request(NETLINK_NETFILTER, nlh);
}

/* nothing of the probe is left in, or done to, the caller's namespace */
static void test_probe_leaves_host(void **state)
{
	char v4[16], v6[16], a4[16], a6[16];
	struct bh_brnf_probe r;
	char err[1024] = "";

	(void)state;
	need_root_and_brnf();
	assert_int_equal(sysctl_read(BRNF_SYSCTL "iptables", v4, sizeof(v4)), 0);
	assert_int_equal(sysctl_read(BRNF_SYSCTL "ip6tables", v6, sizeof(v6)), 0);
	assert_int_equal(bh_brnf_probe(&r, err, sizeof(err)), 0);
	assert_int_equal(bh_brnf_probe_run(false, BH_BRNF_PROBE_TIMEOUT_MS, &r, err, sizeof(err)), -EOPNOTSUPP);
	assert_int_equal(sysctl_read(BRNF_SYSCTL "iptables", a4, sizeof(a4)), 0);
	assert_int_equal(sysctl_read(BRNF_SYSCTL "ip6tables", a6, sizeof(a6)), 0);
	assert_string_equal(a4, v4);
	assert_string_equal(a6, v6);
	assert_int_equal(if_nametoindex("bhprobe0"), 0);
	assert_int_equal(if_nametoindex("bhprobe1o"), 0);
	assert_int_equal(probe_table_here(NFPROTO_INET), -ENOENT);
	assert_int_equal(probe_table_here(NFPROTO_BRIDGE), -ENOENT);
	/* every child reaped */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* a child that does not answer in time is killed and reaped: never "works" */
static void test_probe_timeout(void **state)
{
	struct bh_brnf_probe r;
	char err[1024] = "";

	(void)state;
	need_root_and_brnf();
	assert_int_equal(bh_brnf_probe_run(true, 1, &r, err, sizeof(err)), -ETIMEDOUT);
	assert_false(r.ran);
	assert_false(r.v4 || r.v6);
	assert_non_null(strstr(err, "could not run (it did not answer in 1 ms)"));
	assert_non_null(strstr(err, "use --mode tc"));
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* bulkhead.service's capabilities, no more (userspace/bulkhead.service) */
static int unit_caps(void)
{
	static const int keep[] = { CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON };
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		d[keep[i] / 32].effective |= 1U << (keep[i] % 32);
		d[keep[i] / 32].permitted |= 1U << (keep[i] % 32);
	}
	return (int)syscall(SYS_capset, &h, d);
}

/* what systemd's RestrictNamespaces=yes does: unshare() fails with EPERM */
static int no_namespaces(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* the probe in a child process restricted by @limit: its return */
static int probe_restricted(int (*limit)(void), char *err, size_t errlen, bool *ran)
{
	int fds[2], st;
	struct {
		int ret;
		bool ran;
		char err[1024];
	} a = { .ret = 1 };
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct bh_brnf_probe r;

		close(fds[0]);
		if (limit())
			_exit(2);
		a.ret = bh_brnf_probe(&r, a.err, sizeof(a.err));
		a.ran = r.ran;
		_exit(write(fds[1], &a, sizeof(a)) == (ssize_t)sizeof(a) ? 0 : 3);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &a, sizeof(a)), (ssize_t)sizeof(a));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && !WEXITSTATUS(st));
	snprintf(err, errlen, "%s", a.err);
	*ran = a.ran;
	return a.ret;
}

/* with bulkhead.service's capabilities alone (no CAP_SYS_ADMIN) it runs,
 * in a user namespace of its own */
static void test_probe_unit_caps(void **state)
{
	char err[1024];
	bool ran;

	(void)state;
	need_root_and_brnf();
	assert_int_equal(probe_restricted(unit_caps, err, sizeof(err), &ran), 0);
	assert_true(ran);
}

/* where no namespace may be made the probe cannot run, and says so */
static void test_probe_cannot_run(void **state)
{
	char err[1024];
	bool ran;

	(void)state;
	need_root_and_brnf();
	assert_int_equal(probe_restricted(no_namespaces, err, sizeof(err), &ran), -EPERM);
	assert_false(ran);
	assert_non_null(strstr(err, "could not run (a network namespace (unshare, also with a user namespace of its own): Operation not permitted)"));
	assert_non_null(strstr(err, "use --mode tc"));
}

/* the test switch makes the probe fail, and the error says it was set */
static void test_probe_test_off(void **state)
{
	struct bh_brnf_probe r;
	char err[1024] = "";

	(void)state;
	need_root_and_brnf();
	assert_int_equal(setenv(BH_BRNF_TEST_OFF, "1", 1), 0);
	assert_int_equal(bh_brnf_probe(&r, err, sizeof(err)), -EOPNOTSUPP);
	assert_int_equal(unsetenv(BH_BRNF_TEST_OFF), 0);
	assert_true(r.ran && !r.v4 && !r.v6);
	assert_non_null(strstr(err, "(" BH_BRNF_TEST_OFF " is set: the probe left its bridge's nf_call options off)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_reaches),
		cmocka_unit_test(test_probe_nf_call_off),
		cmocka_unit_test(test_probe_leaves_host),
		cmocka_unit_test(test_probe_timeout),
		cmocka_unit_test(test_probe_unit_caps),
		cmocka_unit_test(test_probe_cannot_run),
		cmocka_unit_test(test_probe_test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
