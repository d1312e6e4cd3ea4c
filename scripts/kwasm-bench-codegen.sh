#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Codegen benchmark: kwasm's compiler and generated code against wasmtime and
# native code, on the CPU-bound programs in samples/kwasm/bench/.
#
#   scripts/kwasm-bench-codegen.sh [--runs R] [--compile-iters N] [--scale PCT] [--insns PCT] [PROGRAM...]
#
# The set (all of it unless PROGRAMs are named), each program built from
# source here, for wasm32-wasip1 and natively from the same source:
#   NAME.rs           small self-contained Rust programs (rustc -O);
#   crates/src/bin/   Rust programs over crates from crates.io (regex,
#                     serde_json, miniz_oxide, sha3, pulldown-cmark), pinned
#                     by crates/Cargo.lock (cargo build --release --locked);
#   c/NAME/           C programs from Debian source packages (Lua, zlib,
#                     bzip2, SQLite's speedtest1), fetched with `apt-get
#                     source` into $KWASM_CACHE/bench/src, with our own
#                     driver (c/NAME/main.c) and build description
#                     (c/NAME/build.conf), built by Debian's clang 16, for
#                     wasm over Debian's wasi-libc (clang-16 --target=wasm32-wasi
#                     --sysroot=/usr -O2) and natively (clang-16 -O2). The
#                     Debian packages they need are installed when missing.
# Every program takes the work scale in percent as its one argument and
# prints one checksum line. Then, R rounds, each running every engine once
# so that a change in machine load hits all of them alike (the best round
# counts):
#   native    the native build, wall time of the process;
#   wasmtime  the .wasm in wasmtime (PyPI `wasmtime` package in a venv),
#             instantiation plus _start, compiled beforehand;
#   epoch     the same with wasmtime's epoch interruption, its way to stop
#             a running program (a check at every function entry and loop
#             header): the counterpart of kwasm's safepoint polls, which
#             the kernel needs to reschedule and kill a program; plain
#             wasmtime has no such checks;
#   kwasm     the .wasm in kwasm's host runner (rust/kwasm/host, bin
#             kwasm-bench), instantiation plus _start, compiled beforehand
#             with the ISA features the kernel uses; each round also times N
#             compiles (kwasm_compiler::compile alone) for the compile MB/s
#             and the most heap a compile held at once (compile MiB).
# Last, each program runs once, untimed, under kwasm-run (the full-WASI host
# runner, rust/kwasm/host). Every engine and kwasm-run must print the same
# checksum line; a row where they differ, or where one could not run, is
# marked. Prints one table and ends with one summary line,
#   bench-codegen: geomean kwasm/wasmtime X.XX, kwasm/native Y.YY, compile Z.ZZ MB/s
# (compile: all the set's bytes over the sum of their best compile times);
# exits 0 unless something could not run.
# Builds and the venv live in $KWASM_CACHE/bench (default ~/.cache/kwasm).

set -euo pipefail
# Numbers are parsed by awk and sort: a decimal comma would break them.
export LC_ALL=C

KWASM_SRC=${KWASM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KWASM_CACHE=${KWASM_CACHE:-$HOME/.cache/kwasm}
export RUSTUP_TOOLCHAIN=${RUSTUP_TOOLCHAIN:-1.95.0}
export PATH="$HOME/.cargo/bin:$PATH"


BENCH_SRC="$KWASM_SRC/samples/kwasm/bench"
BENCH_OUT="$KWASM_CACHE/bench"
LOG="$BENCH_OUT/log"
KWASM_BENCH="$KWASM_CACHE/target/release/kwasm-bench"
KWASM_RUN="$KWASM_CACHE/target/release/kwasm-run"
CC=clang-16
# What building the C programs needs: Debian's clang and wasm linker, the
# wasi-libc sysroot and clang's wasm32 builtins; make and the unpackers for
# the source packages. A build.conf may add to it (`needs`).
C_PACKAGES="clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 libc6-dev make bzip2 xz-utils"

say() { printf 'bench-codegen: %s\n' "$*" >&2; }
die() {
	printf 'bench-codegen: error: %s\n' "$*" >&2
	exit 1
}

# usage STATUS: prints the synopsis from the header comment and exits.
usage() {
	sed -n '/^#   scripts/s/^#   //p' "${BASH_SOURCE[0]}"
	exit "$1"
}

runs=3 compile_iters=3 scale=100 insns=
programs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?}; shift ;;
	--compile-iters) compile_iters=${2:?}; shift ;;
	--scale) scale=${2:?}; shift ;;
	--insns) insns=${2:?}; shift ;;
	-h | --help) usage 0 ;;
	-*) usage 2 >&2 ;;
	*) programs+=("$1") ;;
	esac
	shift
