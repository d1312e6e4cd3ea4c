// SPDX-License-Identifier: GPL-2.0

//! Corpus generator of `scripts/kwasm fuzz-kernel` (the in-kernel fuzz
//! campaign):
//!
//!     kwasm-fuzzgen --seed S --out DIR [--generated N] [--mutated M] [SEED.wasm...]
//!
//! Writes into DIR (created; it must not hold a corpus already):
//!
//! - `control.wasm`: `(func (export "_start"))`, which must exit 0; the
//!   guest script checks it first, so a broken harness (permissions, exec
//!   policy) is not mistaken for a campaign; and `control-spin.wasm`, an
//!   endless loop, which the harness's timeout must kill;
//! - `gen-NNNNN.wasm`: N modules from wasm-smith, with a configuration drawn
//!   for each module that aims at the kernel's resource paths rather than at
//!   the compiler: small code, but many and large tables, large declared
//!   memories, globals, element and data segments, imports of every kind
//!   (`wasi_snapshot_preview1` and `kwasm_net` functions with their real
//!   signatures, wrong signatures, unknown names, and memories, tables and
//!   globals, which kwasm must refuse), and in most modules an exported
//!   `_start: [] -> []` whose loops and calls burn a fuel counter so that it
//!   ends by itself. Some modules keep no fuel (the guest's timeout kills
//!   them), and some enable proposals that kwasm does not implement;
//! - `mut-NNNNN.wasm`: M copies of the seed modules (the sample and
//!   selftest programs), truncated, or edited one to three times: bit
//!   flips, byte stores, insertions and deletions, sections swapped,
//!   duplicated, dropped, resized or transplanted from another seed, memory
//!   and table limits re-drawn, bits flipped in the data section;
//! - `corpus.txt`: one line per file, how it was made.
//!
//! Everything comes from one xorshift generator per module, seeded from
//! (S, kind, number): the same seed, seed files and generator version give
//! the same corpus.

