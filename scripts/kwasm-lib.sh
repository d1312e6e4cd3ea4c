# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Functions behind scripts/kwasm. Sourced, never run directly.

say() { printf 'kwasm: %s\n' "$*" >&2; }
die() {
	printf 'kwasm: error: %s\n' "$*" >&2
	exit 1
}

APT_PACKAGES="clang-16 lld-16 llvm-16 libclang-16-dev bison flex bc cpio kmod
libelf-dev libssl-dev busybox-static qemu-system-x86 linux-source-6.12
xz-utils rsync python3 wabt patch"
# The kernel's LLVM toolchain: clang 16 builds the return-thunk and SLS
# mitigations (-mfunction-return=thunk-extern, -mharden-sls), which
# Debian 12's default clang 14 lacks. bindgen uses the same libclang.
KWASM_LLVM=-16
export LIBCLANG_PATH=/usr/lib/llvm-16/lib
BINDGEN_VERSION=0.73

# Runs a long command with its output in a log; prints the log's tail on failure.
logged() {
	local log=$1
	shift
	mkdir -p "$(dirname "$log")"
	if ! "$@" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

kwasm_setup() {
	local quiet=
	[ "${1:-}" = --quiet ] && quiet=1
	local stamp="$KWASM_CACHE/setup.stamp"
	local want
	want=$(printf '%s %s %s' "$APT_PACKAGES" "$BINDGEN_VERSION" "$RUST_TOOLCHAIN" | sha256sum | cut -c1-16)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		[ -n "$quiet" ] || say "setup: everything is installed"
		return 0
	fi
	mkdir -p "$KWASM_CACHE"
	local missing=
	for p in $APT_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "setup: installing Debian packages:$missing"
		local sudo=
		[ "$(id -u)" = 0 ] || sudo=sudo
		logged "$KWASM_CACHE/log/apt.log" $sudo apt-get update
		logged "$KWASM_CACHE/log/apt.log" env DEBIAN_FRONTEND=noninteractive \
			$sudo apt-get install -y --no-install-recommends $missing
	fi
	if ! rustup toolchain list | grep -q "^$RUST_TOOLCHAIN"; then
		say "setup: installing Rust $RUST_TOOLCHAIN"
		logged "$KWASM_CACHE/log/rustup.log" rustup toolchain install "$RUST_TOOLCHAIN" --profile minimal
	fi
	say "setup: Rust components"
	logged "$KWASM_CACHE/log/rustup.log" rustup component add --toolchain "$RUST_TOOLCHAIN" rust-src rustfmt clippy
	logged "$KWASM_CACHE/log/rustup.log" rustup target add --toolchain "$RUST_TOOLCHAIN" wasm32-wasip1 x86_64-unknown-none
	if ! bindgen --version 2>/dev/null | grep -q "bindgen $BINDGEN_VERSION"; then
		say "setup: building bindgen-cli $BINDGEN_VERSION (a few minutes)"
		logged "$KWASM_CACHE/log/bindgen.log" cargo install --locked bindgen-cli --version "~$BINDGEN_VERSION"
	fi
	echo "$want" >"$stamp"
	[ -n "$quiet" ] || say "setup: done"
}

KTREE="$KWASM_CACHE/linux"
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz

# Pristine kernel tree under git, so patches can be re-applied without
# touching unrelated files (and make stays incremental).
kwasm_prepare_tree() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	if [ ! -f "$KTREE/.kwasm-pristine" ] || [ "$(cat "$KTREE/.kwasm-pristine")" != "$ver" ]; then
		say "build: unpacking linux-source-6.12 $ver"
		rm -rf "$KTREE" "$KTREE.tmp"
		mkdir -p "$KTREE.tmp"
		tar xf "$KSRC_TARBALL" -C "$KTREE.tmp"
		mv "$KTREE.tmp/linux-source-6.12" "$KTREE"
		rmdir "$KTREE.tmp"
		(
			cd "$KTREE"
			git init -q
			git -c core.autocrlf=false add -A -f
			git -c user.name=kwasm -c user.email=kwasm@localhost commit -q -m pristine
			git tag pristine
		)
		echo "$ver" >"$KTREE/.kwasm-pristine"
		rm -f "$KTREE/.kwasm-patches"
	fi
	local want
	want=$(cat "$KWASM_SRC"/patches/*.patch 2>/dev/null | sha256sum | cut -c1-16)
	if [ "$(cat "$KTREE/.kwasm-patches" 2>/dev/null)" != "$want" ]; then
		say "build: applying patches/"
		(cd "$KTREE" && { git am --abort >/dev/null 2>&1 || true; } && git reset -q --hard pristine)
		local p
		for p in "$KWASM_SRC"/patches/*.patch; do
			[ -e "$p" ] || continue
			if ! (cd "$KTREE" && git -c "user.name=kwasm developers" -c user.email=kwasm@localhost am -q "$p"); then
				(cd "$KTREE" && git am --abort)
				die "patch does not apply: $(basename "$p")"
			fi
		done
		echo "$want" >"$KTREE/.kwasm-patches"
	fi
	# Overlay our in-tree sources; -c keeps unchanged files' mtimes.
	local d
	for d in drivers/kwasm rust/kwasm samples/kwasm tools/testing/selftests/kwasm Documentation/kwasm; do
		[ -d "$KWASM_SRC/$d" ] || continue
		mkdir -p "$KTREE/$d"
		rsync -rc --exclude target --exclude 'STATUS.md' "$KWASM_SRC/$d/" "$KTREE/$d/"
	done
}

kwasm_config() {
	local want
	want=$({ echo "$KWASM_LLVM"; cat "$KWASM_SRC"/configs/kwasm.config "$KTREE/.kwasm-patches" ${KWASM_EXTRA_CONFIG:-}; } |
		sha256sum | cut -c1-16)
	[ -f "$KTREE/.config" ] && [ "$(cat "$KTREE/.kwasm-config" 2>/dev/null)" = "$want" ] && return 0
	say "build: configuring (tinyconfig + configs/kwasm.config)"
	(
		cd "$KTREE"
		logged "$KWASM_CACHE/log/config.log" make LLVM=$KWASM_LLVM tinyconfig
		logged "$KWASM_CACHE/log/config.log" scripts/kconfig/merge_config.sh -m .config \
			"$KWASM_SRC/configs/kwasm.config" ${KWASM_EXTRA_CONFIG:-}
		logged "$KWASM_CACHE/log/config.log" make LLVM=$KWASM_LLVM olddefconfig
	)
	local opt missing=
	while IFS= read -r opt; do
		case "$opt" in CONFIG_*=y) ;; *) continue ;; esac
		grep -qx "$opt" "$KTREE/.config" || missing="$missing ${opt%=y}"
	done <"$KWASM_SRC/configs/kwasm.config"
	[ -z "$missing" ] || die "config options not enabled:$missing (see $KWASM_CACHE/log/config.log)"
	echo "$want" >"$KTREE/.kwasm-config"
}

kwasm_build() {
	local quiet=
	[ "${1:-}" = --quiet ] && quiet=1
	# One build at a time in the shared tree.
	mkdir -p "$KWASM_CACHE"
	exec 9>"$KWASM_CACHE/build.lock"
	flock 9
	kwasm_prepare_tree
	kwasm_crates
	kwasm_config
	[ -n "$quiet" ] || say "build: make LLVM=$KWASM_LLVM -j$(nproc) (log: $KWASM_CACHE/log/kernel.log)"
	local start=$SECONDS
	(
		cd "$KTREE"
		make LLVM=$KWASM_LLVM -j"$(nproc)" KRUSTFLAGS= bzImage >"$KWASM_CACHE/log/kernel.log" 2>&1
	) &
	local pid=$!
	if [ -t 2 ] && [ -z "$quiet" ]; then
		while kill -0 $pid 2>/dev/null; do
			printf '\rkwasm: build: %4ds, %s' $((SECONDS - start)) \
				"$(tail -n1 "$KWASM_CACHE/log/kernel.log" | cut -c1-60)" >&2
			sleep 2
		done
		printf '\n' >&2
	elif [ -z "$quiet" ] || [ -n "${CI:-}" ]; then
		# Non-interactive: a progress line now and then.
		while kill -0 $pid 2>/dev/null; do
			sleep 30
			kill -0 $pid 2>/dev/null &&
				say "build: $((SECONDS - start))s: $(tail -n1 "$KWASM_CACHE/log/kernel.log" | cut -c1-70)"
		done
	fi
	if ! wait $pid; then
		grep -E 'error|Error|\*\*\*' "$KWASM_CACHE/log/kernel.log" | head -40 >&2
		die "kernel build failed (log: $KWASM_CACHE/log/kernel.log)"
	fi
	grep -q 'warning: objtool' "$KWASM_CACHE/log/kernel.log" || true
	[ -n "$quiet" ] || say "build: done in $((SECONDS - start))s: $KTREE/arch/x86/boot/bzImage"
}

# The pinned crates, fetched with `cargo vendor` and patched with
# rust/kwasm/patches/CRATE-VERSION/*.patch. Every cargo build, host and
# kernel, uses this directory instead of crates.io (see cargo_ws), so both
# compile the same, patched, sources.
KWASM_VENDOR="$KWASM_CACHE/vendor"
KWASM_CARGO_CWD="$KWASM_CACHE/cargo"

kwasm_vendor() {
	local ws="$KWASM_SRC/rust/kwasm" want d p crate
	want=$(cat "$ws/Cargo.lock" "$ws"/patches/*/*.patch | sha256sum | cut -c1-16)
	if [ "$(cat "$KWASM_VENDOR/.kwasm-stamp" 2>/dev/null)" != "$want" ]; then
		say "build: vendoring crates and applying rust/kwasm/patches"
		mkdir -p "$KWASM_CACHE/log"
		local tmp="$KWASM_VENDOR.new"
		rm -rf "$tmp"
		(cd "$ws" && logged "$KWASM_CACHE/log/vendor.log" cargo vendor --locked --versioned-dirs "$tmp")
		for d in "$ws"/patches/*/; do
			d=${d%/}
			crate=${d##*/}
			[ -d "$tmp/$crate" ] || die "rust/kwasm/patches/$crate: no such crate in Cargo.lock"
			for p in "$d"/*.patch; do
				patch -s -p1 -N -d "$tmp/$crate" <"$p" >>"$KWASM_CACHE/log/vendor.log" 2>&1 ||
					die "cannot apply $p (log: $KWASM_CACHE/log/vendor.log)"
			done
			# cargo checks vendored files against this list.
			python3 - "$tmp/$crate" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
path = os.path.join(d, ".cargo-checksum.json")
sums = json.load(open(path))
sums["files"] = {}
for root, _, names in os.walk(d):
    for n in names:
        rel = os.path.relpath(os.path.join(root, n), d)
        if rel != ".cargo-checksum.json":
            with open(os.path.join(d, rel), "rb") as f:
                sums["files"][rel] = hashlib.sha256(f.read()).hexdigest()
json.dump(sums, open(path, "w"))
PY
		done
		echo "$want" >"$tmp/.kwasm-stamp"
		rm -rf "$KWASM_VENDOR"
		mv "$tmp" "$KWASM_VENDOR"
		kwasm_cargo_config
		# cargo takes vendored sources as immutable and would keep stale
		# builds of the crates whose patches changed.
		# (`cargo clean -p` misses other profiles and targets.)
		local name dir
		for d in "$ws"/patches/*/; do
			d=${d%/}
			d=${d##*/}
			name=${d%-*}
			for dir in "$KWASM_CACHE"/target/release "$KWASM_CACHE"/target/debug \
				"$KWASM_CACHE"/target/*/release "$KWASM_CACHE"/target/*/debug; do
				[ -d "$dir" ] || continue
				rm -rf "$dir/.fingerprint/$name"-* "$dir/build/$name"-* "$dir/deps/lib${name//-/_}"-*
			done
		done
	fi
	kwasm_cargo_config
}