done
for n in "$runs" "$compile_iters" "$scale" ${insns:+"$insns"}; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "--runs, --compile-iters, --scale and --insns take positive integers"
done

# kind NAME: how NAME is built ("rs", "crate" or "c"), or nothing.
kind() {
	if [ -f "$BENCH_SRC/$1.rs" ]; then
		echo rs
	elif [ -f "$BENCH_SRC/crates/src/bin/$1.rs" ]; then
		echo crate
	elif [ -f "$BENCH_SRC/c/$1/build.conf" ]; then
		echo c
	fi
}

if [ ${#programs[@]} -eq 0 ]; then
	for f in "$BENCH_SRC"/*.rs "$BENCH_SRC"/crates/src/bin/*.rs "$BENCH_SRC"/c/*/build.conf; do
		[ -e "$f" ] || continue
		case "$f" in
		*/build.conf) f=${f%/build.conf} ;;
		*) f=${f%.rs} ;;
		esac
		programs+=("${f##*/}")
	done
fi
[ ${#programs[@]} -gt 0 ] || die "no programs in $BENCH_SRC"
crates=() cprogs=()
for p in "${programs[@]}"; do
	case "$(kind "$p")" in
	rs) ;;
	crate) crates+=("$p") ;;
	c) cprogs+=("$p") ;;
	*) die "no such benchmark: $p (no $p.rs, crates/src/bin/$p.rs or c/$p/ in $BENCH_SRC)" ;;
	esac
done

mkdir -p "$BENCH_OUT" "$LOG"

# Runs a command with its output in a log; prints the log's tail on failure.
logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $* (log: $log)"
	fi
}

# ---------------------------------------------------------------- setup

setup_rust() {
	if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
		say "adding the wasm32-wasip1 Rust target"
		logged "$LOG/rustup.log" rustup target add wasm32-wasip1
	fi
}

# The pinned wasmtime package in a venv (shared with the WASI differential check).
setup_wasmtime() {
	PYTHON=$(KWASM_CACHE="$KWASM_CACHE" "$KWASM_SRC/scripts/kwasm-wasmtime-venv.sh")
}

build_kwasm_bench() {
	say "building kwasm-bench and kwasm-run (cargo, release)"
	logged "$LOG/cargo.log" env KWASM_CACHE="$KWASM_CACHE" CARGO_TARGET_DIR="$KWASM_CACHE/target" \
		"$KWASM_SRC/scripts/kwasm" cargo build --release --locked -p kwasm-host \
		--bin kwasm-bench --bin kwasm-run
}

