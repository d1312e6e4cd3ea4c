#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `scripts/kwasm fuzz-kernel`: runs in the VM (busybox sh,
# as root) in the corpus directory written by kwasm-fuzzgen, which also holds
# the exec harness kwasm-fuzz-exec (scripts/kwasm-fuzz-exec.c).
# Usage: kwasm-fuzz-kernel-guest.sh [TIMEOUT [JOBS]]
#
# Execs control.wasm (it must exit 0, or the harness is broken) and
# control-spin.wasm (the timeout must kill it), then every gen-*.wasm and
# mut-*.wasm, each with TIMEOUT seconds (default 5) from fork to exit, stdio
# on /dev/null, and a scratch tmpfs as its working directory; every fourth
# one also under RLIMIT_AS = 256 MiB. JOBS workers (default: one per CPU)
# take every JOBS-th module each, as a user of their own (uid/gid 65534 - W,
# so that kwasm's per-user shares let them compile at once) with a tmpfs of
# their own. Each appends "NAME OUTCOME ms=N" to results.txt (the module a
# worker runs is in ./current.W meanwhile, for the host if the VM dies).
# Then: a table of the outcomes, the slowest modules, kwasm's resource counters (which must be
# back to zero), a kmemleak scan if the kernel has kmemleak, and a scan of
# the kernel log for reports. The last line is "fuzz-kernel: N modules, R
# kernel reports"; the exit status is non-zero if R > 0 or anything else
# went wrong.
#
# KWASM_FUZZ_KLOG=dmesg reads only dmesg at the end instead of following
# /proc/kmsg (to try this script outside the VM).

T=${1:-5}
jobs=${2:-$(grep -c '^processor' /proc/cpuinfo)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
dir=$(pwd)
exe=$dir/kwasm-fuzz-exec
results=$dir/results.txt
tmp=/tmp/fuzz-kernel
start=$(date +%s)
status=0

# The programs' "." (the WASI preopen), one per worker: small, so that no
# program can fill the VM's memory with files.
w=0
while [ $w -lt "$jobs" ]; do
	mkdir -p "$tmp/sandbox.$w" || exit 1
	mount -t tmpfs -o size=16m,mode=1777 fuzz-sandbox "$tmp/sandbox.$w" || exit 1
	w=$((w + 1))
done
sandbox=$tmp/sandbox.0
klog_pid=
cleanup() {
	[ -z "$klog_pid" ] || kill "$klog_pid" 2>/dev/null
	for d in "$tmp"/sandbox.*; do
		umount "$d" 2>/dev/null
	done
}
trap cleanup EXIT

# kwasm's counters and kmemleak live in debugfs (kwasm-init.sh may have
# mounted it already).
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# The kernel log, as it comes: the ring buffer can wrap in a long run.
if [ "${KWASM_FUZZ_KLOG:-kmsg}" = kmsg ]; then
	cat /proc/kmsg >"$tmp/kmsg" 2>/dev/null &
	klog_pid=$!
fi
kmemleak=/sys/kernel/debug/kmemleak
[ -w "$kmemleak" ] && echo clear 2>/dev/null >"$kmemleak"

r=$("$exe" -t 60 -d "$sandbox" "$dir/control.wasm")
case "$r" in
"exit 0 "*) ;;
*)
	echo "fuzz-kernel: control.wasm (an empty _start) ended with '$r'," \
		"not 'exit 0': the harness is broken" >&2
	exit 1
	;;
esac
# The kill path, every run: an endless loop must die of the timeout's SIGKILL.
r=$("$exe" -t 2 -d "$sandbox" "$dir/control-spin.wasm")
case "$r" in
"timeout "*) ;;
*)
	echo "fuzz-kernel: control-spin.wasm (an endless loop) ended with" \
		"'$r', not 'timeout'" >&2
	status=1
	;;
esac

