// SPDX-License-Identifier: GPL-2.0
/*
 * test_nl_state.c - unit tests for the state directory (state.c) and the
 * rtnetlink topology reader (nl.c).
 *
 * The nl tests run in a forked child inside a fresh network namespace
 * (unshare(CLONE_NEWNET)), build their bridge and veth pairs there with
 * libmnl and report through the child's exit status; nothing reaches the
 * host's namespace and it all disappears when the child exits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "nl.h"
#include "state.h"

#define SKIP_STATUS	77

/* ---- fixtures ------------------------------------------------------------ */

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static int setup_dir(void **state)
{
	char *d = strdup("/tmp/bh-test-state.XXXXXX");

	if (!d || !mkdtemp(d)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int teardown_dir(void **state)
{
	char *d = *state;

	nftw(d, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

static char *sub(const char *base, const char *rel)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ & 3];

	snprintf(b, sizeof(buf[0]), "%s/%s", base, rel);
	return b;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Names in @dir other than . and .., joined with spaces. */
static void list_dir(const char *dir, char *out, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	out[0] = '\0';
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (out[0])
			strncat(out, " ", len - strlen(out) - 1);
		strncat(out, de->d_name, len - strlen(out) - 1);
	}
	closedir(d);
}

/* ---- state: files ---------------------------------------------------------- */

static void test_state_init_modes(void **state)
{
	const char *base = *state;
	char dir[512], *buf = NULL;
	mode_t old = umask(022);

	snprintf(dir, sizeof(dir), "%s/a/b/state", base);

	assert_int_equal(bh_state_init(dir), 0);
	assert_int_equal(mode_of(dir), 0700);
	/* an existing directory with loose permissions is tightened */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(bh_state_init(dir), 0);
	assert_int_equal(mode_of(dir), 0700);
	/* trailing slash is fine */
	assert_int_equal(bh_state_init(sub(base, "a/b/state/")), 0);

	assert_int_equal(bh_state_write(dir, "f", "x", 1), 0);
	assert_int_equal(mode_of(sub(dir, "f")), 0600);
	umask(0);
	assert_int_equal(bh_state_write(dir, "g", "y", 1), 0);
	assert_int_equal(mode_of(sub(dir, "g")), 0600);
	umask(old);

	/* a symlink or a regular file is refused */
	assert_int_equal(symlink(dir, sub(base, "link")), 0);
	assert_int_equal(bh_state_init(sub(base, "link")), -ENOTDIR);
	assert_int_equal(bh_state_write(dir, "plain", "", 0), 0);
	assert_int_equal(bh_state_init(sub(dir, "plain")), -ENOTDIR);
	assert_int_equal(bh_state_init(sub(dir, "plain/below")), -ENOTDIR);
	assert_int_equal(bh_state_init(""), -EINVAL);

	/* bad names */
	assert_int_equal(bh_state_write(dir, "../x", "x", 1), -EINVAL);
	assert_int_equal(bh_state_write(dir, "", "x", 1), -EINVAL);
	assert_int_equal(bh_state_read(dir, "..", &buf, NULL), -EINVAL);
	assert_null(buf);
}

static void test_state_roundtrip(void **state)
{
	const char *dir = *state;
	static const char bin[] = "line one\n\0binary\xff\x01 tail";
	char *buf = NULL;
	size_t len = 99;

	assert_int_equal(bh_state_write(dir, "blob", bin, sizeof(bin)), 0);
	assert_int_equal(bh_state_read(dir, "blob", &buf, &len), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(buf, bin, sizeof(bin));
	assert_int_equal(buf[len], '\0');
	free(buf);

	/* empty file: a valid empty string */
	assert_int_equal(bh_state_write(dir, "empty", NULL, 0), 0);
	assert_int_equal(bh_state_read(dir, "empty", &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	/* bigger than one read */
	{
		size_t n = 200000, i;
		char *big = malloc(n);

		assert_non_null(big);
		for (i = 0; i < n; i++)
			big[i] = (char)('a' + i % 26);
		assert_int_equal(bh_state_write(dir, "big", big, n), 0);
		assert_int_equal(bh_state_read(dir, "big", &buf, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(buf, big, n);
		free(buf);
		free(big);
	}

	buf = (char *)1;
	assert_int_equal(bh_state_read(dir, "missing", &buf, &len), -ENOENT);
	assert_null(buf);
	assert_int_equal(len, 0);

	assert_int_equal(bh_state_remove(dir, "blob"), 0);
	assert_int_equal(bh_state_read(dir, "blob", &buf, &len), -ENOENT);
	assert_int_equal(bh_state_remove(dir, "blob"), 0);	/* ENOENT ok */
}

static void test_state_atomic_replace(void **state)
{
	const char *dir = *state;
	char names[1024], *buf;
	size_t len;
	int i;

	for (i = 0; i < 20; i++) {
		char text[64];
		int n = snprintf(text, sizeof(text), "generation %d %.*s", i,
				 i, "xxxxxxxxxxxxxxxxxxxxxxxx");

		assert_int_equal(bh_state_write(dir, "up", text, (size_t)n), 0);
		assert_int_equal(bh_state_read(dir, "up", &buf, &len), 0);
		assert_string_equal(buf, text);
		free(buf);
	}
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "up");

	/* a failed replace (target is a directory) leaves no temp file */
	assert_int_equal(mkdir(sub(dir, "isdir"), 0700), 0);
	assert_int_not_equal(bh_state_write(dir, "isdir", "x", 1), 0);
	assert_int_equal(rmdir(sub(dir, "isdir")), 0);
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "up");

	/* a missing directory is an error, not a crash */
	assert_int_equal(bh_state_write(sub(dir, "nodir"), "x", "x", 1), -ENOENT);
}

/* ---- state: quarantine list ----------------------------------------------- */

static const char *const awkward[] = {
	"",
	"-",
	"--",
	"plain",
	"two words",
	" leading and trailing ",
	"100% sure",
	"%41 is not A",
	"line1\nline2\n",
	"tab\there\r\x01\x1f\x7f",
	"h\xc3\xa9llo \xe2\x9c\x93 \xff\xfe",
	"key=value # not a comment",
	"  ",
};

static void test_quar_roundtrip(void **state)
{
	const char *dir = *state;
	size_t n = sizeof(awkward) / sizeof(awkward[0]) + 1, got, i;
	struct bh_quar_entry *e = calloc(n, sizeof(*e)), *out = NULL;
	char *buf;

	assert_non_null(e);
	for (i = 0; i < n; i++) {
		__u8 mac[6] = { 0x02, 0xab, 0xcd, 0xef, (__u8)(i >> 8), (__u8)i };

		memcpy(e[i].mac, mac, 6);
		e[i].since = 1700000000ULL + i;
		e[i].until = i & 1 ? 0 : UINT64_MAX - i;
		if (i < n - 1)
			snprintf(e[i].reason, sizeof(e[i].reason), "%s", awkward[i]);
		else	/* longest reason that fits, all escaped */
			memset(e[i].reason, '%', sizeof(e[i].reason) - 1);
	}
	assert_int_equal(bh_quar_save(dir, e, n), 0);
	assert_int_equal(mode_of(sub(dir, "quarantine")), 0600);

	/* one line per entry, as documented */
	assert_int_equal(bh_state_read(dir, "quarantine", &buf, NULL), 0);
	assert_memory_equal(buf, "02:ab:cd:ef:00:00 1700000000 18446744073709551615 -\n",
			    strlen("02:ab:cd:ef:00:00 1700000000 18446744073709551615 -\n"));
	for (i = 0, got = 0; buf[i]; i++)
		got += buf[i] == '\n';
	assert_int_equal(got, n);
	free(buf);

	assert_int_equal(bh_quar_load(dir, &out, &got), 0);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++) {
		assert_memory_equal(out[i].mac, e[i].mac, 6);
		assert_true(out[i].since == e[i].since);
		assert_true(out[i].until == e[i].until);
		assert_string_equal(out[i].reason, e[i].reason);
	}
	free(out);

	/* an empty list round-trips too */
	assert_int_equal(bh_quar_save(dir, NULL, 0), 0);
	out = (void *)1;
	assert_int_equal(bh_quar_load(dir, &out, &got), 0);
	assert_null(out);
	assert_int_equal(got, 0);
	free(e);
}

static void test_quar_missing(void **state)
{
	struct bh_quar_entry *out = (void *)1;
	size_t n = 7;

	assert_int_equal(bh_quar_load(*state, &out, &n), 0);
	assert_null(out);
	assert_int_equal(n, 0);
}

static void test_quar_malformed(void **state)
{
	static const char *const bad[] = {
		"02:00:00:00:00:01 1 2\n",			/* no reason */
		"02:00:00:00:00:01 1 2 a b\n",			/* extra field */
		"02:00:00:00:00:01  1 2 -\n",			/* double space */
		"02:00:00:00:00:01 1 2 -\n garbage\n",
		"02:00:00:00:00 1 2 -\n",			/* short MAC */
		"02-00-00-00-00-01 1 2 -\n",
		"0g:00:00:00:00:01 1 2 -\n",
		"02:00:00:00:00:01 -1 2 -\n",
		"02:00:00:00:00:01 1 2x -\n",
		"02:00:00:00:00:01 1 18446744073709551616 -\n",	/* overflow */
		"02:00:00:00:00:01 1 2 %4\n",			/* short escape */
		"02:00:00:00:00:01 1 2 %zz\n",
		"02:00:00:00:00:01 1 2 a%00b\n",		/* encoded NUL */
		"02:00:00:00:00:01 1 2 raw\ttab\n",
		"02:00:00:00:00:01 1 2 raw\xc3\xa9\n",
		"just garbage\n",
	};
	const char *dir = *state;
	struct bh_quar_entry *out;
	const char *buf;
	char longr[600];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bh_state_write(dir, "quarantine", bad[i],
						strlen(bad[i])), 0);
		out = (void *)1;
		n = 5;
		if (bh_quar_load(dir, &out, &n) != -EINVAL)
			fail_msg("accepted malformed line %zu: %s", i, bad[i]);
		assert_null(out);
		assert_int_equal(n, 0);
	}
	/* a reason that decodes to more than 255 bytes */
	n = (size_t)snprintf(longr, sizeof(longr), "02:00:00:00:00:01 1 2 ");
	memset(longr + n, 'r', 256);
	memcpy(longr + n + 256, "\n", 2);
	assert_int_equal(bh_state_write(dir, "quarantine", longr, strlen(longr)), 0);
	assert_int_equal(bh_quar_load(dir, &out, &n), -EINVAL);
	/* an embedded NUL */
	assert_int_equal(bh_state_write(dir, "quarantine",
					"02:00:00:00:00:01 1 2 a\0b\n", 26), 0);
	assert_int_equal(bh_quar_load(dir, &out, &n), -EINVAL);

	/* upper-case MACs and blank lines are accepted */
	buf = "\n02:AB:00:00:00:01 5 0 -\n\n";
	assert_int_equal(bh_state_write(dir, "quarantine", buf, strlen(buf)), 0);
	assert_int_equal(bh_quar_load(dir, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].mac[1], 0xab);
	assert_true(out[0].since == 5 && out[0].until == 0);
	assert_string_equal(out[0].reason, "");
	free(out);
}

/* ---- state: key=value ----------------------------------------------------- */

static void test_kv_roundtrip(void **state)
{
	const char *dir = *state;
	struct bh_kv kv[6] = {}, *out = (void *)1, bad = {};
	size_t n = 9, i;
	char *buf;

	assert_int_equal(bh_kv_load(dir, "up", &out, &n), -ENOENT);
	assert_null(out);
	assert_int_equal(n, 0);
	assert_null(bh_kv_get(NULL, 0, "mode"));
	assert_null(bh_kv_get(out, n, "mode"));

	strcpy(kv[0].key, "mode");		strcpy(kv[0].val, "tc");
	strcpy(kv[1].key, "policy");		strcpy(kv[1].val, "/etc/bulkhead/my policy.yaml");
	strcpy(kv[2].key, "empty");		/* "" */
	strcpy(kv[3].key, "tricky");		strcpy(kv[3].val, "a=b%c\nd\te \xc3\xa9 -");
	strcpy(kv[4].key, "pin_dir");		strcpy(kv[4].val, "/sys/fs/bpf/bulkhead");
	strcpy(kv[5].key, "long");
	memset(kv[5].val, ' ', sizeof(kv[5].val) - 1);

	assert_int_equal(bh_kv_save(dir, "up", kv, 6), 0);
	assert_int_equal(mode_of(sub(dir, "up")), 0600);
	assert_int_equal(bh_state_read(dir, "up", &buf, NULL), 0);
	assert_non_null(strstr(buf, "mode=tc\n"));
	assert_non_null(strstr(buf, "pin_dir=/sys/fs/bpf/bulkhead\n"));
	free(buf);

	assert_int_equal(bh_kv_load(dir, "up", &out, &n), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		assert_string_equal(out[i].key, kv[i].key);
		assert_string_equal(out[i].val, kv[i].val);
	}
	assert_string_equal(bh_kv_get(out, n, "mode"), "tc");
	assert_string_equal(bh_kv_get(out, n, "tricky"), kv[3].val);
	assert_string_equal(bh_kv_get(out, n, "empty"), "");
	assert_null(bh_kv_get(out, n, "nope"));
	assert_null(bh_kv_get(out, n, "mod"));
	free(out);

	/* keys that cannot be written back are refused */
	strcpy(bad.key, "a=b");
	assert_int_equal(bh_kv_save(dir, "bad", &bad, 1), -EINVAL);
	strcpy(bad.key, "");
	assert_int_equal(bh_kv_save(dir, "bad", &bad, 1), -EINVAL);
	assert_int_equal(bh_state_read(dir, "bad", &buf, NULL), -ENOENT);

	/* malformed files */
	assert_int_equal(bh_state_write(dir, "bad", "mode\n", 5), 0);
	assert_int_equal(bh_kv_load(dir, "bad", &out, &n), -EINVAL);
	assert_null(out);
	assert_int_equal(bh_state_write(dir, "bad", "=x\n", 3), 0);
	assert_int_equal(bh_kv_load(dir, "bad", &out, &n), -EINVAL);
	assert_int_equal(bh_state_write(dir, "bad", "k=a b\n", 6), 0);
	assert_int_equal(bh_kv_load(dir, "bad", &out, &n), -EINVAL);
	assert_int_equal(bh_state_write(dir, "bad", "k=%G0\n", 6), 0);
	assert_int_equal(bh_kv_load(dir, "bad", &out, &n), -EINVAL);

	/* an empty file is zero pairs */
	assert_int_equal(bh_kv_save(dir, "none", NULL, 0), 0);
	assert_int_equal(bh_kv_load(dir, "none", &out, &n), 0);
	assert_int_equal(n, 0);
	free(out);
}

/* ---- nl: helpers run inside the child's namespace -------------------------- */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #c);			\
		_exit(1);						\
	}								\
} while (0)

