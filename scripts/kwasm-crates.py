#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn `cargo check -vv` output into Kbuild rules for the kwasm crate graph.

cargo resolves the pinned graph (Cargo.lock, vendored sources) and runs the
build scripts on the host; this script keeps what each crate needs to build
(source, edition, cfgs, dependencies, build-script output) and writes:

  crates.mk   rules included by rust/Makefile: one rustc invocation per crate,
              with the kernel's flags, target and `core`
  externs.mk  KWASM_EXTERNS for drivers/kwasm

`core` comes from the kernel. rust-src's `compiler_builtins` is built as the
ordinary crate `kwasm_builtins` (no `#![compiler_builtins]`, no mem*
functions): it only supplies the soft-float and 128-bit routines that the
kernel lacks.
"""

import argparse
import filecmp
import os
import re
import shlex
import shutil
import sys

# Env set by cargo that a build needs no copy of (host paths, free text);
# everything else, including what build scripts set with cargo:rustc-env
# (e.g. cranelift-codegen's ISLE_DIR), is passed on.
DROP_ENV = re.compile(r"^(CARGO|CARGO_MAKEFLAGS|CARGO_PRIMARY_PACKAGE|CARGO_MANIFEST_PATH|"
                      r"CARGO_PKG_(AUTHORS|DESCRIPTION|HOMEPAGE|LICENSE|LICENSE_FILE|README|REPOSITORY|RUST_VERSION)|"
                      r"LD_LIBRARY_PATH|RUSTC[A-Z_]*|CARGO_ENCODED_RUSTFLAGS|CARGO_RUSTC_CURRENT_DIR|CARGO_TARGET_TMPDIR)$")
DROP_BUILTINS_CFGS = {
    'feature="compiler-builtins"',
    'feature="mem"',
    'feature="mem-unaligned"',
    'feature="rustc-dep-of-std"',
}
# Crates the driver links against directly.
DRIVER_CRATES = ("kwasm_abi", "kwasm_compiler", "kwasm_runtime", "kwasm_wasi", "alloc")


def sync_tree(src, dst):
    """Copies src over dst, leaving identical files (and their mtimes) alone
    so that make does not rebuild what includes them."""
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in files:
            a, b = os.path.join(root, f), os.path.join(dst, rel, f)
            if not (os.path.exists(b) and filecmp.cmp(a, b, shallow=False)):
                shutil.copyfile(a, b)


def parse_invocations(log):
    # Env values (package descriptions) may span lines.
    for m in re.finditer(r"^\s*Running `(.*?)`$", log, re.S | re.M):
        words = shlex.split(m.group(1))
        env = {}
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            k, v = words.pop(0).split("=", 1)
            env[k] = v
        if not words or not os.path.basename(words[0]).startswith("rustc"):
            continue
        yield env, words[1:]


def parse_crate(env, args):
    c = {"cfgs": [], "externs": [], "env": {}, "edition": "2015"}
    it = iter(range(len(args)))
    i = 0
    target = None
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a == "--crate-name":
            c["name"] = nxt
            i += 2
            continue
        if a.startswith("--edition="):
            c["edition"] = a.split("=", 1)[1]
        elif a == "--cfg":
            c["cfgs"].append(nxt)
            i += 2
            continue
        elif a == "--extern":
            c["externs"].append(nxt)
            i += 2
            continue
        elif a == "--target":
            target = nxt
            i += 2
            continue
        elif a == "-C" and nxt and nxt.startswith("extra-filename="):
            c["suffix"] = nxt.split("=", 1)[1].lstrip("-")
            i += 2
            continue
        elif a.endswith(".rs") and not a.startswith("-"):
            c["src"] = a
        i += 1
    del it
    c["target"] = target
    c["env"] = {k: v for k, v in env.items() if not DROP_ENV.match(k) and "\n" not in v}
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("outdir", help="kernel tree rust/kwasm-gen directory")
    ap.add_argument("--target", default="x86_64-unknown-none")
    ap.add_argument("--rust-lib-src", required=True, help="rust-src library/ directory")
    opts = ap.parse_args()

    with open(opts.log) as f:
        log = f.read()

    crates = {}
    by_suffix = {}
    for env, args in parse_invocations(log):
        c = parse_crate(env, args)
        if c.get("target") != opts.target or "name" not in c or "src" not in c:
            continue
        if c["name"] in ("core", "build_script_build"):
            continue
        cwd = env.get("CARGO_MANIFEST_DIR")
        if not os.path.isabs(c["src"]) and cwd:
            # cargo runs workspace crates from the workspace root.
            for base in (os.environ.get("KWASM_WORKSPACE", ""), cwd):
                p = os.path.join(base, c["src"])
                if os.path.exists(p):
                    c["src"] = os.path.abspath(p)
                    break
        if c["name"] == "compiler_builtins":
            c["name"] = "kwasm_builtins"
            c["cfgs"] = [x for x in c["cfgs"] if x not in DROP_BUILTINS_CFGS]
        # Name and version (not cargo's hash) keep object names stable, so
        # regenerating the rules does not force a rebuild.
        c["id"] = "%s-%s" % (c["name"], env.get("CARGO_PKG_VERSION") or c.get("suffix", "0")[:8])
        crates[c["id"]] = c
        if "suffix" in c:
            by_suffix[c["suffix"]] = c["id"]

    if not crates:
        sys.exit("kwasm-crates: no crates found in %s" % opts.log)

    # The sysroot crates come from rust-src. The cfgs of compiler_builtins are
    # what its build.rs emits for x86_64 with optimisation on.
    lib = opts.rust_lib_src
    crates["alloc-sysroot"] = {
        "id": "alloc-sysroot", "name": "alloc", "edition": "2024", "cfgs": [],
        "externs": [], "env": {}, "src": os.path.join(lib, "alloc/src/lib.rs"),
    }
    crates["kwasm_builtins-sysroot"] = {
        "id": "kwasm_builtins-sysroot", "name": "kwasm_builtins", "edition": "2024",
        "cfgs": ["f16_enabled", "f128_enabled", "intrinsics_enabled", "arch_enabled",
                 "optimizations_enabled", 'feature="unstable-intrinsics"'],
        "externs": [], "env": {},
        "src": os.path.join(lib, "compiler-builtins/compiler-builtins/src/lib.rs"),
    }
    for c in crates.values():
        if c["name"] not in ("alloc", "kwasm_builtins"):
            c["externs"].append("noprelude:alloc=/sysroot/liballoc-sysroot000000.rmeta")
    by_suffix["sysroot000000"] = "alloc-sysroot"

    os.makedirs(opts.outdir, exist_ok=True)
    rules = ["# SPDX-License-Identifier: GPL-2.0",
             "# Generated by scripts/kwasm-crates.py from `cargo check -vv`; do not edit.", ""]
    objs = []
    driver_externs = []
    for cid, c in sorted(crates.items()):
        deps = []
        flags = ["--edition=" + c["edition"]]
        for cfg in c["cfgs"]:
            flags.append("--cfg " + shlex.quote(cfg))
        for ext in c["externs"]:
            name, _, path = ext.partition("=")
            bare = name.split(":", 1)[-1]
            if bare in ("core", "compiler_builtins"):
                continue
            m = re.search(r"-([0-9a-z]{13,16})\.(rmeta|rlib)$", path)
            dep = by_suffix.get(m.group(1)) if m else None
            if dep is None:
                sys.exit("kwasm-crates: %s: unknown dependency %s" % (cid, ext))
            deps.append(dep)
            flags.append("--extern %s=$(objtree)/$(obj)/kwasm-gen/lib%s.rmeta" % (name, dep))
        env = dict(c["env"])
        if "OUT_DIR" in env:
            # Keep the build-script output with the tree it was made for.
            dst = os.path.join(opts.outdir, "out", cid)
            sync_tree(env["OUT_DIR"], dst)
            old = env["OUT_DIR"]
            for k in env:
                env[k] = env[k].replace(old, os.path.abspath(dst))
        envs = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(env.items()))
        obj = "kwasm-gen/%s.o" % cid
        objs.append(obj)
        t = "$(obj)/%s" % obj
        rules.append("%s: private kwasm_crate := %s" % (t, c["name"]))
        rules.append("%s: private kwasm_id := %s" % (t, cid))
        rules.append("%s: private kwasm_env := %s" % (t, envs.replace("$", "$$")))
        rules.append("%s: private kwasm_flags := %s" % (t, " ".join(flags).replace("$(", "\x00").replace("$", "$$").replace("\x00", "$(")))
        rules.append("%s: %s %s FORCE" % (t, c["src"], " ".join("$(obj)/kwasm-gen/%s.o" % d for d in deps)))
        rules.append("\t+$(call if_changed_rule,rustc_kwasm_crate)")
        rules.append("")
        if c["name"] in DRIVER_CRATES:
            driver_externs.append("--extern %s=$(objtree)/rust/kwasm-gen/lib%s.rmeta" % (c["name"], cid))
    rules.append("kwasm-objs := " + " ".join(objs))
    with open(os.path.join(opts.outdir, "crates.mk"), "w") as f:
        f.write("\n".join(rules) + "\n")
    with open(os.path.join(opts.outdir, "externs.mk"), "w") as f:
        f.write("# SPDX-License-Identifier: GPL-2.0\n# Generated by scripts/kwasm-crates.py; do not edit.\n")
        f.write("KWASM_EXTERNS := -L dependency=$(objtree)/rust/kwasm-gen " + " ".join(driver_externs) + "\n")
    print("kwasm-crates: %d crates" % len(crates))


if __name__ == "__main__":
    main()
