# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# `scripts/kwasm bench-calls [--calls N] [--cpu MODEL] [--profile]`: the cost of one host call against
# one system call, in guest instructions and in TCG time (sourced by
# scripts/kwasm after kwasm-lib.sh).
#
# samples/kwasm/net/bench_calls.rs repeats one operation (an empty clock
# call, a 1-byte write to /dev/null, a 1-byte read from /dev/zero, a 1-byte
# send and recv on a TCP pair, epoll_wait and poll with one ready fd), built
# for kwasm and natively from one source.
#
# Instructions: the VM boots with scripts/kwasm-insn-plugin.c loaded into
# QEMU (built here against the plugin header of Debian's qemu source
# package). The guest (scripts/kwasm-bench-calls-guest.sh) runs each
# program with N and 2N calls between marker instructions, pinned to vCPU
# 1, the only one the plugin counts; the difference, divided by the calls
# it adds, is the cost of one call with start-up and exit cancelled out.
# Timer ticks and interrupts on that vCPU still count: the median of three
# runs is reported. The plugin attributes each instruction to a category
# by address, from System.map (the VM boots with nokaslr): that gives the
# breakdown. The idle loop (the vCPU waiting while the program blocks,
# e.g. on 9p I/O at exec) is shown but left out of the totals.
#
# Time: a second boot without the plugin runs each program once; ns per
# call as the program measures it (TCG: privileged and FPU instructions
# cost more than on hardware, hence the instruction counts). On the host,
# the same program natively and under wasmtime (PyPI) where it can run
# (not the kwasm_net operations).
#
# --cpu picks QEMU's CPU model (default: max, as the tests); the model
# decides which of the kernel's mitigations are on (e.g. EPYC-Milan, like
# this machine's host CPU, turns on SRSO's safe RET and TSA's buffer
# clearing), and the table's header lists them. --profile adds, per
# operation, the symbols the instructions of one
# operation ran in (scripts/kwasm-insn-profile.py).
#
# A benchmark, not a test: it fails only when something cannot run.
# Ends with: bench-calls: fd_write native/kwasm insns X.XX, time Y.YY

KWASM_BENCH_CALLS_OPS="clock write read sendrecv epoll poll"

