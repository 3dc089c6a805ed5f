// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_flows.c - `bulkhead flows` and `bulkhead learn` (issue 17): who
 * talks to whom, from the flow history the daemon drains and the live map
 * (ctl_flows.c), printed by flows.c; and a draft policy learned from the
 * same records (learn.c), checked, written, and compared with the running
 * policy as `diff` does. Neither changes anything of Bulkhead's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cmd.h"
#include "diff.h"
#include "flows.h"
#include "json.h"
#include "learn.h"

/* --since DURATION: the records last seen within it */
struct since_arg {
	__u64 secs;
	bool set;
};

static int opt_since(const char *cmd, const char *arg, void *dst)
{
	struct since_arg *s = dst;

	if (bh_duration_parse(arg, &s->secs)) {
		bh_err("%s: --since must be a duration such as 30m, 2h, 7d or 1h30m, not '%s'",
		       cmd, arg);
		return -EINVAL;
	}
	s->set = true;
	return 0;
}

static __u64 since_time(const struct since_arg *s, __u64 now)
{
	return s->set && s->secs < now ? now - s->secs : 0;
}

/* The history's bad lines: reported, skipped; never an error. */
static void report_bad(const char *cmd, const struct bh_flow_set *s, const struct bh_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "bulkhead: %s: warning: %s\n", cmd, d->msg[i]);
	if (s->n_bad > d->n)
		fprintf(stderr, "bulkhead: %s: warning: %zu more bad lines skipped\n", cmd,
			s->n_bad - d->n);
}

/* What came from where: said on stderr, so stdout stays the view. */
static void report_live(const char *cmd, const struct bh_ctx *ctx,
			const struct bh_flows_live *live)
{
	unsigned long long evicted;

	if (!live->open) {
		fprintf(stderr, "bulkhead: %s: Bulkhead is not up (no flow map pinned in %s): the recorded history only\n",
			cmd, ctx->pin_dir);
		return;
	}
	if (!live->entries && bh_nft_in_force(ctx))
		fprintf(stderr, "bulkhead: %s: the flow map is empty: in --mode nft 'bulkhead daemon' records the flows (from conntrack and the deny events); none while it does not run\n",
			cmd);
	if (!live->have_ctr)
		return;
	evicted = live->ctr.created > live->entries ? live->ctr.created - live->entries : 0;
	if (evicted || live->ctr.failed)
		fprintf(stderr, "bulkhead: %s: the flow map holds %zu of %u entries; %llu evicted (oldest first), %llu inserts failed since up: what the daemon drained before is in the history\n",
			cmd, live->entries, live->max_entries, evicted,
			(unsigned long long)live->ctr.failed);
}

/* ---- bulkhead flows ---------------------------------------------------------- */

struct flows_opts {
	struct since_arg since;
	const char *device;
	bool matrix;
	bool json;
};

static const struct bh_opt flows_opts[] = {
	BH_OPT_FN("since", 's', "DURATION", struct flows_opts, since, opt_since,
		  "only flows last seen within DURATION (30m, 2h, 7d)"),
	BH_OPT_STR("device", 'd', "NAME|MAC", struct flows_opts, device,
		   "only flows from or to this device: a MAC, a member's\n"
		   "name or a DHCP host name"),
	BH_OPT_BOOL("matrix", 0, struct flows_opts, matrix,
		    "a source x destination matrix: + passed, ! would be\n"
		    "dropped (audit), x denied, . none"),
	BH_OPT_FN("json", 'j', NULL, struct flows_opts, json, bh_opt_json,
		  "machine-readable output: {\"flows\":[{\"src\",\"dst\",\"proto\",\n"
		  "\"port\",\"verdict\",\"packets\",\"bytes\",\"first\",\"last\"}],\n"
		  "\"bad_lines\"}"),
	BH_OPT_END
};

