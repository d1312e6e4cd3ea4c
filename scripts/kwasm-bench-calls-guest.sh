#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `scripts/kwasm bench-calls`: runs in the VM (busybox
# sh) in a directory holding bench_calls (native), bench_calls.wasm and
# kwasm-insn-mark. Usage: kwasm-bench-calls-guest.sh insns|time CALLS OPS...
#
#   insns  for each operation and each of kwasm and native, three times:
#          bench_calls with CALLS and with 2*CALLS operations, each between
#          the markers of the instruction-counting plugin. Prints one
#          "MARK OP IMPL REP CALLS" line per marked run, in the order the
#          plugin writes its counts.
#   time   one run of CALLS operations each; prints "TIME OP IMPL NS".
#
# Every program reads /dev/zero and writes /dev/null (bench_calls.rs).

mode=$1 calls=$2
shift 2
# The mitigations this CPU model gets (those that are on).
if [ "$mode" = insns ]; then
	for f in /sys/devices/system/cpu/vulnerabilities/*; do
		v=$(cat "$f")
		case "$v" in "Not affected" | "") ;; *) echo "VULN ${f##*/}: $v" ;; esac
	done
fi
run() {
	"$@" </dev/zero >/dev/null 2>/tmp/bench_calls.err || {
		echo "bench-calls: $* failed: $(cat /tmp/bench_calls.err)" >&2
		exit 1
	}
}
for op in "$@"; do
	for impl in kwasm native; do
		bin=./bench_calls
		[ $impl = kwasm ] && bin=./bench_calls.wasm
		# Warm: the kwasm code cache, the page cache, the socket paths.
		run $bin "$op" 100
		if [ "$mode" = time ]; then
			run $bin "$op" "$calls"
			echo "TIME $op $impl $(sed -n "s/^${op}_ns=//p" /tmp/bench_calls.err)"
			continue
		fi
		for rep in 1 2 3; do
			for n in $calls $((calls * 2)); do
				# On CPU 1, the only vCPU the plugin counts.
				run taskset -c 1 ./kwasm-insn-mark $bin "$op" "$n"
				echo "MARK $op $impl $rep $n"
			done
		done
	done
done
