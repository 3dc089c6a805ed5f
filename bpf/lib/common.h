/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - what every part of the verdict core needs: the UAPI headers
 * (no vmlinux.h: packet bytes need no CO-RE), the ABI shared with the
 * controller, the protocol numbers the parser and the deciders share, and
 * two compiler helpers.
 */
#ifndef BH_LIB_COMMON_H
#define BH_LIB_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bulkhead_abi.h"

#define ETH_P_EAPOL_		0x888e

/* <linux/icmp.h> drags in libc headers: the few ICMP types we need */
#define ICMP_ECHOREPLY		0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO		8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12

#define NH_HOP			0
#define NH_ROUTING		43
#define NH_FRAGMENT		44
#define NH_AH			51
#define NH_DSTOPTS		60

#define TCP_FLAG_SYN		0x02
#define TCP_FLAG_RST		0x04
#define TCP_FLAG_ACK		0x10

#define ND_RS			133
#define ND_RA			134
#define ND_NS			135
#define ND_NA			136
#define ND_REDIRECT		137
#define MLD_QUERY		130

#define BH_HDR_MAX		0x3ff	/* IPv6 header chains end within 1 KiB */

#define barrier()	asm volatile("" ::: "memory")

/* Out of line: a BPF-to-BPF call keeps its stack frame off the caller's. */
#define __noinline	__attribute__((noinline))

/*
 * Maps are defined in the header of their concern, beside their lookups;
 * each one's comment names its key and value (bulkhead_abi.h) and who
 * writes it: "user" = the controller, "bpf" = these programs.
 */

#endif /* BH_LIB_COMMON_H */