use std::cell::Cell;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// xorshift64*, seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// The generator of module `index` of a kind (1: generated, 2: mutated).
    fn for_module(seed: u64, kind: u64, index: u64) -> Rng {
        Rng::new(seed ^ Rng::new((kind << 40) | index).next())
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (0 if `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True `pct` percent of the time.
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// In `0..=max`, log-uniform: every power of two is as likely.
    fn log_uniform(&mut self, max: u64) -> u64 {
        let bits = 64 - max.leading_zeros() as u64;
        let b = self.range(0, bits);
        let v = if b == 0 {
            0
        } else {
            (1 << (b - 1)) | self.below(1 << (b - 1))
        };
        v.min(max)
    }

    /// In `lo..=hi`, log-uniform over the distance from `lo`.
    fn log_between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.log_uniform(hi.saturating_sub(lo))
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ------------------------------------------------------------ imports

/// `wasi_snapshot_preview1`: name, parameters (`i`: i32, `I`: i64), and
/// whether it returns the errno (all but `proc_exit`). A copy of
/// rust/kwasm/wasi/src/table.rs, on purpose: the fuzzer's notion of the
/// right signature must not follow a bug there.
const WASI: &[(&str, &str, bool)] = &[
    ("args_get", "ii", true),
    ("args_sizes_get", "ii", true),
    ("environ_get", "ii", true),
    ("environ_sizes_get", "ii", true),
    ("clock_res_get", "ii", true),
    ("clock_time_get", "iIi", true),
    ("fd_advise", "iIIi", true),
    ("fd_allocate", "iII", true),
    ("fd_close", "i", true),
    ("fd_datasync", "i", true),
    ("fd_fdstat_get", "ii", true),
    ("fd_fdstat_set_flags", "ii", true),
    ("fd_fdstat_set_rights", "iII", true),
    ("fd_filestat_get", "ii", true),
    ("fd_filestat_set_size", "iI", true),
    ("fd_filestat_set_times", "iIIi", true),
    ("fd_pread", "iiiIi", true),
    ("fd_prestat_get", "ii", true),
    ("fd_prestat_dir_name", "iii", true),
    ("fd_pwrite", "iiiIi", true),
    ("fd_read", "iiii", true),
    ("fd_readdir", "iiiIi", true),
    ("fd_renumber", "ii", true),
    ("fd_seek", "iIii", true),
    ("fd_sync", "i", true),
    ("fd_tell", "ii", true),
    ("fd_write", "iiii", true),
    ("path_create_directory", "iii", true),
    ("path_filestat_get", "iiiii", true),
    ("path_filestat_set_times", "iiiiIIi", true),
    ("path_link", "iiiiiii", true),
    ("path_open", "iiiiiIIii", true),
    ("path_readlink", "iiiiii", true),
    ("path_remove_directory", "iii", true),
    ("path_rename", "iiiiii", true),
    ("path_symlink", "iiiii", true),
    ("path_unlink_file", "iii", true),
    ("poll_oneoff", "iiii", true),
    ("proc_exit", "i", false),
    ("proc_raise", "i", true),
    ("random_get", "ii", true),
    ("sched_yield", "", true),
    ("sock_accept", "iii", true),
    ("sock_recv", "iiiiii", true),
    ("sock_send", "iiiii", true),
    ("sock_shutdown", "ii", true),
];

/// `kwasm_net` (rust/kwasm/wasi/src/net.rs); every function returns the errno.
const KWASM_NET: &[(&str, &str)] = &[
    ("socket", "iiii"),
    ("bind", "iii"),
    ("listen", "ii"),
    ("connect", "iii"),
    ("accept", "iiiii"),
    ("getsockname", "iii"),
    ("getpeername", "iii"),
    ("setsockopt", "iiiii"),
    ("getsockopt", "iiiii"),
    ("sendto", "iiiiiii"),
    ("recvfrom", "iiiiiiii"),
    ("shutdown", "ii"),
    ("epoll_create", "ii"),
    ("epoll_ctl", "iiii"),
    ("epoll_wait", "iiiii"),
];

fn func_type(params: &str, result: bool) -> String {
    let mut s = String::from("(func");
    if !params.is_empty() {
        s.push_str(" (param");
        for p in params.chars() {
            s.push_str(if p == 'I' { " i64" } else { " i32" });
        }
        s.push(')');
    }
    if result {
        s.push_str(" (result i32)");
    }
    s.push(')');
    s
}

fn import(module: &str, name: &str, ty: &str) -> String {
    format!("  (import \"{module}\" \"{name}\" {ty})\n")
}

/// A signature close to, but not, the right one.
fn wrong_signature(rng: &mut Rng, params: &str, result: bool) -> (String, bool) {
    let mut p: Vec<char> = params.chars().collect();
    match rng.below(4) {
        0 if !p.is_empty() => {
            p.remove(rng.index(p.len()));
        }
        1 => {
            let i = rng.index(p.len() + 1);
            p.insert(i, if rng.chance(50) { 'i' } else { 'I' });
        }
        2 if !p.is_empty() => {
            let i = rng.index(p.len());
            p[i] = if p[i] == 'i' { 'I' } else { 'i' };
        }
        _ => return (params.to_string(), !result),
    }
    (p.into_iter().collect(), result)
}

/// Picks which imports wasm-smith may use (it takes about half of them):
/// returns the `available_imports` module (None: wasm-smith makes up
/// arbitrary imports), the number of functions in it, and a label.
fn imports(rng: &mut Rng) -> (Option<Vec<u8>>, usize, &'static str) {
    let profile = rng.below(100);
    if profile < 5 {
        return (None, 0, "arbitrary");
    }
    let mut wat = String::from("(module\n");
    let mut funcs = 0;
    // A few WASI functions; fd_write and proc_exit more often than not.
    let mut picked: Vec<usize> = Vec::new();
    for want in ["fd_write", "proc_exit"] {
        if rng.chance(60) {
            picked.extend(WASI.iter().position(|w| w.0 == want));
        }
    }
    for _ in 0..rng.range(1, 12) {
        let i = rng.index(WASI.len());
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    for &i in &picked {
        let (name, params, result) = WASI[i];
        wat.push_str(&import(
            "wasi_snapshot_preview1",
            name,
            &func_type(params, result),
        ));
        funcs += 1;
    }
    let label = match profile {
        5..=64 => "wasi",
        65..=74 => {
            for _ in 0..rng.range(1, 6) {
                let (name, params) = KWASM_NET[rng.index(KWASM_NET.len())];
                wat.push_str(&import("kwasm_net", name, &func_type(params, true)));
                funcs += 1;
            }
            "wasi+kwasm_net"
        }
        75..=84 => {
            for _ in 0..rng.range(1, 3) {
                let (name, params, result) = WASI[rng.index(WASI.len())];
                let (p, r) = wrong_signature(rng, params, result);
                let (module, name) = match rng.below(6) {
                    0 => ("wasi_unstable", name),
                    1 => ("env", name),
                    2 => ("wasi_snapshot_preview1", "fd_bogus"),
                    3 => ("kwasm_net", "nosuch"),
                    _ => ("wasi_snapshot_preview1", name),
                };
                wat.push_str(&import(module, name, &func_type(&p, r)));
                funcs += 1;
            }
            "wasi+wrong-signatures"
        }
        _ => {
            // Memories, tables and globals: kwasm imports none of them.
            let mut memory = false;
            for _ in 0..rng.range(1, 3) {
                let ty = match rng.below(4) {
                    0 if !memory => {
                        memory = true;
                        let min = rng.log_uniform(65536);
                        if rng.chance(50) {
                            format!("(memory {min} {})", rng.range(min, 65536))
                        } else {
                            format!("(memory {min})")
                        }
                    }
                    1 => {
                        let min = rng.log_uniform(10_000_000);
                        let rt = if rng.chance(70) {
                            "funcref"
                        } else {
                            "externref"
                        };
                        format!("(table {min} {rt})")
                    }
                    _ => {
                        let vt = ["i32", "i64", "f32", "f64", "externref", "funcref"][rng.index(6)];
                        if rng.chance(50) {
                            format!("(global (mut {vt}))")
                        } else {
                            format!("(global {vt})")
                        }
                    }
                };
                let (module, name) = match rng.below(4) {
                    0 => ("env", "memory"),
                    1 => ("env", "__indirect_function_table"),
                    2 => ("wasi_snapshot_preview1", "memory"),
                    _ => ("wasi_snapshot_preview1", WASI[rng.index(WASI.len())].0),
                };
                wat.push_str(&import(module, name, &ty));
            }
            "wasi+memory/table/global"
        }
    };
    wat.push(')');
    let wasm = wat::parse_str(&wat).expect("available_imports module");
    (Some(wasm), funcs, label)
}

/// The exports wasm-smith must give the module (None: arbitrary ones).
fn exports(rng: &mut Rng) -> (Option<Vec<u8>>, &'static str) {
    let (wat, label) = match rng.below(100) {
        0..=84 => (r#"(module (func (export "_start")))"#, "_start"),
        85..=88 => (
            r#"(module (func (export "_start") (param i32)))"#,
            "_start(i32)",
        ),
        89..=92 => (
            r#"(module (func (export "_start") (result i32) i32.const 0))"#,
            "_start->i32",
        ),
        93..=94 => (
            r#"(module (global (export "_start") i32 (i32.const 0)))"#,
            "_start-global",
        ),
        _ => return (None, "arbitrary"),
    };
    (Some(wat::parse_str(wat).expect("exports module")), label)
}

// ------------------------------------------------------------ generated modules

/// What `rewrite_limits` does to the declared sizes of memories and tables.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limits {
    /// wasm-smith's own (small) sizes.
    Keep,
    /// Small initial sizes, maximums anywhere up to the largest.
    MaxOnly,
    /// Initial sizes up to the caps: up to 1 GiB of memory (the VM's
    /// default linear-memory cap is half of its 2 GiB), tables up to 10^7
    /// elements in all.
    Big,
    /// Initial sizes at and past the caps (exec must fail with ENOMEM).
    OverCap,
}

impl Limits {
    fn label(self) -> &'static str {
        match self {
            Limits::Keep => "keep",
            Limits::MaxOnly => "max-only",
            Limits::Big => "big",
            Limits::OverCap => "over-cap",
        }
    }
}

const MAX_PAGES: u64 = 65536;
const CAP_PAGES: u64 = 16384;
const MAX_TABLE_ELEMS: u64 = 10_000_000;

fn smith_config(
    rng: &mut Rng,
    available: Option<Vec<u8>>,
    import_funcs: usize,
    exports: Option<Vec<u8>>,
) -> wasm_smith::Config {
    // Proposals kwasm does not implement, in one module out of ten: refused.
    let beyond = rng.chance(10);
    let mut c = wasm_smith::Config {
        available_imports: available,
        exports,
        simd_enabled: beyond && rng.chance(25),
        relaxed_simd_enabled: beyond && rng.chance(10),
        threads_enabled: beyond && rng.chance(15),
        tail_call_enabled: beyond && rng.chance(15),
        memory64_enabled: beyond && rng.chance(15),
        exceptions_enabled: beyond && rng.chance(15),
        gc_enabled: beyond && rng.chance(15),
        wide_arithmetic_enabled: beyond && rng.chance(10),
        extended_const_enabled: beyond && rng.chance(15),
        compact_imports_enabled: beyond && rng.chance(10),
        custom_page_sizes_enabled: beyond && rng.chance(10),
        // WebAssembly 2.0, which kwasm implements (without SIMD).
        reference_types_enabled: !rng.chance(10),
        bulk_memory_enabled: !rng.chance(10),
        multi_value_enabled: !rng.chance(10),
        saturating_float_to_int_enabled: !rng.chance(5),
        sign_extension_ops_enabled: !rng.chance(5),
        disallow_traps: rng.chance(20),
        generate_custom_sections: rng.chance(10),
        allow_invalid_funcs: rng.chance(3),
        // Small code: kernel resources, not compile time, are the target.
        min_funcs: 1,
        max_funcs: import_funcs + rng.range(1, 12) as usize,
        max_instructions: rng.range(1, 80) as usize,
        max_types: rng.range(1, 20) as usize,
        max_imports: rng.range(0, 10) as usize,
        max_exports: rng.range(0, 10) as usize,
        max_tags: 4,
        // Declared sizes stay small here; `rewrite_limits` makes them large.
        max_memories: if rng.chance(8) {
            rng.range(2, 4) as usize
        } else {
            1
        },
        min_memories: u32::from(rng.chance(75)),
        max_memory32_bytes: 1 << rng.range(16, 24),
        memory_max_size_required: rng.chance(30),
        max_tables: if rng.chance(25) {
            rng.range(5, 100) as usize
        } else {
            rng.range(0, 4) as usize
        },
        max_table_elements: if rng.chance(30) {
            MAX_TABLE_ELEMS
        } else {
            1_000
        },
        table_max_size_required: rng.chance(30),
        max_globals: rng.log_uniform(100) as usize,
        max_element_segments: if rng.chance(20) {
            100
        } else {
            rng.range(0, 10) as usize
        },
        max_elements: if rng.chance(20) {
            1_000
        } else {
            rng.range(0, 50) as usize
        },
        max_data_segments: if rng.chance(20) {
            100
        } else {
            rng.range(0, 10) as usize
        },
        ..wasm_smith::Config::default()
    };
    c.min_tables = if rng.chance(25) {
        rng.below(c.max_tables as u64 + 1) as u32
    } else {
        0
    };
    c.min_globals = rng.below(c.max_globals as u64 + 1) as usize / 2;
    c.min_data_segments = rng.below(c.max_data_segments as u64 + 1) as usize / 4;
    c.min_element_segments = rng.below(c.max_element_segments as u64 + 1) as usize / 4;
    if c.gc_enabled {
        c.reference_types_enabled = true;
    }
    c
}

thread_local! {
    /// Set while wasm-smith runs: its panics are expected, not reported.
    static IN_SMITH: Cell<bool> = const { Cell::new(false) };
}

/// A module from wasm-smith, or None if it failed (out of input, or a
/// panic in wasm-smith on an odd configuration).
fn smith_module(rng: &mut Rng, config: &wasm_smith::Config, fuel: Option<u32>) -> Option<Vec<u8>> {
    let len = rng.range(1024, 16384) as usize;
    let input = rng.bytes(len);
    IN_SMITH.with(|f| f.set(true));
    let made = catch_unwind(AssertUnwindSafe(|| {
        let mut u = arbitrary::Unstructured::new(&input);
        let mut m = wasm_smith::Module::new(config.clone(), &mut u).ok()?;
        if let Some(fuel) = fuel {
            m.ensure_termination(fuel).ok()?;
        }
        Some(m.to_bytes())
    }));
    IN_SMITH.with(|f| f.set(false));
    made.ok().flatten()
}

fn generated_module(rng: &mut Rng) -> (Vec<u8>, String) {
    for _attempt in 0..20 {
        let (available, import_funcs, imp_label) = imports(rng);
        let (exp, exp_label) = exports(rng);
        let config = smith_config(rng, available, import_funcs, exp);
        // Fuel bounds every loop and call chain; a few modules have none
        // (and may spin until the guest's timeout kills them).
        let fuel = if config.allow_invalid_funcs || rng.chance(6) {
            None
        } else {
            Some(rng.log_between(500, 200_000) as u32)
        };
        let limits = match rng.below(100) {
            0..=39 => Limits::Keep,
            40..=69 => Limits::MaxOnly,
            70..=89 => Limits::Big,
            _ => Limits::OverCap,
        };
        let Some(mut wasm) = smith_module(rng, &config, fuel) else {
            continue;
        };
        let mut limits_label = limits.label();
        if limits != Limits::Keep {
            match rewrite_limits(&wasm, limits, rng) {
                Some(w) => wasm = w,
                None => limits_label = "keep (unusual encoding)",
            }
        }
        let fuel = fuel.map_or("none".to_string(), |f| f.to_string());
        let desc = format!(
            "imports={imp_label} exports={exp_label} fuel={fuel} limits={limits_label}{}",
            if config.simd_enabled
                || config.threads_enabled
                || config.tail_call_enabled
                || config.memory64_enabled
                || config.exceptions_enabled
                || config.gc_enabled
                || config.wide_arithmetic_enabled
                || config.extended_const_enabled
                || config.compact_imports_enabled
                || config.custom_page_sizes_enabled
            {
                " proposals=beyond-2.0"
            } else {
                ""
            }
        );
        return (wasm, desc);
    }
    // wasm-smith keeps failing: fall back to the smallest program.
    (control_module(), "fallback=control".to_string())
}

// ------------------------------------------------------------ binary editing

fn read_leb(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn write_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The sections of a module after its 8-byte header: (id, start of the
/// section header, start of the payload, end).
fn sections(w: &[u8]) -> Option<Vec<(u8, usize, usize, usize)>> {
    if w.len() < 8 || &w[..4] != b"\0asm" {
        return None;
    }
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < w.len() {
        let start = pos;
        let id = w[pos];
        pos += 1;
        let size = read_leb(w, &mut pos)? as usize;
        let end = pos.checked_add(size).filter(|&e| e <= w.len())?;
        out.push((id, start, pos, end));
        pos = end;
    }
    Some(out)
}

/// Reads memory or table limits (flags 0 or 1 only: no shared, 64-bit or
/// custom-page-size memories).
fn read_limits(b: &[u8], pos: &mut usize) -> Option<(u64, Option<u64>)> {
    let flags = *b.get(*pos)?;
    *pos += 1;
    let min = read_leb(b, pos)?;
    match flags {
        0 => Some((min, None)),
        1 => Some((min, Some(read_leb(b, pos)?))),
        _ => None,
    }
}

fn write_limits(out: &mut Vec<u8>, min: u64, max: Option<u64>) {
    out.push(u8::from(max.is_some()));
    write_leb(out, min);
    if let Some(max) = max {
        write_leb(out, max);
    }
}

/// A maximum for a minimum of `min`: none, the largest, the minimum, or
/// something in between.
fn pick_max(rng: &mut Rng, min: u64, limit: u64) -> Option<u64> {
    match rng.below(100) {
        0..=14 => None,
        15..=39 => Some(limit),
        40..=54 => Some(min),
        _ => Some(rng.log_between(min, limit)),
    }
}

/// Re-draws the limits of the module's own memories and tables. None if
/// the module uses an encoding this does not handle.
fn rewrite_limits(w: &[u8], mode: Limits, rng: &mut Rng) -> Option<Vec<u8>> {
    let mut out = w[..8].to_vec();
    for (id, start, payload, end) in sections(w)? {
        if id != 4 && id != 5 {
            out.extend_from_slice(&w[start..end]);
            continue;
        }
        let b = &w[payload..end];
        let mut pos = 0;
        let count = read_leb(b, &mut pos)?;
        let mut body = Vec::new();
        write_leb(&mut body, count);
        // OverCap tables: each gets a share of a total at or just past the
        // cap, so the boundary itself is tested.
        let over_total = MAX_TABLE_ELEMS + rng.below(3);
        for _ in 0..count {
            if id == 4 {
                let reftype = *b.get(pos)?;
                pos += 1;
                if reftype != 0x70 && reftype != 0x6f {
                    return None;
                }
                body.push(reftype);
            }
            let (mut min, mut max) = read_limits(b, &mut pos)?;
            if id == 5 {
                match mode {
                    Limits::Keep => {}
                    Limits::MaxOnly => max = pick_max(rng, min, MAX_PAGES),
                    Limits::Big => {
                        min = min.max(rng.log_uniform(CAP_PAGES));
                        max = pick_max(rng, min, MAX_PAGES);
                    }
                    Limits::OverCap => {
                        min = if rng.chance(30) {
                            MAX_PAGES
                        } else {
                            rng.range(CAP_PAGES, MAX_PAGES)
                        };
                        max = pick_max(rng, min, MAX_PAGES);
                    }
                }
            } else {
                let limit = if rng.chance(10) {
                    u64::from(u32::MAX)
                } else {
                    MAX_TABLE_ELEMS
                };
                match mode {
                    Limits::Keep => {}
                    Limits::MaxOnly => max = pick_max(rng, min, limit),
                    Limits::Big => {
                        if rng.chance(50) {
                            min = min.max(rng.log_uniform(MAX_TABLE_ELEMS));
                        }
                        max = pick_max(rng, min, limit.max(min));
                    }
                    Limits::OverCap => {
                        min = min.max(over_total.div_ceil(count));
                        max = pick_max(rng, min, limit.max(min));
                    }
                }
            }
            write_limits(&mut body, min, max);
        }
        if pos != b.len() {
            return None;
        }
        out.push(id);
        write_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    Some(out)
}

// ------------------------------------------------------------ mutated modules

const INTERESTING: &[u8] = &[0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x60, 0x0b, 0x10, 0x11];

fn random_byte(rng: &mut Rng) -> u8 {
    if rng.chance(50) {
        INTERESTING[rng.index(INTERESTING.len())]
    } else {
        rng.next() as u8
    }
}

/// A position in `lo..=len` (`lo..len` if `end` is false).
fn position(rng: &mut Rng, lo: usize, len: usize, end: bool) -> usize {
    let lo = lo.min(len);
    lo + rng.index(len - lo + usize::from(end))
}

/// A byte edit of `w` (op 0: bit flips, 1: byte stores, 2: insertion,
/// 3 or 4: deletion) at or after `lo`; returns its label.
fn mutate_once_bytes(rng: &mut Rng, w: &mut Vec<u8>, op: u64, lo: usize) -> String {
    match op {
        0 => {
            let n = rng.range(1, 8);
            for _ in 0..n {
                let i = position(rng, lo, w.len(), false);
                if let Some(b) = w.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            format!("bitflip({n})")
        }
        1 => {
            let n = rng.range(1, 4);
            for _ in 0..n {
                let i = position(rng, lo, w.len(), false);
                let v = random_byte(rng);
                if let Some(b) = w.get_mut(i) {
                    *b = v;
                }
            }
            format!("set({n})")
        }
        2 => {
            let n = rng.range(1, 8) as usize;
            let at = position(rng, lo, w.len(), true);
            let bytes: Vec<u8> = (0..n).map(|_| random_byte(rng)).collect();
            w.splice(at..at, bytes);
            format!("insert({n}@{at})")
        }
        _ => {
            let at = position(rng, lo, w.len(), true);
            let n = (rng.range(1, 16) as usize).min(w.len() - at);
            w.drain(at..at + n);
            format!("delete({n}@{at})")
        }
    }
}

/// One edit of `w`; returns its label.
fn mutate_once(rng: &mut Rng, w: &mut Vec<u8>, seeds: &[(String, Vec<u8>)]) -> String {
    let secs = sections(w).unwrap_or_default();
    // Byte edits spare the 8-byte header most of the time: without it, the
    // file is not kwasm's at all.
    let lo = if rng.chance(95) { 8 } else { 0 };
    let op = rng.below(12);
    // Section edits need sections; else fall back to a bit flip.
    let op = if op >= 5 && secs.len() < 2 { 0 } else { op };
    match op {
        10 => {
            // Valid but different: the limits of memories and tables
            // re-drawn, as for generated modules.
            let mode = [Limits::MaxOnly, Limits::Big, Limits::OverCap][rng.index(3)];
            if let Some(new) = rewrite_limits(w, mode, rng) {
                *w = new;
                return format!("limits({})", mode.label());
            }
            mutate_once_bytes(rng, w, 0, lo)
        }
        11 => {
            // Bits of the data section: the program's constants.
            match secs.iter().find(|s| s.0 == 11 && s.3 > s.2) {
                Some(&(_, _, payload, end)) => {
                    let n = rng.range(1, 4);
                    for _ in 0..n {
                        let i = position(rng, payload, end, false);
                        w[i] ^= 1 << rng.below(8);
                    }
                    format!("data-bitflip({n})")
                }
                None => mutate_once_bytes(rng, w, 0, lo),
            }
        }
        0..=4 => mutate_once_bytes(rng, w, op, lo),
        5 => {
            let a = rng.index(secs.len());
            let b = rng.index(secs.len());
            let mut out = w[..8].to_vec();
            for i in 0..secs.len() {
                let j = if i == a {
                    b
                } else if i == b {
                    a
                } else {
                    i
                };
                out.extend_from_slice(&w[secs[j].1..secs[j].3]);
            }
            *w = out;
            format!("swap-sections({},{})", secs[a].0, secs[b].0)
        }
        6 => {
            let s = secs[rng.index(secs.len())];
            let copy = w[s.1..s.3].to_vec();
            w.splice(s.3..s.3, copy);
            format!("dup-section({})", s.0)
        }
        7 => {
            let s = secs[rng.index(secs.len())];
            w.drain(s.1..s.3);
            format!("drop-section({})", s.0)
        }
        8 => {
            // A wrong size in a section header.
            let s = secs[rng.index(secs.len())];
            let size = (s.3 - s.2) as u64;
            let new = match rng.below(4) {
                0 => size + 1,
                1 => size.saturating_sub(1),
                2 => 0,
                _ => rng.next() & 0xffff_ffff,
            };
            let mut hdr = vec![s.0];
            write_leb(&mut hdr, new);
            w.splice(s.1..s.2, hdr);
            format!("resize-section({},{size}->{new})", s.0)
        }
        _ => {
            // A section of another seed, inserted at a section boundary.
            let (name, other) = &seeds[rng.index(seeds.len())];
            let Some(osecs) = sections(other).filter(|s| !s.is_empty()) else {
                return "nop".to_string();
            };
            let s = osecs[rng.index(osecs.len())];
            let at = if rng.chance(50) {
                secs[rng.index(secs.len())].1
            } else {
                w.len()
            };
            w.splice(at..at, other[s.1..s.3].iter().copied());
            format!("transplant-section({} from {name})", s.0)
        }
    }
}

fn mutated_module(rng: &mut Rng, seeds: &[(String, Vec<u8>)]) -> (Vec<u8>, String) {
    let (name, seed) = &seeds[rng.index(seeds.len())];
    let mut w = seed.clone();
    let mut ops = Vec::new();
    if rng.chance(25) {
        let secs = sections(&w).unwrap_or_default();
        let at = if rng.chance(50) && !secs.is_empty() {
            // Around a section boundary.
            let s = secs[rng.index(secs.len())];
            (s.1 + rng.below(3) as usize).min(w.len())
        } else {
            let lo = if rng.chance(95) { 8 } else { 0 };
            position(rng, lo, w.len(), false)
        };
        w.truncate(at);
        ops.push(format!("truncate({at}/{})", seed.len()));
    } else {
        for _ in 0..rng.range(1, 3) {
            ops.push(mutate_once(rng, &mut w, seeds));
        }
    }
    (w, format!("seed={name} ops={}", ops.join(",")))
}

fn control_module() -> Vec<u8> {
    wat::parse_str(r#"(module (func (export "_start")))"#).expect("control module")
}

// ------------------------------------------------------------ main

struct Opts {
    seed: u64,
    out: PathBuf,
    generated: u64,
    mutated: u64,
    seeds: Vec<PathBuf>,
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse_opts() -> Result<Opts, String> {
    let mut opts = Opts {
        seed: 0,
        out: PathBuf::new(),
        generated: 100,
        mutated: 100,
        seeds: Vec::new(),
    };
    let mut seed = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => seed = Some(parse_u64(&value()?).ok_or("bad --seed")?),
            "--out" => opts.out = PathBuf::from(value()?),
            "--generated" => opts.generated = parse_u64(&value()?).ok_or("bad --generated")?,
            "--mutated" => opts.mutated = parse_u64(&value()?).ok_or("bad --mutated")?,
            _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ => opts.seeds.push(PathBuf::from(a)),
        }
    }
    opts.seed = seed.ok_or("--seed is required")?;
    if opts.out.as_os_str().is_empty() {
        return Err("--out is required".into());
    }
    if opts.mutated > 0 && opts.seeds.is_empty() {
        return Err("--mutated needs seed modules".into());
    }
    Ok(opts)
}

fn write_module(dir: &Path, name: &str, wasm: &[u8]) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, wasm).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn run(opts: &Opts) -> Result<(), String> {
    let mut seeds = Vec::new();
    for p in &opts.seeds {
        let w = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let name = p
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        seeds.push((name, w));
    }
    // The corpus depends on the seeds' contents, not on the argument order.
    seeds.sort();
    std::fs::create_dir_all(&opts.out).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    if opts.out.join("corpus.txt").exists() {
        return Err(format!("{} already holds a corpus", opts.out.display()));
    }
    let mut manifest = format!(
        "# kwasm-fuzzgen --seed {} --generated {} --mutated {} ({} seed modules)\n",
        opts.seed,
        opts.generated,
        opts.mutated,
        seeds.len()
    );
    write_module(&opts.out, "control.wasm", &control_module())?;
    manifest.push_str("control.wasm must exit 0\n");
    let spin =
        wat::parse_str(r#"(module (func (export "_start") (loop (br 0))))"#).expect("spin module");
    write_module(&opts.out, "control-spin.wasm", &spin)?;
    manifest.push_str("control-spin.wasm must time out (and die of SIGKILL)\n");
    let (mut bytes, mut big) = (0, 0);
    for i in 0..opts.generated {
        let mut rng = Rng::for_module(opts.seed, 1, i);
        let (wasm, desc) = generated_module(&mut rng);
        let name = format!("gen-{i:05}.wasm");
        write_module(&opts.out, &name, &wasm)?;
        bytes += wasm.len();
        big += usize::from(desc.contains("limits=big") || desc.contains("limits=over-cap"));
        let _ = writeln!(manifest, "{name} size={} {desc}", wasm.len());
    }
    for i in 0..opts.mutated {
        let mut rng = Rng::for_module(opts.seed, 2, i);
        let (wasm, desc) = mutated_module(&mut rng, &seeds);
        let name = format!("mut-{i:05}.wasm");
        write_module(&opts.out, &name, &wasm)?;
        let _ = writeln!(manifest, "{name} size={} {desc}", wasm.len());
    }
    let path = opts.out.join("corpus.txt");
    std::fs::write(&path, manifest).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "kwasm-fuzzgen: seed {}: {} generated modules ({} bytes, {} with big limits), \
         {} mutated from {} seeds, in {}",
        opts.seed,
        opts.generated,
        bytes,
        big,
        opts.mutated,
        seeds.len(),
        opts.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let opts = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kwasm-fuzzgen: {e}");
            eprintln!(
                "usage: kwasm-fuzzgen --seed S --out DIR [--generated N] [--mutated M] [SEED.wasm...]"
            );
            return ExitCode::from(2);
        }
    };
    // wasm-smith may panic on an odd configuration; such a module is
    // drawn again, quietly. Other panics are bugs here and are reported.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_SMITH.with(Cell::get) {
            report(info);
        }
    }));
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kwasm-fuzzgen: {e}");
            ExitCode::FAILURE
        }
    }
}
