#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian 12 packages Bulkhead needs to build, test and demo.
set -eu
PKGS="make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
      libnftnl-dev libmnl-dev libyaml-dev libkmod-dev libcmocka-dev linux-libc-dev
      iproute2 nftables iputils-ping iputils-arping socat netsniff-ng tcpdump dsniff thc-ipv6 iperf3 gnuplot-nox iptables ebtables time
      util-linux procps python3 libclang-rt-14-dev valgrind ethtool man-db systemd
      curl dnsmasq-base udhcpc nmap hping3"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "  DEPS    installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