# need_packages PKG...: installs the Debian packages that are missing.
need_packages() {
	local p missing=() sudo=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	say "installing Debian packages: ${missing[*]}"
	[ "$(id -u)" = 0 ] || sudo=(sudo)
	logged "$LOG/apt.log" "${sudo[@]}" apt-get update -q
	logged "$LOG/apt.log" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

# Adds deb-src entries for the installed Debian release if apt has none.
need_deb_src() {
	"$KWASM_SRC/scripts/kwasm-deb-src.sh" "$LOG/apt.log" || die "cannot set up apt's deb-src entries (log: $LOG/apt.log)"
}

# fetch_source PKG: the upstream tree of Debian source package PKG,
# unpacked once into $BENCH_OUT/src/PKG (the .orig tarball: upstream's
# source, without Debian's packaging patches).
fetch_source() {
	local pkg=$1 dir="$BENCH_OUT/src/$1" log="$LOG/src-$1.log" tmp v
	[ -f "$dir/.kwasm-unpacked" ] && return 0
	need_deb_src
	say "fetching the $pkg source package (apt-get source)"
	mkdir -p "$BENCH_OUT/src"
	rm -rf "$dir"
	tmp=$(mktemp -d "$BENCH_OUT/src/.fetch-$pkg.XXXXXX")
	# apt downloads as its _apt user, into a directory it can write.
	chown _apt: "$tmp" 2>/dev/null || true
	: >"$log"
	# A mirror can lack the newest version's files for a while: then
	# the other versions apt knows, newest first.
	for v in "" $(apt-cache showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: /=/p' | sort -ruV); do
		rm -rf "${tmp:?}"/*
		(cd "$tmp" && apt-get source --download-only -q "$pkg$v") >>"$log" 2>&1 && break
		v=fail
	done
	local orig=("$tmp"/*.orig.tar.*) top
	if [ "$v" = fail ] || [ ! -f "${orig[0]}" ]; then
		tail -n 20 "$log" >&2
		die "cannot fetch the $pkg source package (log: $log)"
	fi
	mkdir "$tmp/x"
	logged "$log.tar" tar -xf "${orig[0]}" -C "$tmp/x"
	top=("$tmp"/x/*)
	if [ ${#top[@]} != 1 ] || [ ! -d "${top[0]}" ]; then
		die "$pkg: the orig tarball has no single top directory"
	fi
	mv "${top[0]}" "$dir"
	rm -rf "$tmp"
	touch "$dir/.kwasm-unpacked"
}

# NAME.wasm and native NAME from samples/kwasm/bench/NAME.rs, when stale.
build_rs() {
	local name=$1 src="$BENCH_SRC/$1.rs"
	local wasm="$BENCH_OUT/$name.wasm" native="$BENCH_OUT/$name"
	if [ ! -f "$wasm" ] || [ "$src" -nt "$wasm" ]; then
		logged "$LOG/$name-wasm.log" rustc --edition 2021 --target wasm32-wasip1 -O \
			-C strip=debuginfo "$src" -o "$wasm"
	fi
	if [ ! -f "$native" ] || [ "$src" -nt "$native" ]; then
		logged "$LOG/$name-native.log" rustc --edition 2021 -O "$src" -o "$native"
	fi
}

# The crates/ programs NAME...: NAME.wasm and native NAME. cargo decides
# what is stale; the copies are refreshed only when they changed.
build_crates() {
	local manifest="$BENCH_SRC/crates/Cargo.toml" target="$BENCH_OUT/crates-target" bins=() p
	for p in "$@"; do bins+=(--bin "$p"); done
	logged "$LOG/crates-wasm.log" env CARGO_TARGET_DIR="$target" cargo build --release --locked \
		--manifest-path "$manifest" --target wasm32-wasip1 "${bins[@]}"
	logged "$LOG/crates-native.log" env CARGO_TARGET_DIR="$target" cargo build --release --locked \
		--manifest-path "$manifest" "${bins[@]}"
	for p in "$@"; do
		cmp -s "$target/wasm32-wasip1/release/$p.wasm" "$BENCH_OUT/$p.wasm" ||
			cp "$target/wasm32-wasip1/release/$p.wasm" "$BENCH_OUT/$p.wasm"
		cmp -s "$target/release/$p" "$BENCH_OUT/$p" || cp "$target/release/$p" "$BENCH_OUT/$p"
	done
}

# NAME.wasm and native NAME from c/NAME/: its driver main.c and the
# sources build.conf names, from the Debian source package it names, with
# its flags. build.conf sets:
#   package      the Debian source package;
#   sources      its files to compile, relative to the unpacked tree;
#   cflags       flags for both builds (may use quotes, for -D'F(x)=y');
#   wasm_cflags  flags for the wasm build only (optional);
#   embed        a file of c/NAME/ to compile in as a C string named
#                after it, bench.lua -> bench_lua (optional);
#   needs        more Debian packages the build needs (optional);
#   prepare()    a step to run once in the unpacked tree, e.g. to
#                generate sources (optional).
# Rebuilt when something in c/NAME/ is newer than the outputs.
build_c() {
	local name=$1 here="$BENCH_SRC/c/$1" obj="$BENCH_OUT/obj/$1"
	local wasm="$BENCH_OUT/$name.wasm" native="$BENCH_OUT/$name"
	if [ -f "$wasm" ] && [ -f "$native" ] && [ -z "$(find "$here" -newer "$wasm" -print -quit)" ] &&
		[ -z "$(find "$here" -newer "$native" -print -quit)" ]; then
		return 0
	fi
	local package="" sources="" cflags="" wasm_cflags="" embed="" needs=""
	unset -f prepare
	# shellcheck source=/dev/null
	. "$here/build.conf"
	if [ -z "$package" ] || [ -z "$sources" ]; then
		die "$here/build.conf: no package or sources"
	fi
	# shellcheck disable=SC2086
	[ -z "$needs" ] || need_packages $needs
	fetch_source "$package"
	local src="$BENCH_OUT/src/$package"
	if declare -F prepare >/dev/null && [ ! -f "$src/.kwasm-prepared" ]; then
		say "$name: preparing the $package source tree"
		(cd "$src" && prepare) >"$LOG/$name-prepare.log" 2>&1 || {
			tail -n 30 "$LOG/$name-prepare.log" >&2
			die "$name: prepare failed (log: $LOG/$name-prepare.log)"
		}
		touch "$src/.kwasm-prepared"
	fi
	rm -rf "$obj"
	mkdir -p "$obj"
	local extra=("$here/main.c") cf=() wcf=()
	if [ -n "$embed" ]; then
		# A C string of the file, line by line, backslashes and quotes escaped.
		{
			printf 'const char %s[] =\n' "${embed//[^a-zA-Z0-9_]/_}"
			sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/\\n"/' "$here/$embed"
			printf ';\n'
		} >"$obj/embed.c"
		extra+=("$obj/embed.c")
	fi
	eval "cf=($cflags)"
	eval "wcf=($wasm_cflags)"
	say "$name: building with $CC for wasm32-wasi and natively"
	# $sources is a list of paths relative to the tree: split on purpose.
	# shellcheck disable=SC2086
	(cd "$src" && logged "$LOG/$name-wasm.log" "$CC" --target=wasm32-wasi --sysroot=/usr -O2 \
		"${cf[@]}" "${wcf[@]}" $sources "${extra[@]}" -o "$obj/$name.wasm" -lm)
	# shellcheck disable=SC2086
	(cd "$src" && logged "$LOG/$name-native.log" "$CC" -O2 "${cf[@]}" $sources "${extra[@]}" \
		-o "$obj/$name" -lm)
	mv "$obj/$name.wasm" "$wasm"
	mv "$obj/$name" "$native"
}

# ---------------------------------------------------------------- measuring

# best VALUE...: the smallest number, or "-" if there is none.
best() {
	printf '%s\n' "$@" | grep -v '^-$' | sort -g | head -n 1 | grep . || echo -
}

# field KEY FILE: the value of KEY=value on the stats line in FILE.
field() {
	sed -n "s/^.*-bench: .*\\b$1=\\([^ ]*\\).*$/\\1/p" "$2" | tail -n 1
}

# run_native NAME OUT: runs the native build once; prints its wall time.
run_native() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$BENCH_OUT/$1" "$scale" >"$2" 2>"$2.err" || return 1
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

# run_engine ENGINE NAME OUT: one run under wasmtime or kwasm; prints
# "run_s compile_mb_s compile_peak_bytes" from the driver's stats line
# (wasmtime reports no peak: "-").
run_engine() {
	local engine=$1 name=$2 out=$3
	local wasm="$BENCH_OUT/$name.wasm"
	case "$engine" in
	wasmtime | epoch)
		local opt=()
		[ "$engine" = wasmtime ] || opt=(--epoch-interruption)
		"$PYTHON" "$KWASM_SRC/scripts/kwasm-bench-wasmtime.py" "${opt[@]}" \
			--compile-iters "$compile_iters" --runs 1 "$wasm" "$scale" >"$out" 2>"$out.err" || return 1
		;;
	kwasm)
		"$KWASM_BENCH" --compile-iters "$compile_iters" --runs 1 "$wasm" "$scale" \
			>"$out" 2>"$out.err" || return 1
		;;
	hardened)
		"$KWASM_BENCH" --hardened --compile-iters "$compile_iters" --runs 1 "$wasm" "$scale" \
			>"$out" 2>"$out.err" || return 1
		;;
	esac
	echo "$(field run_best_s "$out.err") $(field compile_mb_s "$out.err") $(field compile_peak_bytes "$out.err")"
}

# callgrind_count [CALLGRIND OPTION...] -- CMD...: the instructions
# callgrind collected running CMD (its output discarded), or nothing.
callgrind_count() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "${opts[@]}" "$@" 2>&1 >/dev/null |
		sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}

# count_insns ENGINE NAME: instructions of one run at scale $insns (see
# the header), or "-".
count_insns() {
	local engine=$1 name=$2 one two
	local wasm="$BENCH_OUT/$name.wasm"
	case "$engine" in
	native) one=$(callgrind_count -- "$BENCH_OUT/$name" "$insns") ;;
	kwasm)
		one=$(callgrind_count --toggle-collect='kwasm_host::entry::call' -- \
			"$KWASM_BENCH" --compile-iters 1 --runs 1 "$wasm" "$insns")
		;;
	wasmtime | epoch)
		local opt=()
		[ "$engine" = wasmtime ] || opt=(--epoch-interruption)
		one=$(callgrind_count -- "$PYTHON" "$KWASM_SRC/scripts/kwasm-bench-wasmtime.py" "${opt[@]}" \
			--compile-iters 1 --runs 1 "$wasm" "$insns")
		two=$(callgrind_count -- "$PYTHON" "$KWASM_SRC/scripts/kwasm-bench-wasmtime.py" "${opt[@]}" \
			--compile-iters 1 --runs 2 "$wasm" "$insns")
		[ -z "$one" ] || [ -z "$two" ] || one=$((two - one))
		;;
	esac
	echo "${one:--}"
}

# num DIGITS VALUE: VALUE rounded for the table, "-" if missing.
num() {
	case "$2" in
	"" | -) echo - ;;
	*) awk -v v="$2" -v d="$1" 'BEGIN { printf "%." d "f\n", v }' ;;
	esac
}

# ratio A B: A / B to two decimals, or "-" if either is missing.
ratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then
		echo -
	else
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
	fi
}

# geomean RATIO...: their geometric mean (one number per comparison).
geomean() {
	if [ $# -eq 0 ]; then
		echo -
	else
		printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { printf "%.2f\n", exp(s / n) }'
	fi
}

# ---------------------------------------------------------------- main

setup_rust
setup_wasmtime
if [ -n "$insns" ]; then need_packages valgrind; fi
build_kwasm_bench
say "building ${#programs[@]} programs for wasm32-wasip1 and natively"
for p in "${programs[@]}"; do
	if [ "$(kind "$p")" = rs ]; then build_rs "$p"; fi
done
if [ ${#crates[@]} -gt 0 ]; then
	say "building ${crates[*]} (cargo, crates.io)"
	build_crates "${crates[@]}"
fi
if [ ${#cprogs[@]} -gt 0 ]; then
	# shellcheck disable=SC2086
	need_packages $C_PACKAGES
	for p in "${cprogs[@]}"; do build_c "$p"; done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kwasm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
rows=() notes=() ratio_kn=() ratio_kw=() ratio_ke=() ratio_hk=() wt_compile=()
insn_rows=() insn_kn=() insn_kw=() insn_ke=()
# Compile throughput over the whole set: bytes and best compile seconds.
set_bytes=0 set_compile_s=0
for p in "${programs[@]}"; do
	say "$p: $runs rounds of native, wasmtime, wasmtime with epochs, kwasm, kwasm hardened; then kwasm-run"
	nat=() wt=() we=() kw=() kh=() kc=() kp=() wc=() outs=() broken=()
	for ((r = 0; r < runs; r++)); do
		out="$work/$p.native.$r"
		if v=$(run_native "$p" "$out"); then
			nat+=("$v")
			outs+=("$out")
		else
			broken+=("native:$out.err")
		fi
		for e in wasmtime epoch kwasm hardened; do
			out="$work/$p.$e.$r"
			if ! v=$(run_engine "$e" "$p" "$out"); then
				broken+=("$e:$out.err")
				continue
			fi
			outs+=("$out")
			read -r run_s mb_s peak <<<"$v"
			if [ "$e" = kwasm ]; then
				kw+=("$run_s")
				kc+=("$mb_s")
				kp+=("$peak")
			elif [ "$e" = hardened ]; then
				kh+=("$run_s")
			elif [ "$e" = epoch ]; then
				we+=("$run_s")
			else
				wt+=("$run_s")
				wc+=("$mb_s")
			fi
		done
	done
	# Untimed: kwasm-run, the full-WASI runner, must print the same.
	out="$work/$p.kwasm-run"
	if (cd "$work" && "$KWASM_RUN" "$BENCH_OUT/$p.wasm" "$scale" >"$out" 2>"$out.err"); then
		outs+=("$out")
	else
		echo "exit status $?" >>"$out.err"
		broken+=("kwasm-run:$out.err")
	fi
	nat_s=$(best "${nat[@]}")
	wt_s=$(best "${wt[@]}")
	we_s=$(best "${we[@]}")
	kw_s=$(best "${kw[@]}")
	kh_s=$(best "${kh[@]}")
	# Compile throughput: the fastest compile gives the best MB/s.
	kw_mbs=$(printf '%s\n' "${kc[@]}" | sort -gr | head -n 1)
	wt_mbs=$(printf '%s\n' "${wc[@]}" | sort -gr | head -n 1)
	# Peak compile memory: the same every round; the largest, in MiB.
	kw_peak=$(printf '%s\n' "${kp[@]}" | grep -v '^-$' | sort -gr | head -n 1)
	[ -z "$kw_peak" ] || kw_peak=$(awk -v b="$kw_peak" 'BEGIN { printf "%.2f", b / 1048576 }')
	if [ -n "$wt_mbs" ]; then wt_compile+=("$wt_mbs"); fi

	# Every run that finished must have printed what the first one did.
	mark=
	for f in "${outs[@]}"; do
		if ! cmp -s "${outs[0]}" "$f"; then
			mark=" !"
			notes+=("! $p: ${f##*/} printed: $(head -c 200 "$f" | tr '\n' ' ')")
			notes+=("! $p: ${outs[0]##*/} printed: $(head -c 200 "${outs[0]}" | tr '\n' ' ')")
			break
		fi
	done
	# Something that could not run: say what, once per engine.
	seen=
	for b in "${broken[@]}"; do
		failed=1
		mark=" !"
		e=${b%%:*}
		case " $seen " in *" $e "*) continue ;; esac
		seen="$seen $e"
		notes+=("! $p: $e could not run: $(tail -n 3 "${b#*:}" 2>/dev/null | tr '\n' ' ')")
	done

	bytes=$(stat -c %s "$BENCH_OUT/$p.wasm")
	kb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1024 }')
	if [ -n "$kw_mbs" ] && [ "$kw_mbs" != - ]; then
		set_bytes=$((set_bytes + bytes))
		set_compile_s=$(awk -v t="$set_compile_s" -v b="$bytes" -v r="$kw_mbs" \
			'BEGIN { printf "%.9f", t + b / 1e6 / r }')
	fi
	kn=$(ratio "$kw_s" "$nat_s")
	kwr=$(ratio "$kw_s" "$wt_s")
	if [ "$kn" != - ]; then ratio_kn+=("$kn"); fi
	if [ "$kwr" != - ]; then ratio_kw+=("$kwr"); fi
	ker=$(ratio "$kw_s" "$we_s")
	if [ "$ker" != - ]; then ratio_ke+=("$ker"); fi
	hk=$(ratio "$kh_s" "$kw_s")
	if [ "$hk" != - ]; then ratio_hk+=("$hk"); fi
	rows+=("$p$mark|$kb|$(num 2 "$kw_mbs")|${kw_peak:--}|$(num 3 "$nat_s")|$(num 3 "$wt_s")|$(num 3 "$we_s")|$(num 3 "$kw_s")|$kn|$kwr|$ker|$(num 3 "$kh_s")|$hk")
	if [ -n "$insns" ]; then
		say "$p: instructions at scale $insns% (callgrind)"
		ni=$(count_insns native "$p")
		wi=$(count_insns wasmtime "$p")
		ei=$(count_insns epoch "$p")
		ki=$(count_insns kwasm "$p")
		r=$(ratio "$ki" "$ni")
		if [ "$r" != - ]; then insn_kn+=("$r"); fi
		rw=$(ratio "$ki" "$wi")
		if [ "$rw" != - ]; then insn_kw+=("$rw"); fi
		re=$(ratio "$ki" "$ei")
		if [ "$re" != - ]; then insn_ke+=("$re"); fi
		insn_rows+=("$p|$(num 1 "$(ratio "$ni" 1000000)")|$(num 1 "$(ratio "$wi" 1000000)")|$(num 1 "$(ratio "$ei" 1000000)")|$(num 1 "$(ratio "$ki" 1000000)")|$r|$rw|$re")
	fi
done
rows+=("geomean||||||||$(geomean "${ratio_kn[@]}")|$(geomean "${ratio_kw[@]}")|$(geomean "${ratio_ke[@]}")||$(geomean "${ratio_hk[@]}")")

fmt_row() {
	local IFS='|'
	# shellcheck disable=SC2086
	set -- $1
	printf '| %-10s | %7s | %12s | %11s | %8s | %10s | %7s | %7s | %12s | %14s | %11s | %10s | %14s |\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" "${13}"
}

echo
fmt_row "program|wasm KB|compile MB/s|compile MiB|native s|wasmtime s|epoch s|kwasm s|kwasm/native|kwasm/wasmtime|kwasm/epoch|hardened s|hardened/kwasm"
echo "|------------|--------:|-------------:|------------:|---------:|-----------:|--------:|--------:|-------------:|---------------:|------------:|-----------:|---------------:|"
for row in "${rows[@]}"; do fmt_row "$row"; done
echo
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; best of $runs rounds, scale $scale%"
echo "kwasm ran in the host runner (user space, rust/kwasm/host) with the same generated code"
echo "the kernel uses on this CPU (its ISA features, AVX, AVX2 and FMA included); compile MB/s = wasm bytes / best"
echo "time of kwasm_compiler::compile; compile MiB = the most heap it held at once (output included);"
echo "run times are instantiation + _start (native: the process)"
echo "hardened: the same code compiled with every branch form a mitigated kernel may ask for"
echo "(retpoline thunks for indirect calls, return thunk, int3 after ret, endbr64, br_table as"
echo "compare trees), the host runner supplying the kernel's thunk code"
echo "epoch: wasmtime with epoch interruption (a check at every function entry and loop header"
echo "that can stop the program), the counterpart of kwasm's safepoint polls"
if [ ${#wt_compile[@]} -gt 0 ]; then
	lo=$(printf '%s\n' "${wt_compile[@]}" | sort -g | head -n 1)
	hi=$(printf '%s\n' "${wt_compile[@]}" | sort -g | tail -n 1)
	echo "wasmtime $(cat "$KWASM_CACHE/bench/venv/.kwasm-wasmtime") (PyPI) compiled the same modules on one thread at" \
		"$(num 2 "$lo")-$(num 2 "$hi") MB/s"
fi
if [ -n "$insns" ]; then
	echo
	echo "Instructions executed at scale $insns% (callgrind; millions):"
	echo
	insn_rows+=("geomean|||||$(geomean "${insn_kn[@]}")|$(geomean "${insn_kw[@]}")|$(geomean "${insn_ke[@]}")")
	printf '| %-10s | %14s | %15s | %13s | %12s | %12s | %14s | %11s |\n' program "native Minsns" \
		"wasmtime Minsns" "epoch Minsns" "kwasm Minsns" kwasm/native kwasm/wasmtime kwasm/epoch
	echo "|------------|---------------:|----------------:|--------------:|-------------:|-------------:|---------------:|------------:|"
	for row in "${insn_rows[@]}"; do
		IFS='|' read -r a b c d e f g h <<<"$row"
		printf '| %-10s | %14s | %15s | %13s | %12s | %12s | %14s | %11s |\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h"
	done
	echo
fi
for n in "${notes[@]}"; do echo "$n"; done
# The summary: geomeans of the ratio columns, and the set's compile
# throughput (all its bytes over the sum of the best compile times).
set_mbs=$(awk -v b="$set_bytes" -v t="$set_compile_s" 'BEGIN { if (t > 0) printf "%.2f", b / 1e6 / t; else print "-" }')
echo "bench-codegen: geomean kwasm/wasmtime $(geomean "${ratio_kw[@]}"), kwasm/native $(geomean "${ratio_kn[@]}"), compile $set_mbs MB/s"
exit $failed