kwasm_bench_calls() {
	local calls=5000 profile= cpu=${KWASM_VM_CPU_MODEL:-max}
	while [ $# -gt 0 ]; do
		case "$1" in
		--calls) calls=$2; shift 2 ;;
		--cpu) cpu=$2; shift 2 ;;
		--profile) profile=1; shift ;;
		*) die "bench-calls: unknown argument $1 (usage: bench-calls [--calls N] [--cpu MODEL] [--profile])" ;;
		esac
	done
	case "$calls" in '' | *[!0-9]* | 0) die "bench-calls: --calls needs a positive integer" ;; esac
	local dir="$KWASM_CACHE/bench-calls" net="$KWASM_CACHE/bench-net"
	mkdir -p "$dir"
	kwasm_build_net_samples "$net" || die "bench-calls: cannot build samples/kwasm/net"
	cp "$net/bench_calls" "$net/bench_calls.wasm" "$dir/"
	kwasm_insn_plugin "$dir" || die "bench-calls: cannot build the instruction-counting plugin"
	gcc -static -O2 -Wall -o "$dir/kwasm-insn-mark" "$KWASM_SRC/scripts/kwasm-insn-mark.c" ||
		die "bench-calls: cannot build kwasm-insn-mark"
	cp "$KWASM_SRC/scripts/kwasm-bench-calls-guest.sh" "$dir/guest.sh"
	kwasm_insn_map "$KTREE/System.map" >"$dir/insn.map" || die "bench-calls: no System.map in $KTREE"

	local log="$KWASM_CACHE/log/bench-calls.log" counts="$dir/counts.txt" rc=0
	local plugin="$dir/kwasm-insn-plugin.so,out=$counts,map=$dir/insn.map,cpu=1"
	[ -z "$profile" ] || plugin+=",profile=$dir/profile.txt"
	say "bench-calls: instruction counts in the VM ($calls and $((calls * 2)) calls, 3 runs each, CPU model $cpu)"
	rm -f "$counts"
	(cd "$dir" && KWASM_VM_CPU_MODEL=$cpu KWASM_VM_CMDLINE="nokaslr" KWASM_VM_TIMEOUT=3600 \
		KWASM_VM_QEMU_ARGS="-plugin $plugin" \
		kwasm_vm "sh ./guest.sh insns $calls $KWASM_BENCH_CALLS_OPS") >"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || [ "$(grep -c '^MARK ' "$log")" != "$(grep -c '^mark ' "$counts" 2>/dev/null)" ]; then
		tail -n 30 "$log" >&2
		die "bench-calls: the counting run failed (log: $log)"
	fi
	say "bench-calls: time per call in the VM (no plugin)"
	local tlog="$KWASM_CACHE/log/bench-calls-time.log"
	(cd "$dir" && KWASM_VM_CPU_MODEL=$cpu KWASM_VM_TIMEOUT=1800 kwasm_vm "sh ./guest.sh time $((calls * 5)) $KWASM_BENCH_CALLS_OPS") \
		>"$tlog" 2>&1 || {
		tail -n 30 "$tlog" >&2
		die "bench-calls: the timing run failed (log: $tlog)"
	}
	say "bench-calls: on the host (native, wasmtime)"
	local python op host=()
	python=$(KWASM_CACHE="$KWASM_CACHE" "$KWASM_SRC/scripts/kwasm-wasmtime-venv.sh")
	for op in $KWASM_BENCH_CALLS_OPS; do
		host+=("HOST $op native $("$dir/bench_calls" "$op" $((calls * 10)) 2>&1 </dev/zero >/dev/null |
			sed -n "s/^${op}_ns=//p")")
		case "$op" in sendrecv | epoll) continue ;; esac
		host+=("HOST $op wasmtime $("$python" "$KWASM_SRC/scripts/kwasm-bench-wasmtime.py" --compile-iters 1 \
			--stdout-file /dev/null --stdin-file /dev/zero --trap-unknown-imports \
			"$dir/bench_calls.wasm" "$op" $((calls * 10)) 2>&1 | sed -n "s/^${op}_ns=//p")")
	done
	{
		echo "CPU $cpu"
		grep '^VULN ' "$log"
		paste -d' ' <(grep '^MARK ' "$log") <(grep '^mark ' "$counts")
		grep '^TIME ' "$tlog"
		printf '%s\n' "${host[@]}"
	} >"$dir/results.txt"
	if [ -n "$profile" ]; then
		printf '\nprofile: instructions per operation by symbol (first run)\n'
		python3 "$KWASM_SRC/scripts/kwasm-insn-profile.py" "$KTREE/System.map" "$dir/profile.txt" \
			"$dir/results.txt" 30
	fi
	kwasm_bench_calls_table "$dir/results.txt"
}

