// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_policy.c - `bulkhead check`, `apply` and `diff`: a policy file
 * validated, put in force, or compared with the one in force. Policy
 * errors are printed as "file:line:col: what"; nothing is changed unless
 * the whole policy compiles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "diff.h"
#include "json.h"

/* POLICY, or -c POLICY, and --json */
struct policy_opts {
	const char *path;
	bool json;
	const char *leases;
};

/* the policy as the one operand, unless -c gave it: 0, or -EINVAL with the usage */
static int policy_operand(const struct bh_cmd *self, const struct bh_cmd_spec *s,
			  struct policy_opts *o, int argc, char **argv)
{
	if (!o->path && argc == 1) {
		o->path = argv[0];
		argc--;
	}
	if (!o->path || argc)
		return bh_cmd_usage_err(self, s);
	return 0;
}

/* ---- check ------------------------------------------------------------------- */

static void print_summary(const char *path, const struct bh_policy *p,
			  const struct bh_compiled *c)
{
	size_t ndev = 0, nbuiltin = c->n_rules - p->n_rules;

	for (size_t i = 0; i < p->n_groups; i++)
		ndev += p->groups[i].n_members;
	printf("%s: ok\n", path);
	printf("  interfaces: ");
	for (size_t i = 0; i < p->n_ifaces; i++)
		printf("%s%s", i ? ", " : "", p->ifaces[i]);
	printf("\n  groups %zu, devices %zu, rules %zu (+%zu built-in)\n",
	       p->n_groups, ndev, p->n_rules, nbuiltin);
	printf("  map entries: policy %zu, internet %zu, addresses %zu, talk %zu\n",
	       c->n_pols, c->n_inets, c->n_ips, c->n_talks);
}

/*
 * check --json: the summary, or the errors, as one JSON object on stdout
 * (the errors also on stderr, as without --json).
 */
static int check_json(const char *path)
{
	struct bh_policy *p = NULL;
	struct bh_compiled c = {};
	struct bh_diag d = {};
	struct bh_jw w;
	size_t ndev = 0;
	int ret;

	ret = bh_policy_load(path, &p, &d);
	if (!ret)
		ret = bh_compile(p, &c, &d);
	bh_jw_init(&w, stdout);
	bh_jw_obj_start(&w);
	bh_jw_str_field(&w, "path", path);
	if (ret) {
		bh_diag_report(&d);
		bh_jw_bool_field(&w, "ok", false);
		bh_jw_key(&w, "errors");
		bh_jw_arr_start(&w);
		for (size_t i = 0; i < d.n; i++)
			bh_jw_str(&w, d.msg[i]);
		bh_jw_arr_end(&w);
		bh_jw_str_field(&w, "error", d.n ? d.msg[0] : strerror(-ret));
		ret = ret == -ENOMEM ? ret : -EINVAL;
		bh_jw_int_field(&w, "exit", bh_exit_code(ret));
		bh_jw_obj_end(&w);
		bh_jw_nl(&w);
		bh_json_err_done();
		bh_policy_free(p);
		return ret;
	}
	for (size_t i = 0; i < p->n_groups; i++)
		ndev += p->groups[i].n_members;
	bh_jw_bool_field(&w, "ok", true);
	bh_jw_key(&w, "interfaces");
	bh_jw_arr_start(&w);
	for (size_t i = 0; i < p->n_ifaces; i++)
		bh_jw_str(&w, p->ifaces[i]);
	bh_jw_arr_end(&w);
	bh_jw_uint_field(&w, "groups", p->n_groups);
	bh_jw_uint_field(&w, "devices", ndev);
	bh_jw_uint_field(&w, "rules", p->n_rules);
	bh_jw_uint_field(&w, "builtin_rules", c.n_rules - p->n_rules);
	bh_jw_key(&w, "map_entries");
	bh_jw_obj_start(&w);
	bh_jw_uint_field(&w, "policy", c.n_pols);
	bh_jw_uint_field(&w, "internet", c.n_inets);
	bh_jw_uint_field(&w, "addresses", c.n_ips);
	bh_jw_uint_field(&w, "talk", c.n_talks);
	bh_jw_obj_end(&w);
	bh_jw_obj_end(&w);
	bh_jw_nl(&w);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return 0;
}

static const struct bh_opt check_opts[] = {
	BH_OPT_STR("config", 'c', "POLICY", struct policy_opts, path, NULL),
	BH_OPT_FN("json", 'j', NULL, struct policy_opts, json, bh_opt_json,
		  "machine-readable output: {\"path\",\"ok\":true,\"interfaces\",\n"
		  "\"groups\",\"devices\",\"rules\",\"builtin_rules\",\n"
		  "\"map_entries\"}, or {\"path\",\"ok\":false,\"errors\":[...]}"),
	BH_OPT_END
};

static const struct bh_cmd_spec check_spec = {
	.synopsis = "POLICY [--json]",
	.opts = check_opts,
	.max_args = 1,
	.help = "Errors are printed as FILE:LINE:COL: MESSAGE, exit status 1.\n",
};

int do_check(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct policy_opts o = {};
	struct bh_policy *p = NULL;
	struct bh_compiled c;
	int ret;

	ret = bh_cmd_parse(self, &check_spec, &o, &argc, &argv);
	if (!ret)
		ret = policy_operand(self, &check_spec, &o, argc, argv);
	if (ret)
		return ret < 0 ? ret : 0;
	if (o.json)
		return check_json(o.path);
	ret = bh_policy_compile(ctx, o.path, &p, &c, NULL);
	if (ret)
		return ret;
	print_summary(o.path, p, &c);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return 0;
}

