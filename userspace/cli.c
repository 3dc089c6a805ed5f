// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - the subcommands' option parser and usage writer, both driven by
 * the command's option table, and the one -errno to exit status mapping.
 * See cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "kernel.h"

#define OPT_MAX		16	/* options of one command */
#define OPT_COL		19	/* the width of "-c, --config POLICY" */

int bh_exit_code(int err)
{
	if (!err)
		return BH_EXIT_OK;
	return bh_err_input(err) ? BH_EXIT_INPUT : BH_EXIT_SYSTEM;
}

/* "-c, --config POLICY" or "    --metrics ADDR:PORT" */
static void opt_label(const struct bh_opt *o, char *buf, size_t len)
{
	char head[8] = "    ";

	if (o->short_name)
		snprintf(head, sizeof(head), "-%c, ", o->short_name);
	snprintf(buf, len, "%s--%s%s%s", head, o->name, o->metavar ? " " : "",
		 o->metavar ? o->metavar : "");
}

void bh_cmd_usage(const struct bh_cmd *c, const struct bh_cmd_spec *s, FILE *f)
{
	const char *text = s->help ? s->help : "";
	bool listed = false;
	char label[128];

	fprintf(f, "Usage: bulkhead %s %s\n%s\n", c->name, s->synopsis, c->summary);
	for (const struct bh_opt *o = s->opts; o && o->name; o++)
		listed |= o->help != NULL;
	if (listed || *text)
		fputc('\n', f);
	for (const struct bh_opt *o = s->opts; o && o->name; o++) {
		const char *h = o->help, *nl;

		if (!h)
			continue;
		opt_label(o, label, sizeof(label));
		fprintf(f, "  %-*s  ", OPT_COL, label);
		/* lines after the first: under the first */
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, 2 + OPT_COL + 2, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
	if (listed && *text)
		fputc('\n', f);
	fputs(text, f);
}

int bh_cmd_usage_err(const struct bh_cmd *c, const struct bh_cmd_spec *s)
{
	bh_cmd_usage(c, s, stderr);
	return -EINVAL;
}

static const struct bh_opt *opt_by_short(const struct bh_opt *opts, int ch)
{
	for (const struct bh_opt *o = opts; o && o->name; o++)
		if (o->short_name && o->short_name == ch)
			return o;
	return NULL;
}

/* the option's value into @dst: 0, or -EINVAL said by its parser */
static int opt_store(const struct bh_cmd *c, const struct bh_opt *o, void *dst,
		     const char *arg)
{
	void *p = (char *)dst + o->off;

	if (o->parse)
		return o->parse(c->name, arg, p) ? -EINVAL : 0;
	if (o->arg == BH_OPT_FLAG)
		*(bool *)p = true;
	else
		*(const char **)p = arg;
	return 0;
}

int bh_cmd_parse(const struct bh_cmd *c, const struct bh_cmd_spec *s, void *dst,
		 int *argc, char ***argv)
{
	struct option lo[OPT_MAX + 2] = {};
	char shortopts[3 * OPT_MAX + 2], *so = shortopts;
	const struct bh_opt *o;
	int n = 0, opt, nargs;

	for (o = s->opts; o && o->name && n < OPT_MAX; o++, n++) {
		lo[n] = (struct option){ o->name, o->arg == BH_OPT_VALUE ? required_argument :
					 no_argument, NULL, 256 + n };
		if (o->short_name) {
			*so++ = o->short_name;
			if (o->arg == BH_OPT_VALUE)
				*so++ = ':';
		}
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	*so++ = 'h';
	*so = '\0';

	while ((opt = getopt_long(*argc, *argv, shortopts, lo, NULL)) != -1) {
		if (opt == 'h') {
			bh_cmd_usage(c, s, stdout);
			return 1;
		}
		o = opt >= 256 ? &s->opts[opt - 256] : opt_by_short(s->opts, opt);
		if (!o)		/* '?' or ':': getopt said which */
			return bh_cmd_usage_err(c, s);
		if (opt_store(c, o, dst, optarg))
			return -EINVAL;
	}
	nargs = *argc - optind;
	if (nargs < s->min_args || (s->max_args >= 0 && nargs > s->max_args))
		return bh_cmd_usage_err(c, s);
	*argc = nargs;
	*argv += optind;
	return 0;
}

/* ---- shared option parsers ------------------------------------------------------ */

int bh_opt_json(const char *cmd, const char *arg, void *dst)
{
	(void)cmd;
	(void)arg;
	*(bool *)dst = true;
	bh_json_err_want();
	return 0;
}

int bh_opt_mode(const char *cmd, const char *arg, void *dst)
{
	struct bh_mode_arg *m = dst;

	if (bh_mode_parse(arg, &m->mode)) {
		bh_err("%s: --mode must be auto, xdp, tc or nft, not '%s'", cmd, arg);
		return -EINVAL;
	}
	m->set = true;
	return 0;
}

/*
 * --leases FILE|off of up, apply and daemon. A relative FILE is made
 * absolute: the daemon (and the state dir's record) must not depend on the
 * directory the command ran in.
 */
int bh_opt_leases(const char *cmd, const char *arg, void *dst)
{
	static char abs[PATH_MAX];
	const char **leases = dst;
	char cwd[PATH_MAX];

	if (!*arg) {
		bh_err("%s: --leases needs a file or off", cmd);
		return -EINVAL;
	}
	*leases = arg;
	if (arg[0] == '/' || !strcmp(arg, "off"))
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, arg) >= sizeof(abs)) {
		bh_err("%s: --leases %s: cannot make it an absolute path; give one", cmd, arg);
		return -EINVAL;
	}
	*leases = abs;
	return 0;
}