# Builds $1/kwasm-insn-plugin.so. The header comes from Debian's qemu
# source package (a deb-src entry is added if there is none), matching the
# installed QEMU; it is kept in $KWASM_CACHE/qemu-plugin.
kwasm_insn_plugin() {
	local out=$1 hdir="$KWASM_CACHE/qemu-plugin" log="$KWASM_CACHE/log/qemu-plugin.log"
	local src="$KWASM_SRC/scripts/kwasm-insn-plugin.c"
	if [ ! -f "$hdir/qemu-plugin.h" ]; then
		say "bench-calls: fetching the QEMU plugin header (apt-get source qemu)"
		kwasm_deb_src || return 1
		local ver tmp
		ver=$(dpkg-query -W -f '${source:Version}' qemu-system-x86 2>/dev/null) || ver=
		tmp=$(mktemp -d)
		(cd "$tmp" && chown _apt: . 2>/dev/null; apt-get source --download-only -q "qemu${ver:+=$ver}" ||
			apt-get source --download-only -q qemu) >>"$log" 2>&1 || {
			tail -n 20 "$log" >&2
			rm -rf "$tmp"
			return 1
		}
		mkdir -p "$hdir"
		tar -xf "$tmp"/qemu_*.orig.tar.* -C "$tmp" --wildcards '*/include/qemu/qemu-plugin.h' &&
			cp "$tmp"/*/include/qemu/qemu-plugin.h "$hdir/" || {
			rm -rf "$tmp"
			return 1
		}
		rm -rf "$tmp"
	fi
	gcc -shared -fPIC -O2 -Wall -Werror -I"$hdir" -o "$out/kwasm-insn-plugin.so" "$src" -lpthread
}

# Adds deb-src entries for the installed Debian release if apt has none.
kwasm_deb_src() {
	"$KWASM_SRC/scripts/kwasm-deb-src.sh" "$KWASM_CACHE/log/apt.log"
}

# kwasm_insn_map SYSTEM_MAP: the plugin's category map. Kernel text
# symbols by name: kwasm's stack switch and branch-history clearing
# ("entry"), the FPU section around host calls ("fpu"), the return and
# indirect-branch thunks of the kernel's mitigations ("thunks"), syscall
# entry and exit ("syscall"), seccomp and audit ("policy"), the idle loop
# ("idle", not counted in totals), kwasm's own C
# and Rust code, decoding and WASI ("kwasm"), the rest ("kernel"); and
# module space, where compiled wasm code lives ("wasm").
kwasm_insn_map() {
	[ -f "$1" ] || return 1
	LC_ALL=C awk '
	function cat(name) {
		if (name ~ /^(kwasm_hostcall_entry|kwasm_enter|kwasm_unwind|kwasm_trap_landing|clear_bhb_loop)$/) return "entry"
		if (name ~ /^(kwasm_hostcall_begin|kwasm_hostcall_end|kernel_fpu_begin_mask|kernel_fpu_end|__local_bh_enable_ip|local_bh_enable|__local_bh_disable_ip)$/ || name ~ /fpregs|fpu__|xsave|xrstor/) return "fpu"
		if (name ~ /^(__x86_indirect_thunk|__x86_indirect_call_thunk|__x86_indirect_jump_thunk|__x86_return_thunk|__x86_return_skl|retbleed_|srso_|entry_untrain_ret|entry_ibpb|__x86_call_depth|call_depth_return_thunk)/) return "thunks"
		if (name ~ /^(entry_SYSCALL_64|do_syscall_64|x64_sys_call|syscall_exit_to_user_mode|exit_to_user_mode|syscall_exit_work|syscall_enter_from_user_mode|__x64_sys_)/) return "syscall"
		if (name ~ /^(do_idle|cpu_idle_poll|default_idle|default_idle_call|arch_cpu_idle|arch_cpu_idle_enter|arch_cpu_idle_exit|poll_idle|cpuidle_|mwait_idle|amd_e400_idle|cpu_startup_entry|play_idle)/) return "idle"
		if (name ~ /seccomp|^__audit|^audit|^kwasm_syscall_enter$|^kwasm_audit_exit$/) return "policy"
		if (name ~ /kwasm/) return "kwasm"
		return "kernel"
	}
	BEGIN { n = 0 }
	$2 ~ /^[tTwW]$/ { addr[n] = $1; name[n] = $3; n++ }
	END {
		for (i = 0; i + 1 < n; i++) {
			c = cat(name[i])
			if (c == prev && addr[i] == end) { end = addr[i + 1]; continue }
			if (prev != "") print start, end, prev
			start = addr[i]; end = addr[i + 1]; prev = c
		}
		if (prev != "") print start, end, prev
		# Module space (MODULES_VADDR to MODULES_END without KASLR): the
		# execmem allocations that hold compiled wasm code.
		print "ffffffffa0000000", "ffffffffff000000", "wasm"
	}' "$1"
}

# Tabulates $1 (MARK/TIME/HOST lines, see kwasm_bench_calls).
kwasm_bench_calls_table() {
	LC_ALL=C awk '
	function median3(a, b, c) {
		if ((a <= b && b <= c) || (c <= b && b <= a)) return b
		if ((b <= a && a <= c) || (c <= a && a <= b)) return a
		return c
	}
	function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
	/^MARK / {
		op = $2; impl = $3; rep = $4; n = $5
		if (!(op in seen)) { ops[++nops] = op; seen[op] = 1 }
		total[op, impl, rep, n] = $9
		for (i = 10; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "idle") total[op, impl, rep, n] -= kv[2]
			if (!(kv[1] in cseen)) { cats[++ncats] = kv[1]; cseen[kv[1]] = 1 }
			part[op, impl, rep, n, kv[1]] = kv[2]
		}
		if (rep == 1 && (small[op, impl] == "" || n < small[op, impl])) small[op, impl] = n
		if (n > big[op, impl]) big[op, impl] = n
	}
	/^CPU / { cpu = $2 }
	/^VULN / { sub(/^VULN /, ""); vuln = vuln "\n  " $0 }
	/^TIME / { tns[$2, $3] = $4 }
	/^HOST / { hns[$2, $3] = $4 }
	# Instructions per operation (bench_calls runs 3 rounds of N).
	function per(op, impl, rep,   s, b) {
		s = small[op, impl]; b = big[op, impl]
		return (total[op, impl, rep, b] - total[op, impl, rep, s]) / (3 * (b - s))
	}
	function percat(op, impl, c,   r, s, b, v) {
		s = small[op, impl]; b = big[op, impl]
		for (r = 1; r <= 3; r++) v[r] = (part[op, impl, r, b, c] - part[op, impl, r, s, c]) / (3 * (b - s))
		return median3(v[1], v[2], v[3])
	}
	END {
		label["clock"] = "empty call (clock_time_get)"
		label["write"] = "fd_write 1 B to /dev/null"
		label["read"] = "fd_read 1 B from /dev/zero"
		label["sendrecv"] = "send + recv 1 B, TCP pair"
		label["epoll"] = "epoll_wait, 1 ready"
		label["poll"] = "poll_oneoff, 1 ready fd"
		print ""
		print "QEMU CPU model " cpu "; mitigations in the guest kernel:" vuln
		print ""
		print "one operation: guest instructions (median of 3) and TCG ns"
		printf "%-29s %9s %9s %6s %9s %9s %6s %9s %9s\n", "", "nat insn", "kw insn", "nat/kw", "nat ns", "kw ns", "nat/kw", "host ns", "wasmtime"
		for (i = 1; i <= nops; i++) {
			op = ops[i]
			for (r = 1; r <= 3; r++) { pn[r] = per(op, "native", r); pk[r] = per(op, "kwasm", r) }
			in_n[op] = median3(pn[1], pn[2], pn[3]); in_k[op] = median3(pk[1], pk[2], pk[3])
			printf "%-29s %9.0f %9.0f %6s %9.0f %9.0f %6s %9s %9s\n", label[op], in_n[op], in_k[op], ratio(in_n[op], in_k[op]),
				tns[op, "native"], tns[op, "kwasm"], ratio(tns[op, "native"], tns[op, "kwasm"]),
				hns[op, "native"] == "" ? "-" : hns[op, "native"], hns[op, "wasmtime"] == "" ? "-" : hns[op, "wasmtime"]
			spread[op] = sprintf("kwasm [%.0f %.0f %.0f] native [%.0f %.0f %.0f]", pk[1], pk[2], pk[3], pn[1], pn[2], pn[3])
		}
		print ""
		print "runs: instructions per operation in each of the three runs"
		for (i = 1; i <= nops; i++) printf "  %-10s %s\n", ops[i], spread[ops[i]]
		print ""
		print "where the instructions of one operation go (median of 3)"
		printf "%-10s %-6s", "op", "impl"
		for (c = 1; c <= ncats; c++) printf " %8s", cats[c]
		printf "\n"
		for (i = 1; i <= nops; i++) {
			for (j = 0; j < 2; j++) {
				impl = j ? "native" : "kwasm"
				printf "%-10s %-6s", ops[i], impl
				for (c = 1; c <= ncats; c++) printf " %8.0f", percat(ops[i], impl, cats[c])
				printf "\n"
			}
		}
		printf "\nbench-calls: fd_write native/kwasm insns %s, time %s\n", ratio(in_n["write"], in_k["write"]), ratio(tns["write", "native"], tns["write", "kwasm"])
	}' "$1"
}