static struct mnl_socket *tnl;
static unsigned int tseq;

/* Send one request with NLM_F_ACK and wait for the answer: 0 or -errno. */
static int talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(tnl);
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++tseq;
	if (mnl_socket_sendto(tnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(tnl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, tseq, portid, NULL, NULL);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *link_msg(char *buf, __u16 flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

static int link_up(const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int idx = (int)if_nametoindex(name);

	if (!idx)
		return -ENODEV;
	nlh = link_msg(buf, 0, idx);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(nlh);
}

static int add_bridge(const char *name, const __u8 mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *li;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	return talk(nlh);
}

/* A veth pair @name/@peer; @name gets @mac and, if @master, a bridge. */
static int add_veth(const char *name, const char *peer, const __u8 mac[6],
		    const char *master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, NLM_F_CREATE | NLM_F_EXCL, 0);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (master) {
		int m = (int)if_nametoindex(master);

		if (!m)
			return -ENODEV;
		mnl_attr_put_u32(nlh, IFLA_MASTER, (__u32)m);
	}
	bh_nl_put_veth(nlh, peer);
	return talk(nlh);
}

static int add_addr(const char *dev, const char *addr, int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	__u8 a[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	size_t alen = fam == AF_INET ? 4 : 16;

	if (inet_pton(fam, addr, a) != 1)
		return -EINVAL;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (__u8)fam;
	ifa->ifa_prefixlen = (__u8)plen;
	ifa->ifa_index = if_nametoindex(dev);
	if (fam == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	if (!ifa->ifa_index)
		return -ENODEV;
	mnl_attr_put(nlh, IFA_LOCAL, alen, a);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a);
	return talk(nlh);
}

static void mac_of(int i, __u8 mac[6])
{
	static const __u8 base[6] = { 0x02, 0xbb, 0x00, 0x00, 0x00, 0x00 };

	memcpy(mac, base, 6);
	mac[5] = (__u8)i;
}

/*
 * bhbr0 (mac .01, 192.168.77.1/24, 2001:db8:77::1/64) with ports bhp0
 * (mac .10, 10.99.0.1/16) and bhp1 (mac .11); their peers bhp0p/bhp1p;
 * bhbr1 (mac .02) with no ports; bhq0 (mac .20, 10.55.0.1/24) unenslaved
 * with peer bhq0p.
 */
static void build_topology(void)
{
	__u8 mac[6];

	tnl = mnl_socket_open(NETLINK_ROUTE);
	CHECK(tnl);
	CHECK(mnl_socket_bind(tnl, 0, MNL_SOCKET_AUTOPID) == 0);
	CHECK(link_up("lo") == 0);
	mac_of(1, mac);
	CHECK(add_bridge("bhbr0", mac) == 0);
	mac_of(2, mac);
	CHECK(add_bridge("bhbr1", mac) == 0);
	mac_of(0x11, mac);
	CHECK(add_veth("bhp1", "bhp1p", mac, "bhbr0") == 0);
	mac_of(0x10, mac);
	CHECK(add_veth("bhp0", "bhp0p", mac, "bhbr0") == 0);
	mac_of(0x20, mac);
	CHECK(add_veth("bhq0", "bhq0p", mac, NULL) == 0);
	CHECK(add_addr("bhbr0", "192.168.77.1", 24) == 0);
	CHECK(add_addr("bhbr0", "2001:db8:77::1", 64) == 0);
	CHECK(add_addr("bhp0", "10.99.0.1", 16) == 0);
	CHECK(add_addr("bhq0", "10.55.0.1", 24) == 0);
	CHECK(link_up("bhbr0") == 0);
	CHECK(link_up("bhp0") == 0);
	CHECK(link_up("bhp0p") == 0);
	CHECK(link_up("bhq0") == 0);
}

static bool has_mac(const struct bh_topology *t, int i)
{
	__u8 mac[6];
	size_t j;

	mac_of(i, mac);
	for (j = 0; j < t->n_macs; j++)
		if (!memcmp(t->macs[j], mac, 6))
			return true;
	return false;
}

static const struct bh_gw_addr *find_addr(const struct bh_topology *t,
					  const char *s)
{
	struct bh_addr a = {};
	size_t i;

	if (strchr(s, ':')) {
		CHECK(inet_pton(AF_INET6, s, a.a) == 1);
	} else {
		a.a[10] = a.a[11] = 0xff;
		CHECK(inet_pton(AF_INET, s, &a.a[12]) == 1);
		a.v4 = true;
	}
	for (i = 0; i < t->n_addrs; i++)
		if (!memcmp(t->addrs[i].addr.a, a.a, 16) &&
		    t->addrs[i].addr.v4 == a.v4)
			return &t->addrs[i];
	return NULL;
}

static const struct bh_port *find_port(const struct bh_topology *t,
				       const char *name)
{
	size_t i;

	for (i = 0; i < t->n_ports; i++)
		if (!strcmp(t->ports[i].name, name))
			return &t->ports[i];
	return NULL;
}

static bool sorted(const struct bh_topology *t)
{
	size_t i;

	for (i = 1; i < t->n_ports; i++)
		if (t->ports[i - 1].ifindex >= t->ports[i].ifindex)
			return false;
	return true;
}

/* Fork, enter a new network namespace in the child, run @fn there. */
static void in_netns(void (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET)) {
			fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
			_exit(SKIP_STATUS);
		}
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP_STATUS)
		skip();
	if (!WIFEXITED(st))
		fail_msg("netns child killed by signal %d", WTERMSIG(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- nl: tests --------------------------------------------------------------- */

static void child_lo_missing(void)
{
	char *lo[] = { "lo" }, *missing[] = { "lo", "bhnosuch0" }, *empty[] = { "" };
	struct bh_topology t = {};
	char err[128] = "";

	/* a new namespace: lo exists, down, no addresses */
	CHECK(bh_nl_topology(lo, 1, &t, err, sizeof(err)) == 0);
	CHECK(t.n_ports == 1);
	CHECK(t.ports[0].ifindex == 1);
	CHECK(!strcmp(t.ports[0].name, "lo"));
	CHECK(!strcmp(t.ports[0].bridge, ""));
	CHECK(!t.ports[0].up);
	CHECK(t.n_macs == 0);		/* all-zero MAC skipped */
	CHECK(t.n_addrs == 0);
	bh_topology_free(&t);
	CHECK(!t.ports && !t.macs && !t.addrs && !t.n_ports);
	bh_topology_free(&t);		/* twice is fine */

	tnl = mnl_socket_open(NETLINK_ROUTE);
	CHECK(tnl && mnl_socket_bind(tnl, 0, MNL_SOCKET_AUTOPID) == 0);
	CHECK(link_up("lo") == 0);
	CHECK(bh_nl_topology(lo, 1, &t, err, sizeof(err)) == 0);
	CHECK(t.n_ports == 1 && t.ports[0].up);
	CHECK(find_addr(&t, "127.0.0.1") && find_addr(&t, "127.0.0.1")->plen == 8);
	CHECK(find_addr(&t, "127.0.0.1")->ifindex == 1);
	CHECK(find_addr(&t, "::1") && find_addr(&t, "::1")->plen == 128);
	CHECK(!find_addr(&t, "::1")->addr.v4);
	bh_topology_free(&t);

	CHECK(bh_nl_topology(missing, 2, &t, err, sizeof(err)) == -ENODEV);
	CHECK(strstr(err, "interface bhnosuch0: not found"));
	CHECK(!t.ports && !t.n_ports && !t.macs && !t.addrs);
	CHECK(bh_nl_topology(empty, 1, &t, err, sizeof(err)) == -ENODEV);
	/* no names: nothing, and a NULL error buffer is allowed */
	CHECK(bh_nl_topology(NULL, 0, &t, NULL, 0) == 0);
	CHECK(t.n_ports == 0 && t.n_macs == 0 && t.n_addrs == 0);
	bh_topology_free(&t);
}

static void test_nl_lo_and_missing(void **state)
{
	(void)state;
	in_netns(child_lo_missing);
}

static void child_bridge(void)
{
	char *names[] = { "bhbr0" };
	struct bh_topology t = {};
	const struct bh_gw_addr *a;
	const struct bh_port *p0, *p1;
	char err[128] = "";
	int br;
	size_t i;

	build_topology();
	br = (int)if_nametoindex("bhbr0");
	CHECK(br > 0);
	CHECK(bh_nl_topology(names, 1, &t, err, sizeof(err)) == 0);

	/* exactly the two enslaved veths, sorted, peers not included */
	CHECK(t.n_ports == 2);
	CHECK(sorted(&t));
	p0 = find_port(&t, "bhp0");
	p1 = find_port(&t, "bhp1");
	CHECK(p0 && p1);
	CHECK(p0->ifindex == (int)if_nametoindex("bhp0"));
	CHECK(p1->ifindex == (int)if_nametoindex("bhp1"));
	CHECK(!strcmp(p0->bridge, "bhbr0") && !strcmp(p1->bridge, "bhbr0"));
	CHECK(p0->up && !p1->up);
	CHECK(p0->mac[5] == 0x10 && p1->mac[5] == 0x11 && p0->mac[1] == 0xbb);

	/* MACs: the bridge and its ports */
	CHECK(t.n_macs == 3);
	CHECK(has_mac(&t, 1) && has_mac(&t, 0x10) && has_mac(&t, 0x11));

	/* addresses: the bridge's only (incl. its IPv6 link-local when up) */
	a = find_addr(&t, "192.168.77.1");
	CHECK(a && a->plen == 24 && a->ifindex == br && a->addr.v4);
	CHECK(a->addr.a[10] == 0xff && a->addr.a[11] == 0xff && a->addr.a[0] == 0);
	a = find_addr(&t, "2001:db8:77::1");
	CHECK(a && a->plen == 64 && a->ifindex == br && !a->addr.v4);
	CHECK(!find_addr(&t, "10.99.0.1"));	/* on a port, not the gateway */
	for (i = 0; i < t.n_addrs; i++)
		CHECK(t.addrs[i].ifindex == br);
	bh_topology_free(&t);
}

static void test_nl_bridge_ports(void **state)
{
	(void)state;
	in_netns(child_bridge);
}

static void child_mixed(void)
{
	char *names[] = { "bhbr1", "bhq0", "bhbr0", "bhq0", "bhp1", "bhbr0" };
	char *only_empty[] = { "bhbr1" };
	struct bh_topology t = {};
	const struct bh_port *p;
	const struct bh_gw_addr *a;
	char err[128] = "";

	build_topology();

	/* a bridge with no ports gives no ports, but is the gateway */
	CHECK(bh_nl_topology(only_empty, 1, &t, err, sizeof(err)) == 0);
	CHECK(t.n_ports == 0);
	CHECK(t.n_macs == 1 && has_mac(&t, 2));
	bh_topology_free(&t);

	/* duplicates and a port listed on its own appear once */
	CHECK(bh_nl_topology(names, 6, &t, err, sizeof(err)) == 0);
	CHECK(t.n_ports == 3);
	CHECK(sorted(&t));
	p = find_port(&t, "bhq0");
	CHECK(p && !strcmp(p->bridge, "") && p->up && p->mac[5] == 0x20);
	CHECK(find_port(&t, "bhp0") && find_port(&t, "bhp1"));
	CHECK(!strcmp(find_port(&t, "bhp1")->bridge, "bhbr0"));
	CHECK(!find_port(&t, "bhq0p") && !find_port(&t, "bhbr0"));
	CHECK(t.n_macs == 5);
	CHECK(has_mac(&t, 1) && has_mac(&t, 2) && has_mac(&t, 0x10) &&
	      has_mac(&t, 0x11) && has_mac(&t, 0x20));
	/* the directly listed interface's address counts, once */
	a = find_addr(&t, "10.55.0.1");
	CHECK(a && a->plen == 24 && a->ifindex == (int)if_nametoindex("bhq0"));
	CHECK(find_addr(&t, "192.168.77.1"));
	{
		size_t i, c = 0;

		for (i = 0; i < t.n_addrs; i++)
			c += !memcmp(&t.addrs[i].addr, &a->addr, sizeof(a->addr));
		CHECK(c == 1);
	}
	/* bhp1 is listed directly, so its addresses would count; it has none */
	CHECK(!find_addr(&t, "10.99.0.1"));
	bh_topology_free(&t);
}

static void test_nl_mixed_and_dedup(void **state)
{
	(void)state;
	in_netns(child_mixed);
}

/* Enough links that both dumps take several messages. */
static void child_many(void)
{
	char *names[] = { "bhbig" }, n[IF_NAMESIZE], peer[IF_NAMESIZE];
	struct bh_topology t = {};
	char err[128] = "";
	__u8 mac[6];
	size_t i;

	build_topology();
	mac_of(0x30, mac);
	CHECK(add_bridge("bhbig", mac) == 0);
	for (i = 0; i < 40; i++) {
		snprintf(n, sizeof(n), "bhm%zu", i);
		snprintf(peer, sizeof(peer), "bhm%zup", i);
		mac_of(0x40 + (int)i, mac);
		CHECK(add_veth(n, peer, mac, "bhbig") == 0);
		snprintf(peer, sizeof(peer), "10.%zu.0.1", i);
		CHECK(add_addr(n, peer, 24) == 0);
	}
	CHECK(add_addr("bhbig", "172.16.0.1", 12) == 0);
	CHECK(bh_nl_topology(names, 1, &t, err, sizeof(err)) == 0);
	CHECK(t.n_ports == 40);
	CHECK(sorted(&t));
	CHECK(t.n_macs == 41);
	for (i = 0; i < 40; i++)
		CHECK(has_mac(&t, 0x40 + (int)i));
	CHECK(t.n_addrs == 1 && find_addr(&t, "172.16.0.1"));
	bh_topology_free(&t);
}

static void test_nl_multipart_dump(void **state)
{
	(void)state;
	in_netns(child_many);
}

/* bh_next_line: lines, the last one without a newline, too long, a NUL */
static void test_next_line(void **state)
{
	static const char buf[] = "one\n\nthree-long\nf\0ur\nlast";
	size_t pos = 0, len = sizeof(buf) - 1;
	char line[6];

	(void)state;
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), 1);
	assert_string_equal(line, "one");
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), 1);
	assert_string_equal(line, "");
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), -E2BIG);
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), -EINVAL);
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), 1);
	assert_string_equal(line, "last");
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), 0);
	assert_int_equal(bh_next_line(buf, len, &pos, line, sizeof(line)), 0);
	/* exactly max - 1 bytes fit */
	pos = 0;
	assert_int_equal(bh_next_line("12345\n", 6, &pos, line, sizeof(line)), 1);
	assert_string_equal(line, "12345");
}