/* ---- shared output ------------------------------------------------------------- */

void bh_print_brnf(const char *families)
{
	if (!families || !*families)
		return;		/* no probe ran: a BPF mode */
	if (!strcmp(families, "ipv4 ipv6"))
		printf(", bridged IPv4/IPv6 reach table inet (probe)");
	else
		printf(", bridged IP reaches table inet for %s only (probe)", families);
}

/* What the kernel offered this up: tc hooks, native XDP, br_netfilter. */
static void print_kernel(const struct bh_up_report *r)
{
	struct bh_kernel k;
	size_t nx = 0;

	bh_kernel_facts(&k);
	printf("bulkhead: kernel %s: tc hooks %s, native XDP on", k.release,
	       k.tcx ? "tcx (links)" : "clsact (filters; tcx needs Linux 6.6)");
	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i].mode == BH_MODE_XDP)
			printf("%s %s", nx++ ? "," : "", r->ports[i].name);
	printf("%s, br_netfilter %s", nx ? "" :
	       r->mode == BH_MODE_TC || r->mode == BH_MODE_NFT ?
	       " no port (not asked for)" : " no port (no driver support)",
	       k.br_netfilter ? "loaded" : "not loaded (needed only by --mode nft)");
	bh_print_brnf(r->brnf.ran ? bh_brnf_probe_families(&r->brnf) : NULL);
	printf("\n");
}

void bh_print_up(const char *path, const struct bh_up_report *r)
{
	printf("bulkhead: up, policy %s (epoch %d), %zu port%s:", path, r->epoch,
	       r->n_ports, r->n_ports == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_ports; i++)
		printf(" %s[%s%s]", r->ports[i].name, bh_mode_name(r->ports[i].mode),
		       r->ports[i].adopted ? ",adopted" : "");
	printf("\n");
	print_kernel(r);
	if (r->mode != BH_MODE_NFT)
		printf("bulkhead: BPF programs %s\n", r->progs_reused ?
		       "already pinned from this same object, with these maps: kept (not verified again)" :
		       "verified by this kernel, loaded and pinned");
}
