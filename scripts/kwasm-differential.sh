#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs the differential programs the same way in the VM (as kwasm programs,
# RUNNER empty) and on the host (RUNNER: kwasm-run), so that
# `scripts/kwasm test` can compare the two byte for byte.
# Usage: kwasm-differential.sh PROGDIR OUTDIR [RUNNER]
#
# Each program PROGDIR/NAME.wasm runs in the environment of the WASI
# conformance programs (scripts/kwasm-wasi-reference.py): argv "NAME.wasm
# alpha 'beta gamma'" (argv[0] relative, alike on both sides), environment
# KWASM_TEST=1 and GREETING=hello world only, stdin "line one\nline two\n",
# and a fresh, empty current directory (preopened as "." by default).
# OUTDIR/NAME.out gets "status N" ($? as a shell sees it, 128 + N for
# signal N), then stdout and stderr.

progs=$1 out=$2 runner=${3:-}
mkdir -p "$out" || exit 1
# Absolute: each program runs in a directory of its own.
progs=$(cd "$progs" && pwd) && out=$(cd "$out" && pwd) || exit 1
printf 'line one\nline two\n' >"$out/stdin"
for p in "$progs"/*.wasm; do
	n=$(basename "$p" .wasm)
	d="$out/run-$n"
	rm -rf "$d"
	mkdir -p "$d/cwd" "$d/bin"
	cp "$p" "$d/bin/$n.wasm"
	chmod +x "$d/bin/$n.wasm"
	(
		cd "$d/cwd" || exit 1
		# In the background and reaped by `wait`: a shell names a
		# foreground job's killing signal on stderr, in its own words.
		env -i KWASM_TEST=1 "GREETING=hello world" $runner ../bin/"$n.wasm" alpha "beta gamma" \
			<"$out/stdin" >"$d/stdout" 2>"$d/stderr" &
		wait $! 2>/dev/null
		echo $? >"$d/status"
	)
	{
		echo "status $(cat "$d/status")"
		echo "--- stdout"
		cat "$d/stdout"
		echo "--- stderr"
		cat "$d/stderr"
	} >"$out/$n.out"
	rm -rf "$d"
done