# cargo finds source replacement only in config files, by the working
# directory (cargo's --config does not reach `cargo clippy`).
kwasm_cargo_config() {
	mkdir -p "$KWASM_CARGO_CWD/.cargo"
	printf '[source.crates-io]\nreplace-with = "kwasm-vendor"\n[source.kwasm-vendor]\ndirectory = "%s"\n' \
		"$KWASM_VENDOR" >"$KWASM_CARGO_CWD/.cargo/config.toml"
}

# cargo SUBCOMMAND [ARGS] on the rust/kwasm workspace, over the patched
# vendored crates.
cargo_ws() {
	local sub=$1
	shift
	kwasm_vendor
	(cd "$KWASM_CARGO_CWD" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$KWASM_CACHE/target} \
		cargo "$sub" --manifest-path "$KWASM_SRC/rust/kwasm/Cargo.toml" "$@")
}

# no_std crates of rust/kwasm that the kernel links (with their dependencies).
KERNEL_CRATES="kwasm-abi kwasm-compiler kwasm-runtime kwasm-wasi"

# Runs the build scripts of the kernel's crates on the host and generates
# the Kbuild rules that build them in the kernel tree.
kwasm_crates() {
	# The kernel tree's copy of the workspace is what gets built.
	local ws="$KTREE/rust/kwasm" gen="$KTREE/rust/kwasm-gen"
	local want
	kwasm_vendor
	want=$({ echo "$KERNEL_CRATES"; cat "$ws/Cargo.lock" "$ws"/*/Cargo.toml "$ws/Cargo.toml" \
		"$KWASM_VENDOR/.kwasm-stamp" "$KWASM_SRC/scripts/kwasm-crates.py"; } | sha256sum | cut -c1-16)
	[ -f "$gen/crates.mk" ] && [ "$(cat "$gen/.stamp" 2>/dev/null)" = "$want" ] && return 0
	say "build: running the crates' build scripts (cargo)"
	local pkgs="" p
	for p in $KERNEL_CRATES; do
		[ -d "$ws/${p#kwasm-}" ] && pkgs="$pkgs -p $p"
	done
	local tdir="$KWASM_CACHE/target-kernel"
	rm -rf "$tdir"
	# shellcheck disable=SC2086
	(cd "$KWASM_CARGO_CWD" && RUSTC_BOOTSTRAP=1 logged "$KWASM_CACHE/log/crates.log" cargo check -vv --locked --release \
		--manifest-path "$ws/Cargo.toml" \
		--target x86_64-unknown-none --target-dir "$tdir" $pkgs)
	# Generated files are synced, not replaced, to keep make incremental.
	KWASM_WORKSPACE="$ws" logged "$KWASM_CACHE/log/crates-gen.log" \
		python3 "$KWASM_SRC/scripts/kwasm-crates.py" "$KWASM_CACHE/log/crates.log" "$gen" \
		--rust-lib-src "$(rustc --print sysroot)/lib/rustlib/src/rust/library"
	echo "$want" >"$gen/.stamp"
}

# ---------------------------------------------------------------- samples

# Builds samples/kwasm/NAME.rs into samples/kwasm/NAME.wasm when stale.
kwasm_build_rust_wasm() {
	local src=$1 out=$2
	if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then
		rustc --edition 2021 --target wasm32-wasip1 -O -C strip=debuginfo "$src" -o "$out" ||
			die "cannot build $src"
	fi
}

kwasm_samples() {
	local f
	for f in "$KWASM_SRC"/samples/kwasm/*.rs; do
		[ -e "$f" ] || continue
		kwasm_build_rust_wasm "$f" "${f%.rs}.wasm"
	done
}

# Builds the network samples into $1: each server and microbenchmark as a
# kwasm program (NAME.wasm) and as its native twin (NAME, static, for the
# busybox VM), both from one source over the kwasm-net crate; and the native
# echo_client.
kwasm_build_net_samples() {
	local out=$1 src="$KWASM_SRC/samples/kwasm/net" lib="$KWASM_SRC/rust/kwasm/net/src"
	local key
	key=$(cat "$src"/*.rs "$lib"/*.rs | sha256sum | cut -c1-16)
	[ "$(cat "$out/.key" 2>/dev/null)" = "$key" ] && return 0
	mkdir -p "$out/wasm" "$out/native"
	local rc=(rustc --edition 2021 -O -C strip=debuginfo)
	local native=("${rc[@]}" -C target-feature=+crt-static)
	"${rc[@]}" --target wasm32-wasip1 --crate-type rlib --crate-name kwasm_net \
		"$lib/lib.rs" -o "$out/wasm/libkwasm_net.rlib" || return 1
	"${native[@]}" --crate-type rlib --crate-name kwasm_net \
		"$lib/lib.rs" -o "$out/native/libkwasm_net.rlib" || return 1
	local name
	for name in echo_server http_server bench_fd_write bench_send bench_calls; do
		"${rc[@]}" --target wasm32-wasip1 --extern kwasm_net="$out/wasm/libkwasm_net.rlib" \
			"$src/$name.rs" -o "$out/$name.wasm" || return 1
		"${native[@]}" --extern kwasm_net="$out/native/libkwasm_net.rlib" \
			"$src/$name.rs" -o "$out/$name" || return 1
	done
	"${native[@]}" "$src/echo_client.rs" -o "$out/echo_client" || return 1
	chmod +x "$out"/*.wasm
	echo "$key" >"$out/.key"
}

# ---------------------------------------------------------------- the VM

# Busybox initramfs whose /init runs the command in /kwasm/cmd.sh.
kwasm_initramfs() {
	local out="$KWASM_CACHE/initramfs.cpio.gz" init="$KWASM_SRC/scripts/kwasm-init.sh"
	# Keyed on content, not mtimes: clones of other commits share the cache.
	local key
	key=$({ echo "layout 2"; cat "$init" /bin/busybox; } | sha256sum | cut -c1-16)
	if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	local d
	d=$(mktemp -d)
	mkdir -p "$d"/{bin,sbin,etc,proc,sys,dev,tmp,kwasm,root}
	# mktemp made the root 0700: other users could not reach any path.
	chmod 755 "$d"
	chmod 1777 "$d/tmp"
	cp /bin/busybox "$d/bin/busybox"
	cp "$init" "$d/init"
	chmod +x "$d/init"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$d/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
	mv "$out.tmp" "$out"
	echo "$key" >"$out.key"
	rm -rf "$d"
}

# kwasm_vm CMD...: boots the kwasm kernel, runs CMD (a shell command line) in
# the current directory, mirrors its stdout/stderr, returns its exit status.
# KWASM_VM_TIMEOUT (seconds, default 600) bounds the whole VM run;
# KWASM_VM_QEMU_ARGS adds QEMU options (split on blanks, e.g. -plugin).
# kwasm_injected_alloc_failures only|drop: allocation-failure reports made
# inside a fault-injection window ("kwasm-selftest: fault injection on" to
# "... off" in the kernel log on stdin) run from their "page allocation
# failure:" or "vmalloc error:" line to the end of their stack dump
# ("</TASK>"); "only" prints their lines, "drop" every other line.
kwasm_injected_alloc_failures() {
	awk -v only="$([ "$1" = only ] && echo 1 || echo 0)" '
	    /kwasm-selftest: fault injection on/ { inj = 1 }
	    /kwasm-selftest: fault injection off/ { inj = 0 }
	    inj && /page allocation failure:|vmalloc error:/ { skip = 1 }
	    skip { if (only) print; if (/<\/TASK>/) skip = 0; next }
	    !only { print }'
}

kwasm_vm() {
	kwasm_initramfs
	local extra=()
	read -ra extra <<<"${KWASM_VM_QEMU_ARGS:-}"
	local bz="$KTREE/arch/x86/boot/bzImage"
	[ -f "$bz" ] || die "no kernel: run scripts/kwasm build"
	local ctl
	ctl=$(mktemp -d "${TMPDIR:-/tmp}/kwasm-vm.XXXXXX")
	printf '%s\n' "$*" >"$ctl/cmd.sh"
	pwd >"$ctl/cwd"
	# A program outside the shared directory travels in the control one.
	[ -z "${KWASM_VM_FILE:-}" ] || cp -p "$KWASM_VM_FILE" "$ctl/"
	local rc=0
	timeout --foreground "${KWASM_VM_TIMEOUT:-600}" qemu-system-x86_64 \
		-nodefaults -display none -no-reboot \
		-machine pc -cpu "${KWASM_VM_CPU_MODEL:-max}" -smp "${KWASM_VM_CPUS:-2}" -m "${KWASM_VM_MEM:-2G}" \
		-kernel "$bz" -initrd "$KWASM_CACHE/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=4 acpi=noirq ${KWASM_VM_CMDLINE:-}" \
		-serial "file:$ctl/console" -serial "file:$ctl/stdout" -serial "file:$ctl/stderr" \
		-virtfs "local,path=$(pwd),mount_tag=cwd,security_model=none" \
		-virtfs "local,path=$ctl,mount_tag=kwasm,security_model=none" \
		"${extra[@]}" </dev/null >"$ctl/qemu.log" 2>&1 || rc=$?
	cat "$ctl/stdout"
	cat "$ctl/stderr" >&2
	if [ $rc -ne 0 ]; then
		[ $rc -eq 124 ] && say "vm: timed out after ${KWASM_VM_TIMEOUT:-600}s"
		tail -n 40 "$ctl/console" "$ctl/qemu.log" >&2
		rm -rf "$ctl"
		return 125
	fi
	if [ ! -f "$ctl/status" ]; then
		say "vm: the guest did not finish the command; console:"
		tail -n 60 "$ctl/console" >&2
		rm -rf "$ctl"
		return 125
	fi
	local status
	status=$(cat "$ctl/status")
	# (Boot-time mitigation notices, e.g. spectre_v2=retpoline,lfence's
	# "Spectre V2 : WARNING: LFENCE mitigation is not recommended", or SRSO's
	# advice on a CPU model without the microcode, are choices the run
	# made, not problems.)
	# Allocation-failure reports (warn_alloc: "page allocation failure",
	# "vmalloc error", with a stack dump) are what injected failures
	# produce wherever the kernel allocates without __GFP_NOWARN, e.g.
	# KASAN's shadow for module space under execmem_alloc(). Inside the
	# window a test marks in /dev/kmsg while it injects failures they are
	# expected, and only counted; anywhere else they are problems.
	local problems injected
	injected=$(cat "$ctl/console" "$ctl/dmesg" 2>/dev/null | kwasm_injected_alloc_failures only | grep -c . || true)
	[ "$injected" -eq 0 ] ||
		say "vm: $injected kernel log lines of allocation-failure reports during fault injection (expected)"
	problems=$(cat "$ctl/console" "$ctl/dmesg" 2>/dev/null | kwasm_injected_alloc_failures drop |
		grep -v 'Spectre V2 : WARNING:\|Speculative Return Stack Overflow: WARNING:' |
		grep -E 'Oops|BUG:|WARNING:|Kernel panic|possible recursive locking|circular locking|KASAN|kmemleak: [1-9]|UBSAN|Call Trace|not a trap site' || true)
	if [ -n "$problems" ]; then
		say "vm: the kernel log shows a problem:"
		grep -E -B5 -A30 'Oops|BUG:|WARNING:|Kernel panic|recursive locking|circular locking|KASAN|kmemleak|UBSAN|Call Trace|not a trap site' \
			"$ctl/dmesg" "$ctl/console" 2>/dev/null | head -80 >&2
		rm -rf "$ctl"
		return 125
	fi
	[ -n "${KWASM_VM_DMESG:-}" ] && cp "$ctl/dmesg" "$KWASM_VM_DMESG"
	rm -rf "$ctl"
	return "$status"
}

kwasm_run() {
	[ $# -gt 0 ] || die "usage: scripts/kwasm run FILE.wasm [ARGS...] | run -- CMD [ARGS...]"
	local q="" a
	if [ "$1" = -- ]; then
		shift
		for a in "$@"; do q="$q $(printf '%q' "$a")"; done
	else
		local f=$1
		shift
		case "$f" in
		*.rs)
			kwasm_build_rust_wasm "$f" "${f%.rs}.wasm"
			f=${f%.rs}.wasm
			;;
		*.wasm)
			[ -f "$f" ] || [ ! -f "${f%.wasm}.rs" ] || kwasm_build_rust_wasm "${f%.wasm}.rs" "$f"
			;;
		esac
		[ -f "$f" ] || die "no such file: $f"
		[ -x "$f" ] || chmod +x "$f"
		local real
		real=$(realpath "$f")
		case "$real" in
		"$(pwd)"/*) case "$f" in /*) ;; *) f=./$f ;; esac ;;
		*)
			export KWASM_VM_FILE=$real
			f=/kwasm/$(basename "$real")
			;;
		esac
		q="exec $(printf '%q' "$f")"
		for a in "$@"; do q="$q $(printf '%q' "$a")"; done
	fi
	local rc=0
	kwasm_vm "$q" || rc=$?
	return $rc
}

# ---------------------------------------------------------------- tests

# Results of `test`: one line per check, "PASS name" / "FAIL name".
KWASM_RESULTS=

record() {
	local ok=$1 name=$2
	if [ "$ok" = 0 ]; then
		KWASM_RESULTS="${KWASM_RESULTS}PASS $name"$'\n'
		printf 'ok - %s\n' "$name"
	else
		KWASM_RESULTS="${KWASM_RESULTS}FAIL $name"$'\n'
		printf 'not ok - %s\n' "$name"
	fi
}

# The samples and the kselftests' Rust programs as wasm, in one directory
# ($KWASM_CACHE/samples/wasm), for the compiler's static branch-form checks
# (KWASM_SAMPLE_WASM in rust/kwasm/compiler/tests/branch_forms.rs).
kwasm_build_sample_corpus() {
	local dir="$KWASM_CACHE/samples" f
	mkdir -p "$dir/wasm"
	kwasm_build_net_samples "$KWASM_CACHE/bench-net" || return 1
	cp -p "$KWASM_CACHE"/bench-net/*.wasm "$dir/wasm/"
	for f in "$KWASM_SRC"/samples/kwasm/*.rs "$KWASM_SRC"/samples/kwasm/bench/*.rs \
		"$KWASM_SRC"/tools/testing/selftests/kwasm/progs/*.rs; do
		[ -e "$f" ] || continue
		grep -q 'kwasm_net' "$f" && continue
		(kwasm_build_rust_wasm "$f" "$dir/wasm/$(basename "${f%.rs}").wasm") || return 1
	done
}

# Host cargo tests: each test of each crate counts.
kwasm_test_host() {
	local log="$KWASM_CACHE/log/cargo-test.log" rc=0
	say "test: host cargo tests (log: $log)"
	kwasm_build_sample_corpus >"$KWASM_CACHE/log/samples.log" 2>&1 || {
		tail -n 20 "$KWASM_CACHE/log/samples.log"
		record 1 "host: the samples build to wasm32-wasip1"
	}
	KWASM_SAMPLE_WASM="$KWASM_CACHE/samples/wasm" \
		cargo_ws test --workspace --release --locked >"$log" 2>&1 || rc=$?
	local line
	while IFS= read -r line; do
		case "$line" in
		"test "*" ... ok") record 0 "host: ${line#test }" ;;
		"test "*" ... FAILED") record 1 "host: ${line#test }" ;;
		esac
	done <"$log"
	if [ $rc -ne 0 ]; then
		grep -E '^error|panicked|FAILED' "$log" | head -20
		record 1 "host: cargo test --workspace exits 0"
	fi
}

kwasm_test_lint() {
	local rc=0
	cargo_ws fmt --all --check >"$KWASM_CACHE/log/fmt.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || head -20 "$KWASM_CACHE/log/fmt.log"
	record $rc "rustfmt: rust/kwasm is formatted"
	rc=0
	cargo_ws clippy --workspace --release --locked -- -D warnings >"$KWASM_CACHE/log/clippy.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || grep -E -A6 '^(warning|error)' "$KWASM_CACHE/log/clippy.log" | head -40
	record $rc "clippy: rust/kwasm has no warnings"
	# The guest side: kwasm-net's wasm backend, samples and test programs.
	rc=0
	cargo_ws clippy --release --locked -p kwasm-net --target wasm32-wasip1 -- -D warnings \
		>"$KWASM_CACHE/log/clippy-wasm.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || grep -E -A6 '^(warning|error)' "$KWASM_CACHE/log/clippy-wasm.log" | head -40
	record $rc "clippy: kwasm-net for wasm32-wasip1 has no warnings"
	rc=0
	rustfmt --edition 2021 --check "$KWASM_SRC"/samples/kwasm/*.rs "$KWASM_SRC"/samples/kwasm/net/*.rs \
		"$KWASM_SRC"/samples/kwasm/bench/*.rs "$KWASM_SRC"/samples/kwasm/bench/crates/src/*.rs \
		"$KWASM_SRC"/samples/kwasm/bench/crates/src/bin/*.rs \
		"$KWASM_SRC"/tools/testing/selftests/kwasm/progs/*.rs >"$KWASM_CACHE/log/fmt-guest.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || head -20 "$KWASM_CACHE/log/fmt-guest.log"
	record $rc "rustfmt: samples and test programs are formatted"
}

# The compiler must build for a soft-float no_std target like the kernel's.
kwasm_test_nostd() {
	local rc=0
	RUSTC_BOOTSTRAP=1 cargo_ws build --release --locked -p kwasm-compiler -p kwasm-runtime -p kwasm-wasi \
		--target x86_64-unknown-none >"$KWASM_CACHE/log/nostd.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || tail -20 "$KWASM_CACHE/log/nostd.log"
	record $rc "no_std: compiler, runtime and WASI build for x86_64-unknown-none"
}

kwasm_spec() {
	# (Callers use `|| rc=$?`, which turns errexit off in here.)
	cargo_ws build --release --locked -q -p kwasm-host --bin kwasm-spec || return
	"${CARGO_TARGET_DIR:-$KWASM_CACHE/target}/release/kwasm-spec" "$@"
}

kwasm_bench_codegen() { "$KWASM_SRC/scripts/kwasm-bench-codegen.sh" "$@"; }

kwasm_test_spec() {
	local log="$KWASM_CACHE/log/spec.log" rc=0
	say "test: WebAssembly spec suite (log: $log)"
	kwasm_spec >"$log" 2>&1 || rc=$?
	tail -n 1 "$log"
	grep -q '^spec: [0-9]* passed, 0 failed' "$log" || rc=1
	record $rc "spec: the WebAssembly 2.0 spec suite passes"
	# The thunk forms run in user space too (the runner supplies thunks).
	# This run also compiles for SSE4.1 alone: the first one, the VM and
	# the kernels use every feature this CPU has (AVX included), and a
	# CPU without them gets other instruction selections.
	log="$KWASM_CACHE/log/spec-hardened.log" rc=0
	kwasm_spec --hardened --baseline >"$log" 2>&1 || rc=$?
	tail -n 1 "$log"
	grep -q '^spec: [0-9]* passed, 0 failed' "$log" || rc=1
	record $rc "spec: the spec suite passes with every branch hardening (retpolines, return thunk, SLS, IBT), compiled for SSE4.1 alone"
}

# Builds the kselftests and their wasm programs into $1.
kwasm_build_selftests() {
	local out=$1
	mkdir -p "$out"
	logged "$KWASM_CACHE/log/selftests.log" make -C "$KTREE/tools/testing/selftests/kwasm" \
		OUTPUT="$out" RUSTUP_TOOLCHAIN="$RUST_TOOLCHAIN"
	kwasm_build_rust_wasm "$KWASM_SRC/samples/kwasm/hello.rs" "$out/hello.wasm"
	chmod +x "$out"/*.wasm
	# The WASI programs' expected outcome is what wasmtime does with them.
	local python
	python=$(KWASM_CACHE="$KWASM_CACHE" "$KWASM_SRC/scripts/kwasm-wasmtime-venv.sh")
	logged "$KWASM_CACHE/log/wasi-reference.log" "$python" \
		"$KWASM_SRC/scripts/kwasm-wasi-reference.py" "$out" "$out"/wasi_*.wasm
}

kwasm_test_vm() {
	local out="$KWASM_CACHE/selftests" rc=0
	if ! (kwasm_build_selftests "$out"); then
		record 1 "kselftest: the selftests build"
		return 0
	fi
	say "test: kselftests in the VM"
	local log="$KWASM_CACHE/log/kselftest.log"
	kwasm_differential_progs "$out"
	# All test programs in one boot; the VM's status is non-zero if any
	# failed. Then the differential programs, compared below.
	(cd "$out" && kwasm_vm 'rc=0; for t in ./kwasm_*_test; do "$t" || rc=1; done
'"${KWASM_VM_EXTRA:-}"'
sh ./kwasm-differential.sh ./diff-progs ./diff-vm
exit $rc') >"$log" 2>&1 || rc=$?
	cat "$log"
	kwasm_record_tap "kselftest" "$log"
	[ "$KWASM_TAP_COUNT" -gt 0 ] || record 1 "kselftest: the VM ran the tests"
	[ $rc -eq 0 ] || record 1 "kselftest: the tests exit 0 and the kernel log is clean"
	kwasm_test_differential "$out"
	kwasm_test_modes "$out"
}

# The programs run both in the VM and under kwasm-run on the host
# (scripts/kwasm-differential.sh): the WASI conformance programs and the
# selftests' programs that end the same way on any kwasm (not those that
# spin, hit the kernel's resource limits or need the kernel's own calls).
KWASM_DIFFERENTIAL="wasi_args_env_clock wasi_dirs wasi_fd_io wasi_fd_state wasi_paths
wasi_poll_misc hello exit_code exit_zero stderr_write float_mix echo_args return_from_start
count_preopens trap_bad_conversion trap_div_zero trap_indirect_null trap_indirect_type
trap_int_overflow trap_oob_high trap_oob_load trap_stack_overflow trap_table_oob
trap_unreachable"

# Copies the differential programs and the script into $1 (the selftests
# directory the VM runs in).
kwasm_differential_progs() {
	local out=$1 n
	rm -rf "$out/diff-progs" "$out/diff-vm" "$out/diff-host"
	mkdir -p "$out/diff-progs"
	for n in $KWASM_DIFFERENTIAL; do
		cp "$out/$n.wasm" "$out/diff-progs/" || return 1
	done
	cp "$KWASM_SRC/scripts/kwasm-differential.sh" "$out/"
}

# Runs the differential programs under kwasm-run and records, for each,
# whether its output and status match the VM's byte for byte.
kwasm_test_differential() {
	local out=$1 n log="$KWASM_CACHE/log/differential.log"
	if ! cargo_ws build --release --locked -q -p kwasm-host --bin kwasm-run >"$log" 2>&1; then
		record 1 "differential: kwasm-run builds"
		return 0
	fi
	sh "$KWASM_SRC/scripts/kwasm-differential.sh" "$out/diff-progs" "$out/diff-host" \
		"$KWASM_CACHE/target/release/kwasm-run" >>"$log" 2>&1
	for n in $KWASM_DIFFERENTIAL; do
		if [ ! -f "$out/diff-vm/$n.out" ]; then
			record 1 "differential: $n ran in the VM"
		elif cmp -s "$out/diff-vm/$n.out" "$out/diff-host/$n.out"; then
			record 0 "differential: $n: kwasm-run matches the VM (output and status)"
		else
			diff -u "$out/diff-vm/$n.out" "$out/diff-host/$n.out" | head -n 20
			record 1 "differential: $n: kwasm-run matches the VM (output and status)"
		fi
	done
}

# Records every TAP result line of LOG as "PREFIX: name" and sets
# KWASM_TAP_COUNT to how many there were. (Not in a subshell: record()
# appends to KWASM_RESULTS.)
kwasm_record_tap() {
	local prefix=$1 log=$2 line
	KWASM_TAP_COUNT=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*) record 0 "$prefix: ${line#ok * }" ;;
		"not ok "*) record 1 "$prefix: ${line#not ok * }" ;;
		*) continue ;;
		esac
		KWASM_TAP_COUNT=$((KWASM_TAP_COUNT + 1))
	done < <(grep -E '^(not )?ok [0-9]+ ' "$log")
}

# Mitigation modes other than the default boot's (retpolines under TCG):
# lfence instead of retpolines, the return thunk (retbleed=force makes the
# AMD TCG CPU take the untrained-return mitigation), call depth tracking
# (refused), none at all. Compiled code must take each mode's branch form.
# And a CPU without AVX (clearcpuid=avx also clears AVX2 and FMA, and the
# YMM state): the compiler then selects SSE instructions, which the other
# boots (-cpu max has AVX) never run in ring 0. One boot per mode runs
# the tests that compile and run code with indirect calls, br_tables, traps
# and host calls.
KWASM_MODES="spectre_v2=retpoline,lfence retbleed=force retbleed=force,stuff mitigations=off clearcpuid=avx"

kwasm_test_modes() {
	local out=$1 mode log rc tests
	for mode in $KWASM_MODES; do
		say "test: kselftests in the VM booted with $mode"
		log="$KWASM_CACHE/log/kselftest-${mode//[=,]/-}.log"
		rc=0
		tests="./kwasm_branch_test ./kwasm_exec_test ./kwasm_trap_test ./kwasm_wasi_test"
		# Call depth tracking refuses every exec: kwasm_branch_test checks how.
		case "$mode" in *stuff*) tests=./kwasm_branch_test ;; esac
		(cd "$out" && KWASM_VM_CMDLINE="$mode" kwasm_vm 'rc=0
for t in '"$tests"'; do "$t" || rc=1; done
exit $rc') >"$log" 2>&1 || rc=$?
		kwasm_record_tap "kselftest [$mode]" "$log"
		if [ "$KWASM_TAP_COUNT" -eq 0 ] || [ $rc -ne 0 ]; then
			grep -E 'not ok|#  |Oops|BUG|WARNING' "$log" | head -20 || true
			record 1 "kselftest [$mode]: the tests exit 0 and the kernel log is clean"
		fi
	done
}

kwasm_test_sample() {
	local out
	local ok=0
	out=$(cd "$KWASM_SRC" && kwasm_run samples/kwasm/hello.wasm world 2>&1) || ok=1
	[ "$out" = "Hello, world!" ] || ok=1
	[ $ok -eq 0 ] || printf 'expected "Hello, world!" and status 0, got:\n%s\n' "$out"
	record $ok "run: scripts/kwasm run samples/kwasm/hello.wasm world prints Hello, world!"
}

# Kernel style for the kernel-side sources: checkpatch on C and the patch
# series, the kernel's rustfmt settings on the driver's Rust.
kwasm_test_kernel_style() {
	local rc=0 f
	local c_files=("$KWASM_SRC"/drivers/kwasm/*.[chS] "$KWASM_SRC"/tools/testing/selftests/kwasm/*.[ch])
	# YIELD: WASI sched_yield is sched_yield(2), which is what yield() does.
	"$KTREE/scripts/checkpatch.pl" --no-tree --terse --quiet --ignore YIELD -f "${c_files[@]}" || rc=1
	record $rc "checkpatch: drivers/kwasm and selftests C are clean"
	rc=0
	for f in "$KWASM_SRC"/patches/*.patch; do
		"$KTREE/scripts/checkpatch.pl" --no-tree --terse --quiet "$f" || rc=1
	done
	record $rc "checkpatch: patches/ are clean"
	rc=0
	rustfmt --config-path "$KTREE/.rustfmt.toml" --edition 2021 --check \
		"$KWASM_SRC"/drivers/kwasm/*.rs "$KWASM_SRC/rust/kwasm/kernel_alloc.rs" || rc=1
	record $rc "rustfmt: drivers/kwasm is formatted (kernel settings)"
}

# `test --debug`: the kselftests on the debug kernel (configs/kwasm-debug.config,
# its own tree), then a kmemleak scan. Reports fail the run.
kwasm_test_debug() {
	KTREE="$KWASM_CACHE/linux-debug"
	KWASM_EXTRA_CONFIG="$KWASM_SRC/configs/kwasm-debug.config"
	# One boot runs every kselftest under KASAN and TCG, including the
	# fail-nth sweeps (a thousand compiles): 30 minutes ran out a third of
	# the way through on a shared 2-CPU machine.
	export KWASM_VM_TIMEOUT=${KWASM_VM_TIMEOUT:-10800}
	if (kwasm_build); then
		record 0 "debug: the debug kernel builds"
		KWASM_VM_EXTRA='echo scan >/sys/kernel/debug/kmemleak; sleep 5; echo scan >/sys/kernel/debug/kmemleak
leaks=$(grep -c "unreferenced object" /sys/kernel/debug/kmemleak)
echo "kmemleak: $leaks unreferenced objects"; [ "$leaks" = 0 ] || { cat /sys/kernel/debug/kmemleak; rc=1; }' \
			kwasm_test_vm
		KWASM_VM_EXTRA=
		kwasm_test_fuzz_kernel
	else
		record 1 "debug: the debug kernel builds"
	fi
}

kwasm_test() {
	local rc=0
	if [ "${1:-}" = --debug ]; then
		kwasm_test_debug
		kwasm_summary
		return
	fi
	if [ "${1:-}" != --kernel ]; then
		kwasm_test_host
		kwasm_test_lint
		kwasm_test_nostd
		kwasm_test_spec
	fi
	if (kwasm_build); then
		record 0 "build: the kwasm kernel builds"
		kwasm_test_kernel_style
		kwasm_test_vm
		kwasm_test_sample
		kwasm_test_fuzz_kernel
	else
		record 1 "build: the kwasm kernel builds"
	fi
	kwasm_summary
}

kwasm_summary() {
	local pass fail
	pass=$(printf '%s' "$KWASM_RESULTS" | grep -c '^PASS' || true)
	fail=$(printf '%s' "$KWASM_RESULTS" | grep -c '^FAIL' || true)
	if [ "$fail" -gt 0 ]; then
		echo "failed:"
		printf '%s' "$KWASM_RESULTS" | grep '^FAIL' | sed 's/^FAIL /  /'
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# ---------------------------------------------------------------- fuzzing

# The compiler's no-panic (mutated and generated modules) and differential
# (kwasm vs the wasmi interpreter on wasm-smith modules) tests, scaled up.
kwasm_fuzz() {
	local scale=${1:-100}
	say "fuzz: KWASM_FUZZ_SCALE=$scale"
	KWASM_FUZZ_SCALE=$scale cargo_ws test --release --locked -p kwasm-compiler \
		--test no_panic --test differential -- --nocapture
}