: >"$results"
# worker W: every module whose position in the list is W modulo $jobs; its
# lines go to results.W, its problems to fail.W.
worker() {
	wid=$1 i=0 sb=$tmp/sandbox.$1
	: >"$results.$wid"
	for f in "$dir"/gen-*.wasm "$dir"/mut-*.wasm; do
		[ -e "$f" ] || continue
		i=$((i + 1))
		[ $(((i - 1) % jobs)) -eq "$wid" ] || continue
		name=${f##*/}
		lim=
		[ $((i % 4)) -eq 0 ] && lim="-m 256"
		echo "$name" >"$dir/current.$wid"
		rm -rf "$sb"/* "$sb"/.[!.]* 2>/dev/null
		# shellcheck disable=SC2086
		r=$("$exe" -t "$T" -u $((65534 - wid)) -d "$sb" $lim "$f")
		rc=$?
		[ -n "$r" ] || r="harness status $rc"
		echo "$name $r" >>"$results.$wid"
		case "$r" in
		stuck*)
			echo "fuzz-kernel: $name: still alive 30 s after SIGKILL" >&2
			: >"$dir/fail.$wid"
			;;
		harness*)
			echo "fuzz-kernel: $name: $r" >&2
			: >"$dir/fail.$wid"
			;;
		esac
	done
	rm -f "$dir/current.$wid"
}
rm -f "$dir"/fail.* "$dir"/current.*
w=0
pids=
while [ $w -lt "$jobs" ]; do
	worker $w &
	pids="$pids $!"
	w=$((w + 1))
done
# shellcheck disable=SC2086
wait $pids
w=0
while [ $w -lt "$jobs" ]; do
	cat "$results.$w" >>"$results"
	rm -f "$results.$w"
	[ ! -e "$dir/fail.$w" ] || status=1
	rm -f "$dir/fail.$w"
	w=$((w + 1))
done
sort -o "$results" "$results"
n=$(wc -l <"$results")
echo "fuzz-kernel: $n modules in $(($(date +%s) - start)) s, ${T} s timeout each, $jobs workers"

# The table: one row per outcome, generated and mutated modules apart.
awk '
BEGIN {
	split("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM " \
	      "TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM " \
	      "PROF WINCH IO PWR SYS", sig, " ")
}
function signame(n) {
	return (n in sig) ? "SIG" sig[n] : "signal " n
}
{
	col = ($1 ~ /^gen-/) ? 1 : 2
	if ($2 == "exec" && $3 == "ENOEXEC") {
		k = "1|exec refused: ENOEXEC"
	} else if ($2 == "exec" && $3 == "ENOMEM") {
		k = "2|exec refused: ENOMEM"
	} else if ($2 == "exec") {
		k = "3|exec refused: " $3
	} else if ($2 == "exit" && $3 == 0) {
		k = "4|exited: status 0"
	} else if ($2 == "exit") {
		k = "5|exited: status 1-255"
	} else if ($2 == "signal") {
		k = sprintf("6%02d|killed by signal %d (%s)%s", $3, $3, signame($3), $4 == "core" ? ", core" : "")
	} else if ($2 == "timeout") {
		k = "7|timed out (SIGKILL)"
	} else if ($2 == "stuck") {
		k = "8|stuck after SIGKILL"
	} else {
		k = "9|harness error"
	}
	c[k "|" col]++
	keys[k] = 1
	tot[col]++
}
END {
	for (k in keys)
		printf "%s|%d|%d\n", k, c[k "|1"], c[k "|2"]
	printf "99|total|%d|%d\n", tot[1], tot[2]
}' "$results" | sort -t'|' -k1,1 | awk -F'|' '
BEGIN { printf "%-36s %9s %9s %9s\n", "outcome", "generated", "mutated", "total" }
{ printf "%-36s %9d %9d %9d\n", $2, $3, $4, $3 + $4 }'

echo "slowest (ms from fork to exit):"
sed -n 's/^\([^ ]*\) \(.*\) ms=\([0-9]*\)$/\3 \1 \2/p' "$results" | sort -rn | head -n 5 |
	awk '{ printf "  %6d %s", $1, $2; $1 = $2 = ""; print " (" substr($0, 3) ")" }'

# kwasm's counters: with every program gone, nothing may remain charged.
for f in memory code compile; do
	s=/sys/kernel/debug/kwasm/$f
	[ -r "$s" ] || continue
	left=
	for i in 1 2 3 4 5; do
		left=$(awk -v f="$f" '
			(f == "memory" && ($1 == "bytes" || $1 == "memories") && $2 != 0) ||
			(f == "code" && $1 == "bytes" && $2 != 0) ||
			(f == "compile" && $1 == "running" && $2 != 0) { printf "%s %s ", $1, $2 }' "$s")
		[ -z "$left" ] && break
		sleep 1
	done
	echo "fuzz-kernel: kwasm/$f: $(tr '\n' ' ' <"$s")"
	if [ -n "$left" ]; then
		echo "fuzz-kernel: kwasm/$f not back to zero with no program running: $left" >&2
		status=1
	fi
done

leaks=0
if [ -w "$kmemleak" ]; then
	echo scan >"$kmemleak"
	sleep 5
	echo scan >"$kmemleak"
	leaks=$(grep -c "unreferenced object" "$kmemleak")
	echo "fuzz-kernel: kmemleak: $leaks unreferenced objects"
	[ "$leaks" = 0 ] || head -n 100 "$kmemleak" >&2
fi

# Kernel reports: a header line (oops, BUG, WARN, lockdep, KASAN, UBSAN,
# kmemleak, panic, lockups, stalls), or a call trace with none before it.
# kwasm's own lines about the corpus ("kwasm: FILE.wasm: trap: ...") are
# skipped: their reasons may quote names from the modules.
sleep 1
[ -z "$klog_pid" ] || kill "$klog_pid" 2>/dev/null
klog_pid=
dmesg >"$tmp/dmesg" 2>/dev/null
# count_reports FILE [list]: the number of reports in FILE, or with "list"
# the lines that count. (The hardware-vulnerability notes at boot have a
# "WARNING: See https://..." in them and are no report.)
count_reports() {
	awk -v list="${2:-}" '
	/kwasm: [^ ]*\.wasm: |WARNING: See https:/ { next }
	/not a trap site|Oops|BUG:|kernel BUG at|WARNING:|Kernel panic|KASAN|UBSAN|kmemleak: [0-9]+ new suspected|possible circular|circular locking|possible recursive locking|inconsistent lock|general protection fault|Unable to handle|soft lockup|hard LOCKUP|blocked for more than|rcu_.*stall|rcu: INFO|panicked at|stack-protector|refcount_t:|list_add corruption|list_del corruption/ {
		n++; last = NR; if (list) print; next
	}
	/Call Trace:/ {
		if (!last || NR - last > 100) { n++; if (list) print }
		last = NR
	}
	END { if (!list) print n + 0 }' "$1"
}
# The capture has it all (unless it missed the start): take the larger.
log=$tmp/dmesg
if [ -s "$tmp/kmsg" ] && [ "$(count_reports "$tmp/kmsg")" -gt "$(count_reports "$log")" ]; then
	log=$tmp/kmsg
fi
reports=$(count_reports "$log")
if [ "$reports" -gt 0 ]; then
	echo "fuzz-kernel: kernel reports:" >&2
	count_reports "$log" list | head -n 50 >&2
fi
reports=$((reports + leaks))
[ "$reports" -eq 0 ] || status=1
echo "fuzz-kernel: $n modules, $reports kernel reports"
exit $status
