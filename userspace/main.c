// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - `bulkhead`: global options, then one subcommand from the
 * table below (each group in its cmd_*.c). Its 0 or -errno becomes the
 * exit status here (bh_exit_code). libbpf's own messages are routed
 * through one printer.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "dataplane.h"
#include "json.h"

static bool verbose;

static const struct bh_cmd cmds[] = {
	{ "up", do_up,
	  "load the BPF programs, attach them to the policy's ports, apply the policy" },
	{ "down", do_down,
	  "detach every program and remove the pins (the quarantine list is kept)" },
	{ "check", do_check,
	  "validate and compile a policy, print a summary; changes nothing" },
	{ "apply", do_apply,
	  "validate, compile and switch to a policy atomically" },
	{ "isolate", do_isolate,
	  "quarantine a device now: cut its flows, keep it cut off across reboots" },
	{ "release", do_release,
	  "end a device's quarantine" },
	{ "explain", do_explain,
	  "say whether a flow would pass, and which rule or default decides" },
	{ "diff", do_diff,
	  "show what applying a policy would change against the running one" },
	{ "daemon", do_daemon,
	  "run in the foreground: apply policy edits, protect new ports, end timed quarantines" },
	{ "status", do_status,
	  "show mode, ports, policy, counters per verdict reason and per rule" },
	{ "devices", do_devices,
	  "list devices: MAC, name, DHCP host name, group, quarantine, packets, drops" },
	{ "events", do_events,
	  "show denied flows and quarantine changes, aggregated, with device names" },
	{ "flows", do_flows,
	  "show who talks to whom: recorded flows, denied and would-drop marked" },
	{ "learn", do_learn,
	  "write a draft policy from the recorded flows; show what it would change" },
	{}
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	/* libbpf's own messages start with "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bulkhead [OPTIONS] COMMAND [ARGS]\n"
		"East-west isolation for IoT networks: eBPF on the gateway's LAN ports\n"
		"enforces a YAML policy of device groups and allowed flows.\n"
		"\n"
		"Commands:\n");
	for (const struct bh_cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  --pin-dir DIR    where maps and links are pinned (bpffs)\n"
		"                   [env BULKHEAD_PIN_DIR, default " BH_PIN_DIR_DEFAULT "]\n"
		"  --state-dir DIR  persistent state: quarantine, applied policy\n"
		"                   [env BULKHEAD_STATE_DIR, default " BH_STATE_DIR_DEFAULT "]\n"
		"  -v, --verbose    show libbpf's messages\n"
		"  -h, --help       this help; 'bulkhead COMMAND --help' for a command\n"
		"\n"
		"Exit status: 0 success, 1 bad input or wrong state, 2 system error\n"
		"(also: a pin dir off bpffs or out of reach, permission denied, another\n"
		"instance on the ports). With --json, a failure prints {\"error\",\"exit\"}.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct bh_ctx ctx = {
		.pin_dir = getenv("BULKHEAD_PIN_DIR"),
		.state_dir = getenv("BULKHEAD_STATE_DIR"),
	};
	int opt;

	if (!ctx.pin_dir || !*ctx.pin_dir)
		ctx.pin_dir = BH_PIN_DIR_DEFAULT;
	if (!ctx.state_dir || !*ctx.state_dir)
		ctx.state_dir = BH_STATE_DIR_DEFAULT;

	/* '+': stop at the command name; its options are its own */
	while ((opt = getopt_long(argc, argv, "+vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			ctx.pin_dir = optarg;
			break;
		case 's':
			ctx.state_dir = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return BH_EXIT_OK;
		case 'V':
			printf("bulkhead (ABI %d)\n", BH_ABI_VERSION);
			return BH_EXIT_OK;
		default:
			usage(stderr);
			return BH_EXIT_INPUT;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return BH_EXIT_INPUT;
	}
	libbpf_set_print(libbpf_print);

	for (const struct bh_cmd *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[optind]))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;	/* a full getopt re-initialisation for the command */
		return bh_json_err_finish(bh_exit_code(c->run(c, &ctx, argc, argv)));
	}
	fprintf(stderr, "bulkhead: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return BH_EXIT_INPUT;
}
