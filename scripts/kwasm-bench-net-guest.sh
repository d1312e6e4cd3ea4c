#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `scripts/kwasm bench-net`: runs in the VM (busybox sh),
# in a directory holding the samples built by kwasm_build_net_samples and a
# wrk bundle. Usage: kwasm-bench-net-guest.sh SECONDS
#
# Starts each server twice, as a kwasm program and as its native twin, both
# at once (an idle server sleeps in epoll_wait), and drives them one after
# the other for each load point so that drift hits both alike. Prints one
# "RESULT ..." line per measurement for the host to tabulate.

D=${1:-5}
WRK="./wrk/wrk.sh"

# start NAME IMPL: starts ./NAME (native) or ./NAME.wasm (kwasm) on a free
# loopback port; prints "PID PORT" once it listens.
start() {
	bin=./$1
	[ "$2" = kwasm ] && bin=./$1.wasm
	out=/tmp/$1.$2.out
	"$bin" 127.0.0.1:0 >"$out" 2>/tmp/$1.$2.err &
	pid=$!
	i=0
	until grep -q '^listening on' "$out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 3000 ] || ! kill -0 $pid 2>/dev/null; then
			echo "bench-net: $1 ($2) did not start: $(cat /tmp/$1.$2.err)" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "$pid $(sed -n 's/.*:\([0-9][0-9]*\)$/\1/p' "$out")"
}

set -- $(start echo_server native)
EN_PID=$1 EN_PORT=$2
set -- $(start echo_server kwasm)
EK_PID=$1 EK_PORT=$2
[ -n "$EK_PORT" ] && [ -n "$EN_PORT" ] || exit 1
for port in $EN_PORT $EK_PORT; do
	./echo_client 127.0.0.1:$port 4 64 1 >/dev/null || exit 1
done
for conns in 1 16 64; do
	for size in 64 4096 65536; do
		echo "RESULT echo native $(./echo_client 127.0.0.1:$EN_PORT $conns $size $D)"
		echo "RESULT echo kwasm $(./echo_client 127.0.0.1:$EK_PORT $conns $size $D)"
	done
done
kill $EN_PID $EK_PID
wait

set -- $(start http_server native)
HN_PID=$1 HN_PORT=$2
set -- $(start http_server kwasm)
HK_PID=$1 HK_PORT=$2
[ -n "$HN_PORT" ] && [ -n "$HK_PORT" ] || exit 1
# wrk: requests/s, plus any socket errors or non-2xx answers (none expected).
wrk_run() {
	impl=$1 port=$2 conns=$3 mode=$4
	hdr=""
	[ "$mode" = close ] && hdr="Connection: close"
	out=$($WRK -t1 -c"$conns" -d"${D}s" ${hdr:+-H "$hdr"} "http://127.0.0.1:$port/" 2>&1)
	rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
	errs=$(echo "$out" | grep -E 'Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ' ')
	echo "RESULT http $impl conns=$conns mode=$mode rps=${rps:-0} $errs"
	[ -n "$rps" ] || echo "$out" >&2
}
for port in $HN_PORT $HK_PORT; do
	$WRK -t1 -c1 -d1s "http://127.0.0.1:$port/" >/dev/null 2>&1
done
for point in "1 keepalive" "16 keepalive" "64 keepalive" "16 close"; do
	set -- $point
	wrk_run native $HN_PORT "$1" "$2"
	wrk_run kwasm $HK_PORT "$1" "$2"
done
kill $HN_PID $HK_PID
wait

# One call vs one system call.
for impl in native kwasm; do
	ext=""
	[ $impl = kwasm ] && ext=.wasm
	w=$(./bench_fd_write$ext 200000 2>&1 >/dev/null)
	s=$(./bench_send$ext 100000 2>&1)
	echo "RESULT micro $impl $w $s"
done
exit 0
