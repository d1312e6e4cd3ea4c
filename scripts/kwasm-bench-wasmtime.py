#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Wasmtime side of scripts/kwasm-bench-codegen.sh.

    kwasm-bench-wasmtime.py [--compile-iters N] [--runs R] [--stdout-file F]
                            [--stdin-file F] [--trap-unknown-imports]
                            [--epoch-interruption] prog.wasm [args...]

Measures what kwasm-bench measures for kwasm, with the `wasmtime` package
from PyPI: the best of N single-threaded compiles of the module, and the best
of R runs of instantiation plus `_start` (a fresh store each run, WASI with
the given argv). The guest's stdout of the first run goes to stdout (or, with
--stdout-file, to that file, e.g. /dev/null; --stdin-file gives its stdin),
the timings to stderr as one
`wasmtime-bench:` line of key=value pairs.

--epoch-interruption compiles with wasmtime's way to stop a running
program (a check of the engine's epoch at every function entry and loop
header, with a deadline that never comes here), the counterpart of kwasm's
safepoint polls, which wasmtime does not emit by default.
"""

import argparse
import os
import sys
import tempfile
import time

import wasmtime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compile-iters", type=int, default=5)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--stdout-file")
    ap.add_argument("--stdin-file")
    ap.add_argument("--trap-unknown-imports", action="store_true")
    ap.add_argument("--epoch-interruption", action="store_true")
    ap.add_argument("wasm")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.compile_iters < 1 or a.runs < 1:
        ap.error("--compile-iters and --runs must be positive")

    with open(a.wasm, "rb") as f:
        wasm = f.read()
    config = wasmtime.Config()
    # kwasm compiles on one thread; so does wasmtime here, to compare like
    # with like. Cranelift's opt level is "speed" in both.
    config.parallel_compilation = False
    config.epoch_interruption = a.epoch_interruption
    engine = wasmtime.Engine(config)

    compile_best = float("inf")
    module = None
    for _ in range(a.compile_iters):
        t = time.perf_counter()
        module = wasmtime.Module(engine, wasm)
        compile_best = min(compile_best, time.perf_counter() - t)

    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    if a.trap_unknown_imports:
        # For a program that imports, but in this run never calls, functions
        # only kwasm provides (kwasm_net): calling one traps.
        linker.define_unknown_imports_as_traps(module)
    run_best = float("inf")
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        out_path = a.stdout_file or os.path.join(tmp, "stdout")
        for run in range(a.runs):
            wasi = wasmtime.WasiConfig()
            wasi.argv = [a.wasm] + a.args
            wasi.stdout_file = out_path
            if a.stdin_file:
                wasi.stdin_file = a.stdin_file
            wasi.inherit_stderr()
            store = wasmtime.Store(engine)
            if a.epoch_interruption:
                store.set_epoch_deadline(1 << 62)
            store.set_wasi(wasi)
            status, inst = 0, None
            t = time.perf_counter()
            try:
                inst = linker.instantiate(store, module)
                inst.exports(store)["_start"](store)
            except wasmtime.ExitTrap as e:
                status = e.code
            elapsed = time.perf_counter() - t
            if status != 0:
                sys.exit(f"wasmtime-bench: {a.wasm}: run {run}: exit status {status}")
            run_best = min(run_best, elapsed)
            # The store owns the WASI context that holds the file open.
            del inst, store
            with open(out_path, "rb") as f:
                out = f.read()
            if first is None:
                first = out
            elif out != first:
                sys.exit(f"wasmtime-bench: {a.wasm}: run {run} printed something else")

    sys.stdout.buffer.write(first)
    sys.stdout.flush()
    print(
        f"wasmtime-bench: bytes={len(wasm)} compile_iters={a.compile_iters} "
        f"compile_best_s={compile_best:.6f} "
        f"compile_mb_s={len(wasm) / 1e6 / compile_best:.3f} "
        f"runs={a.runs} run_best_s={run_best:.6f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