static const struct bh_cmd_spec flows_spec = {
	.synopsis = "[--since DURATION] [--device NAME|MAC] [--matrix] [--json]",
	.opts = flows_opts,
	.help =
	"The dataplane records each flow a device opens: (source, destination\n"
	"device or class: gateway, internet /24 or /48, multicast, broadcast, lan;\n"
	"protocol; server port; verdict), with first and last seen, packets and\n"
	"bytes. The daemon drains that map into the state dir's flows/ every 60 s\n"
	"and at down; this command reads that history and the live map (what no\n"
	"drain has written yet), so it needs no daemon, and writes nothing. With\n"
	"Bulkhead down it shows the history and says so. Denied flows are marked\n"
	"DENIED; under audit (defaults.mode: audit, or a group's audit: true)\n"
	"flows the policy would drop are marked would-drop. Names: the member's\n"
	"name:, else the DHCP host name, else the MAC. A bad history line is\n"
	"reported on stderr and skipped.\n"
	"Example: bulkhead flows --since 1d --device fridge\n",
};

int do_flows(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct flows_opts o = {};
	struct bh_flow_set s = { 0 };
	struct bh_flows_live live;
	struct bh_leases l = { 0 };
	struct bh_flow_names nm;
	struct bh_diag d = {};
	__u8 mac[6];
	bool have_l;
	int ret;

	ret = bh_cmd_parse(self, &flows_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_ctl_state_dir_ok("flows", ctx);
	if (ret)
		return ret;
	nm = (struct bh_flow_names){ .policy = bh_applied_file(ctx), .now = (__u64)time(NULL) };
	have_l = !bh_leases_saved(ctx->state_dir, &l);
	nm.leases = have_l ? &l : NULL;
	if (o.device) {
		ret = bh_flows_find_device(&nm, o.device, mac);
		if (ret == -EEXIST)
			bh_err("flows: --device %s: two devices have that name; give the MAC",
			       o.device);
		else if (ret)
			bh_err("flows: --device %s: no such device (not a MAC, a member's name in the applied policy, nor a DHCP host name)",
			       o.device);
		if (ret) {
			ret = -EINVAL;
			goto out;
		}
	}
	ret = bh_flows_collect(ctx, since_time(&o.since, nm.now), o.device ? mac : NULL,
			       &s, &d, &live);
	report_bad("flows", &s, &d);
	if (ret) {
		bh_err("flows: cannot read the flow records: %s", strerror(-ret));
		ret = bh_err_input(ret) ? -EIO : ret;
		goto out;
	}
	report_live("flows", ctx, &live);
	ret = bh_flows_print(stdout, &s, &nm, o.json ? BH_FLOWS_JSON :
			     o.matrix ? BH_FLOWS_MATRIX : BH_FLOWS_TABLE);
	fflush(stdout);
out:
	bh_flow_set_free(&s);
	if (have_l)
		bh_leases_free(&l);
	bh_policy_free((struct bh_policy *)nm.policy);
	return ret;
}

/* ---- bulkhead learn ---------------------------------------------------------- */

struct learn_opts {
	const char *output;
	struct since_arg since;
	bool explicit;
	bool json;
};

static const struct bh_opt learn_opts[] = {
	BH_OPT_STR("output", 'o', "FILE", struct learn_opts, output,
		   "write the draft to FILE (replaced whole), not stdout;\n"
		   "never the running policy's file"),
	BH_OPT_FN("since", 's', "DURATION", struct learn_opts, since, opt_since,
		  "learn only from flows last seen within DURATION"),
	BH_OPT_BOOL("explicit", 'e', struct learn_opts, explicit,
		    "a rule for every flow seen, also those the running\n"
		    "policy allows already"),
	BH_OPT_FN("json", 'j', NULL, struct learn_opts, json, bh_opt_json,
		  "the report as JSON: {\"output\",\"records\",\"rules\",...,\n"
		  "\"audit\":{...},\"changes\",\"items\":[...]}, with the\n"
		  "draft as \"draft\" when there is no --output"),
	BH_OPT_END
};

static const struct bh_cmd_spec learn_spec = {
	.synopsis = "[-o FILE] [--since DURATION] [--explicit] [--json]",
	.opts = learn_opts,
	.help =
	"A draft policy from the recorded flows (the history and the live map, as\n"
	"'flows' reads them) and the running policy: its groups, members, rules and\n"
	"settings kept; each device it does not list gets a group of its own, named\n"
	"from its DHCP host name; one allow rule per (from, to, protocol) observed\n"
	"that the running policy does not allow, ports merged into ranges, internet\n"
	"rules from the observed CIDR classes, each with a comment saying how many\n"
	"flows and when last seen. Flows denied under enforce are not learned: audit\n"
	"mode (defaults.mode: audit) is what learning is for. The draft has no\n"
	"mode: key (it enforces) and passes 'bulkhead check'. Then it prints what\n"
	"the draft changes against the running policy, as 'diff' does, and how many\n"
	"recorded would_drop flows the running policy drops and the draft allows.\n"
	"The report goes to stdout with -o, else to stderr. Review, then apply.\n"
	"Example: bulkhead learn --since 7d -o /etc/bulkhead/policy.draft.yaml\n",
};

/* @path is the running policy's file, or the state dir's copy of it */
static bool is_running_file(const struct bh_ctx *ctx, const char *path)
{
	char copy[PATH_MAX];
	struct bh_kv *kv = NULL;
	struct stat a, b;
	const char *run;
	size_t nkv = 0;
	bool same = false;

	if (stat(path, &a))
		return false;	/* a new file is no running one */
	snprintf(copy, sizeof(copy), "%s/%s", ctx->state_dir, BH_STATE_POLICY);
	if (!stat(copy, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return true;
	if (!bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &nkv)) {
		run = bh_kv_get(kv, nkv, "policy");
		same = run && !stat(run, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	}
	free(kv);
	return same;
}

/* @text to @path through a temporary file renamed over it: 0 or -errno, said */
static int write_draft(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	FILE *f;
	int ret = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= sizeof(tmp)) {
		bh_err("learn: %s: name too long", path);
		return -EINVAL;
	}
	f = fopen(tmp, "we");
	if (!f) {
		ret = -errno;
		bh_err("learn: cannot write %s: %s", tmp, strerror(-ret));
		return ret == -ENOENT ? -EINVAL : ret;
	}
	if (fwrite(text, 1, len, f) != len || fflush(f) || fsync(fileno(f)))
		ret = -errno ? -errno : -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		bh_err("learn: cannot write %s: %s", path, strerror(-ret));
		unlink(tmp);
		return bh_err_input(ret) ? -EIO : ret;
	}
	return 0;
}

static void learn_json(FILE *f, const struct learn_opts *o, const struct bh_learn_stats *st,
		       const struct bh_diff *df, const char *draft, bool up)
{
	struct bh_jw w;

	bh_jw_init(&w, f);
	bh_jw_obj_start(&w);
	bh_jw_key(&w, "output");
	if (o->output)
		bh_jw_str(&w, o->output);
	else
		bh_jw_null(&w);
	bh_jw_bool_field(&w, "up", up);
	bh_jw_uint_field(&w, "records", st->records);
	bh_jw_uint_field(&w, "new_groups", st->new_groups);
	bh_jw_uint_field(&w, "rules", st->rules);
	bh_jw_uint_field(&w, "learned", st->learned);
	bh_jw_uint_field(&w, "covered", st->covered);
	bh_jw_uint_field(&w, "denied", st->denied);
	bh_jw_uint_field(&w, "skipped", st->skipped);
	bh_jw_uint_field(&w, "unresolved", st->unresolved);
	bh_jw_key(&w, "audit");
	bh_jw_obj_start(&w);
	bh_jw_uint_field(&w, "would_drop", st->audit);
	bh_jw_uint_field(&w, "running_drops", st->audit_running_drops);
	bh_jw_uint_field(&w, "draft_allows", st->audit_draft_allows);
	bh_jw_obj_end(&w);
	bh_diff_json_fields(&w, df);
	if (draft)
		bh_jw_str_field(&w, "draft", draft);
	bh_jw_obj_end(&w);
	bh_jw_nl(&w);
}

static void learn_report(FILE *f, const struct learn_opts *o, const struct bh_learn_stats *st,
			 const struct bh_diff *df, bool running)
{
	fprintf(f, "bulkhead: learn: %zu flow records: %zu rules learned for %zu of them, %zu allowed already, %zu new groups; not learned: %zu denied, %zu skipped (ARP, protocols or ports a rule cannot name)",
		st->records, st->rules, st->learned, st->covered, st->new_groups, st->denied,
		st->skipped);
	if (st->unresolved)
		fprintf(f, "; %zu learned but still dropped by the draft (a deny rule kept, or frames the dataplane never passes)",
			st->unresolved);
	fprintf(f, "\n");
	if (st->audit)
		fprintf(f, "bulkhead: learn: audit: %zu recorded flows would have been dropped: the running policy drops %zu of them, the draft allows %zu\n",
			st->audit, st->audit_running_drops, st->audit_draft_allows);
	fprintf(f, "bulkhead: learn: draft %s%s passes 'bulkhead check'; %s:\n",
		o->output ? "written to " : "(on stdout)", o->output ? o->output : "",
		running ? "what it changes against the running policy" :
		"no policy is applied; what it holds");
	bh_diff_print(f, df, false);
}

int do_learn(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct learn_opts o = {};
	struct bh_learn_opts lo = {};
	struct bh_learn_stats st;
	struct bh_flow_set s = { 0 };
	struct bh_flows_live live;
	struct bh_policy *run, *draft = NULL, *empty = NULL;
	struct bh_leases l = { 0 };
	struct bh_compiled c;
	struct bh_diag d = {};
	struct bh_diff df = {};
	char *text = NULL;
	size_t len = 0;
	bool have_l;
	FILE *mf;
	int ret;

	ret = bh_cmd_parse(self, &learn_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_ctl_state_dir_ok("learn", ctx);
	if (ret)
		return ret;
	if (o.output && is_running_file(ctx, o.output)) {
		bh_err("learn: -o %s is the running policy's file: write the draft elsewhere, review it, then apply it",
		       o.output);
		return -EINVAL;
	}
	run = bh_applied_file(ctx);
	have_l = !bh_leases_saved(ctx->state_dir, &l);
	ret = bh_flows_collect(ctx, since_time(&o.since, (__u64)time(NULL)), NULL, &s, &d, &live);
	report_bad("learn", &s, &d);
	if (ret) {
		bh_err("learn: cannot read the flow records: %s", strerror(-ret));
		ret = bh_err_input(ret) ? -EIO : ret;
		goto out;
	}
	report_live("learn", ctx, &live);
	if (!run)
		fprintf(stderr, "bulkhead: learn: no applied policy in %s: the draft starts from an empty one on br-lan\n",
			ctx->state_dir);
	lo.flags = o.explicit ? BH_LEARN_EXPLICIT : 0;
	mf = open_memstream(&text, &len);
	if (!mf) {
		ret = -ENOMEM;
		goto out;
	}
	memset(&d, 0, sizeof(d));
	ret = bh_learn_draft(&s, run, have_l ? &l : NULL, &lo, mf, &st, &d);
	if (fclose(mf) && !ret)
		ret = -ENOMEM;
	if (ret) {
		bh_diag_report(&d);
		bh_err("learn: no draft: %s", strerror(-ret));
		ret = ret == -ENOMEM ? ret : -EIO;
		goto out;
	}
	/* what `check` does, on the text about to be written */
	memset(&d, 0, sizeof(d));
	ret = bh_policy_load_buf(o.output ? o.output : "draft", text, len, &draft, &d);
	if (!ret) {
		ret = bh_compile(draft, &c, &d);
		if (!ret)
			bh_compiled_free(&c);
	}
	if (ret) {
		bh_diag_report(&d);
		bh_err("learn: the draft does not pass check (a bug: please report it)");
		ret = -EIO;
		goto out;
	}
	if (!run) {
		static const char min[] = "version: 1\ninterfaces: [br-lan]\n";

		ret = bh_policy_load_buf("empty", min, sizeof(min) - 1, &empty, &d);
		if (ret) {
			ret = -EIO;
			goto out;
		}
	}
	ret = bh_policy_diff(run ? run : empty, draft, &df);
	if (ret)
		goto out;
	if (o.output) {
		ret = write_draft(o.output, text, len);
		if (ret)
			goto out;
	} else if (!o.json) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
	}
	if (o.json)
		learn_json(stdout, &o, &st, &df, o.output ? NULL : text, live.open);
	else
		learn_report(o.output ? stdout : stderr, &o, &st, &df, run != NULL);
out:
	bh_diff_free(&df);
	bh_policy_free(draft);
	bh_policy_free(empty);
	bh_policy_free(run);
	free(text);
	bh_flow_set_free(&s);
	if (have_l)
		bh_leases_free(&l);
	return ret;
}