/* ---- apply ------------------------------------------------------------------- */

static const struct bh_opt apply_opts[] = {
	BH_OPT_STR("config", 'c', "POLICY", struct policy_opts, path, NULL),
	BH_OPT_FN("leases", 'L', "FILE", struct policy_opts, leases, bh_opt_leases,
		  "dnsmasq's DHCP lease file, instead of the policy's\n"
		  "dhcp.leases; off: none (see 'bulkhead up --help')"),
	BH_OPT_END
};

static const struct bh_cmd_spec apply_spec = {
	.synopsis = "POLICY [--leases FILE|off]",
	.opts = apply_opts,
	.max_args = 1,
	.help =
	"Packets are judged wholly by the old or wholly by the new policy. A policy\n"
	"that does not validate changes nothing (exit status 1). The DHCP leases\n"
	"are read once and bound as for 'up'.\n",
};

int do_apply(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct policy_opts o = {};
	struct bh_ctx lc = *ctx;
	struct bh_up_report r;
	int ret;

	ret = bh_cmd_parse(self, &apply_spec, &o, &argc, &argv);
	if (!ret)
		ret = policy_operand(self, &apply_spec, &o, argc, argv);
	if (ret)
		return ret < 0 ? ret : 0;
	if (o.leases) {
		lc.leases = o.leases;
		lc.leases_once = true;	/* apply's alone */
	}
	ret = bh_apply(&lc, o.path, &r);
	if (ret)
		return ret;
	if (r.full && r.mode == BH_MODE_NFT)
		printf("bulkhead: applied %s (nft)\n", o.path);
	else if (r.full)
		bh_print_up(o.path, &r);
	else
		printf("bulkhead: applied %s (epoch %d)\n", o.path, r.epoch);
	bh_up_report_free(&r);
	return 0;
}

/* ---- diff ------------------------------------------------------------------- */

static const struct bh_opt diff_opts[] = {
	BH_OPT_STR("config", 'c', "POLICY", struct policy_opts, path,
		   "the candidate policy (or give it as the argument)"),
	BH_OPT_FN("json", 'j', NULL, struct policy_opts, json, bh_opt_json,
		  "machine-readable output: {\"changes\":N,\"items\":[\n"
		  "{\"section\",\"op\",\"subject\",\"name\",\"old\",\"new\"}]}"),
	BH_OPT_END
};

static const struct bh_cmd_spec diff_spec = {
	.synopsis = "POLICY [--json]",
	.opts = diff_opts,
	.max_args = 1,
	.help =
	"Compares POLICY with the applied policy (its copy in the state dir):\n"
	"interfaces, defaults (audit mode among them), groups (added, removed,\n"
	"internet default, audit), members by MAC (+ added, - removed, > moved to\n"
	"another group, ~ name or ip changed), rules by content, not position\n"
	"(+ added, - removed, ~ a named rule whose content changed, or a rule\n"
	"renamed), quarantine.allow, dhcp.leases, flows: and detect:.\n"
	"Changes nothing. Exit status 0 with or without changes; 1 when POLICY\n"
	"does not validate (FILE:LINE:COL errors) or Bulkhead is not up.\n"
	"Example: bulkhead diff /etc/bulkhead/policy.yaml.new\n",
};

/* `diff POLICY [--json]`: the changes from the applied policy to @path */
int do_diff(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct policy_opts o = {};
	struct bh_policy *p = NULL, *ap = NULL;
	struct bh_diff d = {};
	struct bh_compiled c;
	struct bh_kv *kv = NULL;
	size_t nkv = 0;
	int ret;

	ret = bh_cmd_parse(self, &diff_spec, &o, &argc, &argv);
	if (!ret)
		ret = policy_operand(self, &diff_spec, &o, argc, argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_policy_compile(ctx, o.path, &p, &c, NULL);
	if (ret)
		return ret;
	bh_compiled_free(&c);
	/* the state dir's copy is what it compares with; the pin dir is only
	 * asked whether it exists (cli_diff.sh runs it on a dir off bpffs) */
	ret = bh_ctl_state_dir_ok("diff", ctx);
	if (ret)
		goto out;
	if (access(ctx->pin_dir, F_OK) ||
	    bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &nkv)) {
		bh_err("diff: Bulkhead is not up (nothing pinned in %s or no applied policy in %s): no running policy to compare with; 'bulkhead check %s' validates the file",
		       ctx->pin_dir, ctx->state_dir, o.path);
		ret = -ENODEV;
		goto out;
	}
	ap = bh_applied_file(ctx);	/* file against file: leases are no edit */
	if (!ap) {
		bh_err("diff: the copy of the applied policy, %s/%s, is missing or does not load",
		       ctx->state_dir, BH_STATE_POLICY);
		ret = -EIO;
		goto out;
	}
	ret = bh_policy_diff(ap, p, &d);
	if (ret) {
		bh_err("diff: %s", strerror(-ret));
		ret = bh_err_input(ret) ? -EIO : ret;
		goto out;
	}
	if (!o.json)
		printf("running:   %s (epoch %s)\ncandidate: %s\n",
		       bh_kv_get(kv, nkv, "policy") ?: "?",
		       bh_kv_get(kv, nkv, "epoch") ?: "?", o.path);
	bh_diff_print(stdout, &d, o.json);
out:
	bh_diff_free(&d);
	bh_policy_free(ap);
	bh_policy_free(p);
	free(kv);
	return ret;
}