/* bh_grow: from @first, doubling, the contents kept */
static void test_grow(void **state)
{
	size_t cap = 0;
	int *v = NULL;

	(void)state;
	assert_int_equal(bh_grow((void **)&v, &cap, 1, sizeof(*v), 4), 0);
	assert_int_equal(cap, 4);
	for (int i = 0; i < 4; i++)
		v[i] = i;
	assert_int_equal(bh_grow((void **)&v, &cap, 4, sizeof(*v), 4), 0);
	assert_int_equal(cap, 4);
	assert_int_equal(bh_grow((void **)&v, &cap, 9, sizeof(*v), 4), 0);
	assert_int_equal(cap, 16);
	assert_int_equal(v[3], 3);
	free(v);
}

static void test_duration(void **state)
{
	static const struct { const char *s; __u64 secs; } good[] = {
		{ "30s", 30 }, { "30m", 1800 }, { "2h", 7200 }, { "1d", 86400 },
		{ "1h30m", 5400 }, { "1d2h3m4s", 93784 }, { "90s", 90 },
		{ "0h5s", 5 }, { "3660d", 3660ULL * 86400 },
	};
	static const char *const bad[] = {
		"", "10", "s", "5x", "-5s", "5 s", " 5s", "5s ", "0s", "0m0s",
		"1.5h", "5S", "h5", "5sm",
	};
	static const struct { __u64 secs; const char *s; } fmt[] = {
		{ 0, "0s" }, { 3, "3s" }, { 59, "59s" }, { 60, "1m" }, { 61, "1m1s" },
		{ 1799, "29m59s" }, { 3600, "1h" }, { 3605, "1h" }, { 3660, "1h1m" },
		{ 86399, "23h59m" }, { 93784, "1d2h" }, { 86400 * 3 + 59, "3d" },
	};
	char buf[32];
	__u64 v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		assert_int_equal(bh_duration_parse(good[i].s, &v), 0);
		assert_true(v == good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 77;
		assert_int_equal(bh_duration_parse(bad[i], &v), -EINVAL);
		assert_true(v == 77);
	}
	assert_int_equal(bh_duration_parse("3661d", &v), -ERANGE);
	assert_int_equal(bh_duration_parse("99999999999999999999999s", &v), -ERANGE);
	assert_int_equal(bh_duration_parse("3660d1s", &v), -ERANGE);
	assert_int_equal(bh_duration_parse(NULL, &v), -EINVAL);
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		bh_duration_format(fmt[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, fmt[i].s);
	}
	bh_duration_format(93784, buf, 3);	/* cut, still terminated */
	assert_string_equal(buf, "1d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_init_modes, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_state_roundtrip, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_state_atomic_replace, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_quar_roundtrip, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_quar_missing, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_quar_malformed, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_kv_roundtrip, setup_dir, teardown_dir),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_next_line),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_nl_lo_and_missing),
		cmocka_unit_test(test_nl_bridge_ports),
		cmocka_unit_test(test_nl_mixed_and_dedup),
		cmocka_unit_test(test_nl_multipart_dump),
	};

	return cmocka_run_group_tests_name("nl_state", tests, NULL, NULL);
}
