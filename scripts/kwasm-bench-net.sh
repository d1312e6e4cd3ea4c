# SPDX-License-Identifier: GPL-2.0
#
# `scripts/kwasm bench-net [--seconds D]`: network servers in kwasm against
# their native twins, in one boot of the kwasm kernel (sourced by
# scripts/kwasm after kwasm-lib.sh).
#
# In the VM (scripts/kwasm-bench-net-guest.sh), on loopback:
#   echo   samples/kwasm/net/echo_server, driven by echo_client: CONNS
#          connections each sending SIZE bytes and waiting for the echo;
#   http   samples/kwasm/net/http_server, driven by wrk (Debian) with
#          keep-alive and with `Connection: close`;
#   micro  ns per call: a 1-byte fd_write to /dev/null, a 1-byte send on a
#          connected TCP socket (bench_fd_write, bench_send).
# On the host: bench_fd_write natively and under wasmtime (PyPI), because
# wasmtime cannot run in the busybox guest; only their ratio compares.
# Prints tables with kwasm / native ratios. A benchmark, not a test: it
# fails only when something cannot run. --mitigations boots twice, with the
# kernel's default mitigations and with mitigations=off, and prints both.

kwasm_bench_net() {
	local seconds=5 modes=("")
	while [ $# -gt 0 ]; do
		case "$1" in
		--seconds) seconds=$2; shift 2 ;;
		--mitigations) modes=("" "mitigations=off"); shift ;;
		*) die "bench-net: unknown argument $1 (usage: bench-net [--seconds D] [--mitigations])" ;;
		esac
	done
	local dir="$KWASM_CACHE/bench-net"
	command -v wrk >/dev/null || {
		say "bench-net: installing wrk (Debian)"
		logged "$KWASM_CACHE/log/apt.log" apt-get install -y -q wrk
	}
	kwasm_build_net_samples "$dir" || die "bench-net: cannot build samples/kwasm/net"
	kwasm_bundle_wrk "$dir/wrk"
	cp "$KWASM_SRC/scripts/kwasm-bench-net-guest.sh" "$dir/guest.sh"

	say "bench-net: host microbenchmark (native vs wasmtime)"
	local python host_native host_wasmtime
	python=$(KWASM_CACHE="$KWASM_CACHE" "$KWASM_SRC/scripts/kwasm-wasmtime-venv.sh")
	host_native=$("$dir/bench_fd_write" 200000 2>&1 >/dev/null | sed -n 's/^fd_write_ns=//p')
	host_wasmtime=$("$python" "$KWASM_SRC/scripts/kwasm-bench-wasmtime.py" --compile-iters 1 \
		--stdout-file /dev/null "$dir/bench_fd_write.wasm" 200000 2>&1 | sed -n 's/^fd_write_ns=//p')

	local mode log rc
	for mode in "${modes[@]}"; do
		say "bench-net: servers in the VM, ${seconds}s per point (QEMU TCG, ${KWASM_VM_CPUS:-2} vCPUs)${mode:+, $mode}"
		log="$KWASM_CACHE/log/bench-net${mode:+-${mode//[=,]/-}}.log" rc=0
		(cd "$dir" && KWASM_VM_CMDLINE="$mode" KWASM_VM_TIMEOUT=$((seconds * 60 + 600)) \
			kwasm_vm "sh ./guest.sh $seconds") >"$log" 2>&1 || rc=$?
		if [ $rc -ne 0 ] || ! grep -q '^RESULT micro kwasm' "$log"; then
			tail -n 30 "$log" >&2
			die "bench-net: the VM run failed (log: $log)"
		fi
		[ ${#modes[@]} -eq 1 ] || printf '\n## kernel booted with %s\n' "${mode:-its default mitigations}"
		kwasm_bench_net_table "$log" "$host_native" "$host_wasmtime"
	done
}

# Copies wrk and the shared libraries it needs into $1 with a wrapper,
# wrk.sh, that runs it through the bundled dynamic loader (the guest has no
# libraries of its own).
kwasm_bundle_wrk() {
	local out=$1 wrk lib
	wrk=$(command -v wrk)
	rm -rf "$out"
	mkdir -p "$out/root"
	cp "$wrk" "$out/root/wrk"
	for lib in $(ldd "$wrk" | grep -o '/[^ ]*'); do
		cp -L "$lib" "$out/root/"
	done
	cat >"$out/wrk.sh" <<'EOF'
#!/bin/sh
d=$(dirname "$0")/root
exec "$d"/ld-linux-x86-64.so.2 --library-path "$d" "$d/wrk" "$@"
EOF
	chmod +x "$out/wrk.sh"
}

# Tabulates the RESULT lines of the guest log $1; $2/$3 are the host's
# native and wasmtime ns per fd_write.
kwasm_bench_net_table() {
	LC_ALL=C awk -v hn="$2" -v hw="$3" '
	function kv(line, key,   m) {
		if (match(line, key "=[^ ]*")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1)
		return ""
	}
	function ratio(a, b) { return (b > 0) ? sprintf("%.2fx", a / b) : "-" }
	/^RESULT echo / {
		k = kv($0, "conns") " " kv($0, "size")
		if (!(k in seen)) { order[++n] = k; seen[k] = 1 }
		mbs[$3, k] = kv($0, "bytes") / kv($0, "seconds") / 1e6
		rt[$3, k] = kv($0, "roundtrips") / kv($0, "seconds")
	}
	/^RESULT http / {
		k = kv($0, "conns") " " kv($0, "mode")
		if (!(k in hseen)) { horder[++hn2] = k; hseen[k] = 1 }
		rps[$3, k] = kv($0, "rps")
		if ($0 ~ /errors|Non-2xx/) note[$3, k] = 1
	}
	/^RESULT micro / {
		fw[$3] = kv($0, "fd_write_ns"); sd[$3] = kv($0, "send_ns")
	}
	END {
		print ""
		print "echo server (echo_client: each connection sends SIZE bytes and waits for them)"
		printf "%6s %7s %14s %14s %14s %14s %8s\n", "conns", "size", "native rt/s", "kwasm rt/s", "native MB/s", "kwasm MB/s", "kw/nat"
		emin = -1
		for (i = 1; i <= n; i++) {
			split(order[i], p, " ")
			printf "%6s %7s %14.0f %14.0f %14.2f %14.2f %8s\n", p[1], p[2], rt["native", order[i]], rt["kwasm", order[i]], mbs["native", order[i]], mbs["kwasm", order[i]], ratio(rt["kwasm", order[i]], rt["native", order[i]])
			r = rt["native", order[i]] > 0 ? rt["kwasm", order[i]] / rt["native", order[i]] : 0
			if (emin < 0 || r < emin) emin = r
		}
		print ""
		print "HTTP/1.1 server (wrk -t1, GET /, 18-byte body)"
		printf "%6s %10s %14s %14s %8s\n", "conns", "mode", "native req/s", "kwasm req/s", "kw/nat"
		for (i = 1; i <= hn2; i++) {
			split(horder[i], p, " ")
			flag = (note["native", horder[i]] || note["kwasm", horder[i]]) ? "  (wrk reported errors, see log)" : ""
			printf "%6s %10s %14.0f %14.0f %8s%s\n", p[1], p[2], rps["native", horder[i]], rps["kwasm", horder[i]], ratio(rps["kwasm", horder[i]], rps["native", horder[i]]), flag
			if (p[2] != "keepalive") continue
			r = rps["native", horder[i]] > 0 ? rps["kwasm", horder[i]] / rps["native", horder[i]] : 0
			if (hmin == "" || r < hmin) hmin = r
		}
		print ""
		print "one call (ns per call; lower is better)"
		printf "%-40s %10s %10s %8s\n", "in the VM", "native", "kwasm", "nat/kw"
		printf "%-40s %10.1f %10.1f %8s\n", "fd_write 1 byte to /dev/null", fw["native"], fw["kwasm"], ratio(fw["native"], fw["kwasm"])
		printf "%-40s %10.1f %10.1f %8s\n", "send 1 byte on TCP (+1 recv per 512)", sd["native"], sd["kwasm"], ratio(sd["native"], sd["kwasm"])
		printf "%-40s %10s %10s %8s\n", "on the host (no TCG)", "native", "wasmtime", "nat/wt"
		printf "%-40s %10.1f %10.1f %8s\n", "fd_write 1 byte to /dev/null", hn, hw, ratio(hn, hw)
		# Over every size and connection count (ratios > 1: kwasm is faster).
		printf "\nbench-net: echo min kwasm/native %.2f, http keep-alive min kwasm/native %.2f\n", emin, hmin
	}' "$1"
}
