#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the kwasm test VM: mounts the host's current directory (9p tag
# "cwd") at the same path and the control directory (tag "kwasm") at
# /kwasm, runs /kwasm/cmd.sh there with its output on ttyS1/ttyS2, writes
# the exit status and the kernel log back, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
# Loopback for the socket tests (IPv4 and IPv6).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 kwasm /kwasm
cwd=$(cat /kwasm/cwd)
mkdir -p "$cwd"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none cwd "$cwd"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
stty -F /dev/ttyS2 raw -echo 2>/dev/null
cd "$cwd"
sh /kwasm/cmd.sh </dev/null >/dev/ttyS1 2>/dev/ttyS2
echo $? >/kwasm/status.tmp
dmesg >/kwasm/dmesg
mv /kwasm/status.tmp /kwasm/status
sync
reboot -f
