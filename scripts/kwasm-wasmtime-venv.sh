#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Makes sure $KWASM_CACHE/bench/venv holds the pinned wasmtime Python package
# (PyPI; the reference runtime for benchmarks and the WASI differential
# check) and prints the venv's python. Idempotent; the version file is the
# stamp.

set -euo pipefail

KWASM_CACHE=${KWASM_CACHE:-$HOME/.cache/kwasm}
# Pinned so results from different days compare like with like.
WASMTIME_PY_VERSION=50.0.1
VENV="$KWASM_CACHE/bench/venv"
LOG="$KWASM_CACHE/bench/log"
stamp="$VENV/.kwasm-wasmtime"

say() { printf 'wasmtime-venv: %s\n' "$*" >&2; }
# logged LOGFILE CMD...: runs CMD with its output in LOGFILE, shown on failure.
logged() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || {
		local rc=$?
		tail -n 30 "$log" >&2
		return $rc
	}
}

if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$WASMTIME_PY_VERSION" ]; then
	mkdir -p "$LOG"
	say "setting up wasmtime $WASMTIME_PY_VERSION (PyPI) in $VENV"
	rm -rf "$VENV"
	if ! python3 -m venv "$VENV" >"$LOG/venv.log" 2>&1; then
		# Debian ships venv's ensurepip separately.
		say "installing python3-venv"
		sudo=
		[ "$(id -u)" = 0 ] || sudo=sudo
		logged "$LOG/apt.log" env DEBIAN_FRONTEND=noninteractive \
			$sudo apt-get install -y --no-install-recommends python3-venv
		rm -rf "$VENV"
		logged "$LOG/venv.log" python3 -m venv "$VENV"
	fi
	logged "$LOG/pip.log" "$VENV/bin/pip" install --disable-pip-version-check -q \
		"wasmtime==$WASMTIME_PY_VERSION"
	echo "$WASMTIME_PY_VERSION" >"$stamp"
fi
echo "$VENV/bin/python"
