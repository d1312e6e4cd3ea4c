# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# `scripts/kwasm fuzz-kernel [--debug] [--seed S] [SCALE]`: an in-kernel
# fuzz campaign (sourced by scripts/kwasm after kwasm-lib.sh).
#
# On the host, kwasm-fuzzgen (rust/kwasm/host/src/bin/kwasm-fuzzgen.rs)
# writes a fresh corpus under $KWASM_CACHE/fuzz-kernel/: SCALE*100 modules
# from wasm-smith aimed at the kernel's resource paths, and SCALE*100
# mutated or truncated copies of the sample and selftest programs. In one
# VM boot, scripts/kwasm-fuzz-kernel-guest.sh execs each as uid 65534
# through kwasm-fuzz-exec (scripts/kwasm-fuzz-exec.c, static), tabulates
# how they ended and scans the kernel log (and kmemleak, on the debug
# kernel). Fails if the kernel reported anything, a program outlived
# SIGKILL, kwasm's counters did not return to zero, or the VM died.
#
# KWASM_FUZZ_SEED fixes the seed (default: random, printed; `test` uses 1),
# KWASM_FUZZ_TIMEOUT the seconds each program may take (default 5),
# KWASM_FUZZ_JOBS how many programs run at once in the VM (default: one per
# VM CPU, KWASM_VM_CPUS).

KWASM_FUZZ_DIR="$KWASM_CACHE/fuzz-kernel"

kwasm_fuzz_kernel() {
	local scale=1 seed=${KWASM_FUZZ_SEED:-}
	while [ $# -gt 0 ]; do
		case "$1" in
		--debug)
			KTREE="$KWASM_CACHE/linux-debug"
			KWASM_EXTRA_CONFIG="$KWASM_SRC/configs/kwasm-debug.config"
			shift
			;;
		--seed)
			[ $# -ge 2 ] || die "fuzz-kernel: --seed needs a value"
			seed=$2
			shift 2
			;;
		[0-9]*)
			scale=$1
			shift
			;;
		*) die "fuzz-kernel: unknown argument $1 (usage: fuzz-kernel [--debug] [--seed S] [SCALE])" ;;
		esac
	done
	case "$scale" in '' | *[!0-9]* | 0) die "fuzz-kernel: SCALE must be a positive integer" ;; esac
	(kwasm_build --quiet) || die "fuzz-kernel: the kernel does not build"
	KWASM_FUZZ_SEED=$seed kwasm_fuzz_kernel_run "$scale"
}

