#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Prints the WAT of a ~1 MB module: N functions with loops, memory
# accesses, arithmetic and calls, so that compiling it is real work. Each
# function calls the previous one, in chains of 100; _start runs every
# chain and exits 0.
N=${1:-3700}
awk -v n="$N" 'BEGIN {
	print "(module"
	print "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))"
	print "  (memory 1)"
	for (i = 0; i < n; i++) {
		printf "  (func $f%d (param $a i32) (param $b i32) (result i32) (local $i i32) (local $s i32)\n", i
		printf "    (local.set $i (i32.and (local.get $a) (i32.const 15)))\n"
		printf "    (loop $l\n"
		for (k = 0; k < 6; k++) {
			printf "      (local.set $s (i32.add (local.get $s) (i32.mul (i32.load offset=%d (i32.and (local.get $i) (i32.const 1020))) (i32.const %d))))\n", k * 4, i + k
			printf "      (i32.store offset=%d (i32.and (local.get $s) (i32.const 1020)) (i32.xor (local.get $s) (local.get $b)))\n", k * 8
			printf "      (local.set $s (i32.rotl (local.get $s) (i32.const %d)))\n", (i + k) % 31 + 1
		}
		printf "      (local.set $i (i32.sub (local.get $i) (i32.const 1)))\n"
		printf "      (br_if $l (i32.gt_s (local.get $i) (i32.const 0))))\n"
		if (i % 100)
			printf "    (call $f%d (local.get $s) (local.get $a)))\n", i - 1
		else
			printf "    (local.get $s))\n"
	}
	printf "  (func (export \"_start\")\n"
	for (i = 99; i < n; i += 100)
		printf "    (drop (call $f%d (i32.const 7) (i32.const 9)))\n", i
	printf "    (call $exit (i32.const 0))))\n"
}'
