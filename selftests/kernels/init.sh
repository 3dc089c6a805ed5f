#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# init.sh - /init of the kernel rig's initramfs (see run.sh). Loads the
# 9p/virtio/overlay modules listed in /modules/order (dependency order,
# computed on the host from the kernel package's modules.dep), mounts the
# host's / read-only over 9p under a tmpfs overlay, mounts the rig's output
# share at /rig, and switches to the new root to run the stage-two script
# named in /rig/job.env (guest.sh). Anything wrong: say so and power off.
/bin/busybox --install -s /bin
export PATH=/bin

die() {
	echo "RIG: init: $*"
	echo o > /proc/sysrq-trigger 2>/dev/null
	poweroff -f
}

mkdir -p /proc /sys /dev /lower /rw /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "RIG: init: kernel $(uname -r) up"

while read -r m; do
	[ -n "$m" ] || continue
	insmod "/modules/$m" || die "insmod $m failed"
done < /modules/order

# 9p: the host's / (read-only; its own mounts are not crossed into /proc etc.
# because the guest mounts its own over them)
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower ||
	die "cannot mount the host's / over 9p"
mount -t tmpfs -o mode=0755 tmpfs /rw || die "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	die "cannot mount the overlay"
mkdir -p /newroot/rig
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none rigout /newroot/rig ||
	die "cannot mount the output share"
[ -r /newroot/rig/job.env ] || die "no job.env in the output share"
for d in proc sys dev; do
	mount --move /$d /newroot/$d || die "move /$d"
done
echo "RIG: init: root mounted, switching"
exec switch_root /newroot /bin/bash -c '. /rig/job.env; exec /bin/bash "$BH_RIG_GUEST"'
