#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reference results of the kwasm WASI conformance programs, from wasmtime.

    kwasm-wasi-reference.py OUT_DIR PROG.wasm...

The programs in tools/testing/selftests/kwasm/progs/wasi_*.rs exercise every
wasi_snapshot_preview1 function and print only what any conformant runtime
must print alike. This runs each of them under wasmtime (the `wasmtime`
package from PyPI, 50.0.1) in the environment the kwasm selftest gives them:

  - argv: the program's file name, "alpha", "beta gamma";
  - environment: KWASM_TEST=1, GREETING=hello world (in this order);
  - stdin: a file holding "line one\\nline two\\n";
  - one preopened directory, ".", fresh and empty (fd 3).

and writes OUT_DIR/NAME.expected (NAME: the file name without ".wasm"):

    status N            exit status as a shell sees it: 0 when _start
                        returns, the proc_exit code otherwise, or `trap`
    --- stdout
    <stdout bytes>
    --- stderr
    <stderr bytes>

so kwasm's output can be compared byte for byte. The exit status is
non-zero if any program could not be run (not compiled or instantiated).
"""

import os
import sys
import tempfile

import wasmtime

ARGS = ["alpha", "beta gamma"]
ENV = [("KWASM_TEST", "1"), ("GREETING", "hello world")]
STDIN = b"line one\nline two\n"


def run(engine, linker, wasm_path, tmp):
    """Runs one program; returns (status, stdout, stderr).

    status is an int, or "trap" when _start ends in a trap rather than by
    returning or calling proc_exit. Errors before _start runs propagate.
    """
    module = wasmtime.Module.from_file(engine, wasm_path)

    preopen = os.path.join(tmp, "preopen")
    os.mkdir(preopen)
    stdin_path = os.path.join(tmp, "stdin")
    out_path = os.path.join(tmp, "stdout")
    err_path = os.path.join(tmp, "stderr")
    with open(stdin_path, "wb") as f:
        f.write(STDIN)

    wasi = wasmtime.WasiConfig()
    wasi.argv = [os.path.basename(wasm_path)] + ARGS
    wasi.env = ENV
    wasi.stdin_file = stdin_path
    wasi.stdout_file = out_path
    wasi.stderr_file = err_path
    wasi.preopen_dir(preopen, ".")

    store = wasmtime.Store(engine)
    store.set_wasi(wasi)
    inst = linker.instantiate(store, module)
    start = inst.exports(store)["_start"]
    status = 0
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        status = e.code
    except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
        # Also host errors that end the program, such as proc_exit(126).
        print(f"{wasm_path}: {e}", file=sys.stderr)
        status = "trap"
    # The store owns the WASI context, which holds the output files open.
    del start, inst, store

    with open(out_path, "rb") as f:
        out = f.read()
    with open(err_path, "rb") as f:
        err = f.read()
    return status, out, err


def main():
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR PROG.wasm...")
    out_dir, progs = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()

    failed = 0
    for wasm_path in progs:
        name = os.path.basename(wasm_path)
        if name.endswith(".wasm"):
            name = name[: -len(".wasm")]
        try:
            with tempfile.TemporaryDirectory(prefix="kwasm-wasi-") as tmp:
                status, out, err = run(engine, linker, wasm_path, tmp)
        except (OSError, wasmtime.WasmtimeError) as e:
            print(f"{wasm_path}: could not run: {e}", file=sys.stderr)
            failed += 1
            continue
        with open(os.path.join(out_dir, name + ".expected"), "wb") as f:
            f.write(f"status {status}\n--- stdout\n".encode())
            f.write(out)
            f.write(b"--- stderr\n")
            f.write(err)
    if failed:
        sys.exit(f"{failed} of {len(progs)} programs could not be run")


if __name__ == "__main__":
    main()