# Builds what the campaign needs on the host: the generator, the exec
# harness and the seed modules (into $KWASM_FUZZ_DIR/seeds).
kwasm_fuzz_kernel_tools() {
	local log="$KWASM_CACHE/log/fuzz-kernel-build.log"
	mkdir -p "$KWASM_FUZZ_DIR/seeds" "$KWASM_CACHE/log"
	cargo_ws build --release --locked -q -p kwasm-host --bin kwasm-fuzzgen >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		return 1
	}
	local src="$KWASM_SRC/scripts/kwasm-fuzz-exec.c" exe="$KWASM_FUZZ_DIR/kwasm-fuzz-exec" key
	key=$(sha256sum <"$src" | cut -c1-16)
	if [ ! -x "$exe" ] || [ "$(cat "$exe.key" 2>/dev/null)" != "$key" ]; then
		gcc -static -O2 -Wall -o "$exe" "$src" >>"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			return 1
		}
		echo "$key" >"$exe.key"
	fi
	# Seeds: the selftests' programs and the hello sample, built as the
	# selftests build them (not the ones that need the kwasm-net crate);
	# KWASM_FUZZ_SEEDS lists them.
	local f out progs="$KWASM_SRC/tools/testing/selftests/kwasm/progs"
	KWASM_FUZZ_SEEDS=()
	for f in "$progs"/*.wat; do
		[ -e "$f" ] || continue
		out="$KWASM_FUZZ_DIR/seeds/$(basename "${f%.wat}").wasm"
		if [ ! -f "$out" ] || [ "$f" -nt "$out" ]; then
			wat2wasm "$f" -o "$out" >>"$log" 2>&1 || {
				tail -n 10 "$log" >&2
				return 1
			}
		fi
		KWASM_FUZZ_SEEDS+=("$out")
	done
	for f in "$progs"/*.rs "$KWASM_SRC/samples/kwasm/hello.rs"; do
		[ -e "$f" ] || continue
		grep -q 'kwasm_net' "$f" && continue
		out="$KWASM_FUZZ_DIR/seeds/$(basename "${f%.rs}").wasm"
		(kwasm_build_rust_wasm "$f" "$out") >>"$log" 2>&1 || {
			tail -n 10 "$log" >&2
			return 1
		}
		KWASM_FUZZ_SEEDS+=("$out")
	done
}

# kwasm_fuzz_kernel_run SCALE: the campaign on the kernel already built.
kwasm_fuzz_kernel_run() {
	local scale=$1 seed=${KWASM_FUZZ_SEED:-} timeout=${KWASM_FUZZ_TIMEOUT:-5}
	local jobs=${KWASM_FUZZ_JOBS:-${KWASM_VM_CPUS:-2}}
	[ -n "$seed" ] || seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	kwasm_fuzz_kernel_tools || die "fuzz-kernel: cannot build the generator, harness or seeds"
	# A fresh directory per run; the five newest runs are kept.
	local run old
	run=$(mktemp -d "$KWASM_FUZZ_DIR/run-$(date +%Y%m%d-%H%M%S)-seed$seed-XXXX")
	# mktemp makes it 0700: the programs run as uid 65534 in the VM.
	chmod 755 "$run"
	for old in $(find "$KWASM_FUZZ_DIR" -maxdepth 1 -name 'run-*' -type d | sort -r | tail -n +6); do
		rm -rf "$old"
	done
	local n=$((scale * 100))
	say "fuzz-kernel: seed $seed, scale $scale: $n generated + $n mutated modules in $run"
	"$KWASM_CACHE/target/release/kwasm-fuzzgen" --seed "$seed" --out "$run" \
		--generated "$n" --mutated "$n" "${KWASM_FUZZ_SEEDS[@]}" ||
		die "fuzz-kernel: kwasm-fuzzgen failed"
	cp "$KWASM_FUZZ_DIR/kwasm-fuzz-exec" "$KWASM_SRC/scripts/kwasm-fuzz-kernel-guest.sh" "$run/"
	local rc=0 start=$SECONDS
	(cd "$run" && KWASM_VM_TIMEOUT=${KWASM_VM_TIMEOUT:-$((900 + scale * 600))} \
		kwasm_vm "sh ./kwasm-fuzz-kernel-guest.sh $timeout $jobs") 2>&1 | tee "$run/vm.log" || rc=${PIPESTATUS[0]}
	say "fuzz-kernel: $((SECONDS - start)) s in the VM; corpus, results.txt and vm.log in $run"
	if [ $rc -ne 0 ]; then
		local f cur
		for f in "$run"/current.*; do
			[ -f "$f" ] || continue
			cur=$(cat "$f")
			say "fuzz-kernel: the VM stopped while running $cur: $(grep "^$cur " "$run/corpus.txt")"
		done
		say "fuzz-kernel: failed (status $rc); reproduce with: KWASM_FUZZ_SEED=$seed scripts/kwasm fuzz-kernel $scale"
		return 1
	fi
	grep -q '^fuzz-kernel: [0-9]* modules, 0 kernel reports$' "$run/vm.log" || return 1
}

# The CI step of `test`: a small campaign with a fixed seed (1), about a
# minute in the VM under QEMU TCG at the default scale of 3.
# KWASM_FUZZ_KERNEL=0 skips it; KWASM_FUZZ_KERNEL_SCALE sizes it.
kwasm_test_fuzz_kernel() {
	if [ "${KWASM_FUZZ_KERNEL:-1}" = 0 ]; then
		say "test: fuzz-kernel skipped (KWASM_FUZZ_KERNEL=0)"
		return 0
	fi
	local scale=${KWASM_FUZZ_KERNEL_SCALE:-3} log="$KWASM_CACHE/log/fuzz-kernel.log" rc=0
	say "test: fuzz-kernel, scale $scale (log: $log)"
	(KWASM_FUZZ_SEED=${KWASM_FUZZ_SEED:-1} kwasm_fuzz_kernel_run "$scale") >"$log" 2>&1 || rc=$?
	{ grep '^fuzz-kernel: [0-9]* modules' "$log" || true; } | tail -n 2
	[ $rc -eq 0 ] || tail -n 40 "$log"
	record $rc "fuzz-kernel: $((scale * 200)) generated and mutated modules in the VM, 0 kernel reports"
}
