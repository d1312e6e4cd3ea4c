// SPDX-License-Identifier: GPL-2.0

//! Benchmark driver for `scripts/kwasm-bench-codegen.sh`:
//!
//!     kwasm-bench [--compile-iters N] [--runs R] [--hardened] [--dump-code P] prog.wasm [args...]
//!
//! Compiles the module N times with `kwasm_compiler::compile` alone (no
//! loading, no instantiation) and keeps the best time and the largest heap
//! it held at once (`compile_peak_bytes`: live bytes above what was live
//! before the compile, its output included), then runs it R times
//! as a WASI command in the host runner (a fresh store each time) and keeps
//! the best wall time of instantiation plus `_start`. The guest's output of
//! the first run goes to stdout (every run must print the same); the timings
//! go to stderr as one `kwasm-bench:` line of key=value pairs.
//!
//! The compiler gets the ISA features the kernel driver enables
//! (drivers/kwasm/compile.rs, run.c): all of the host's that it knows, AVX,
//! AVX2 and FMA included where the OS enables the YMM state (which
//! `is_x86_feature_detected!` checks, as the kernel checks XCR0), so the
//! code measured here is the code the kernel would run on this CPU.
//! `--hardened` compiles with every branch hardening a kernel may ask for
//! (retpolines, return thunk, SLS, IBT; the host runner supplies the
//! thunks), to measure what the mitigations cost. `--dump-code P` writes
//! the generated code to `P.bin` and where each function lies in it to
//! `P.map` ("func INDEX OFFSET LEN" lines, module function indices), for
//! reading it with `objdump -D -b binary -m i386:x86-64`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kwasm_host::wasi::{run_command, Capture, Command, Ended};
use kwasm_host::{compiler_config, run_on_stack, Store, WASM_STACK};

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments,
// so `System`'s guarantees hold; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on unchanged.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

struct Opts {
    compile_iters: u32,
    runs: u32,
    hardened: bool,
    dump_code: Option<String>,
    /// The wasm file, then the guest's arguments after it.
    args: Vec<String>,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: kwasm-bench [--compile-iters N] [--runs R] [--hardened] [--dump-code P] \
         prog.wasm [args...]"
    );
    ExitCode::from(2)
}

fn parse_opts() -> Option<Opts> {
    let mut opts = Opts {
        compile_iters: 5,
        runs: 1,
        hardened: false,
        dump_code: None,
        args: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--compile-iters" => opts.compile_iters = it.next()?.parse().ok().filter(|&n| n > 0)?,
            "--runs" => opts.runs = it.next()?.parse().ok().filter(|&n| n > 0)?,
            "--hardened" => opts.hardened = true,
            "--dump-code" => opts.dump_code = Some(it.next()?),
            _ if a.starts_with("--") => return None,
            _ => {
                // Everything from the module on belongs to the guest.
                opts.args.push(a);
                opts.args.extend(it.by_ref());
            }
        }
    }
    (!opts.args.is_empty()).then_some(opts)
}

struct Report {
    compile_best: Duration,
    compile_peak: usize,
    run_best: Duration,
    stdout: Vec<u8>,
}

fn bench(wasm: &[u8], opts: &Opts) -> Result<Report, String> {
    let mut config = compiler_config();
    if opts.hardened {
        config.branches = kwasm_compiler::BranchForms::hardened();
    }
    let mut compile_best = Duration::MAX;
    let mut compile_peak = 0;
    let mut compiled = None;
    for _ in 0..opts.compile_iters {
        // The previous output stays live until the new one exists: drop it
        // first, so that each compile starts from the same heap.
        drop(compiled.take());
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = Instant::now();
        let m = kwasm_compiler::compile(wasm, &config).map_err(|e| format!("compile: {e}"))?;
        compile_best = compile_best.min(t.elapsed());
        compile_peak = compile_peak.max(PEAK.load(Ordering::Relaxed) - base);
        compiled = Some(m);
    }
    let compiled = compiled.expect("compile_iters > 0");
    if let Some(p) = &opts.dump_code {
        dump_code(&compiled, p).map_err(|e| format!("--dump-code {p}: {e}"))?;
    }

    let mut run_best = Duration::MAX;
    let mut first: Option<Vec<u8>> = None;
    for run in 0..opts.runs {
        let mut store = Store::new();
        let module = store
            .load(compiled.clone())
            .map_err(|e| format!("loading code: {e}"))?;
        let io = |e: std::io::Error| format!("run {run}: capture file: {e}");
        let (mut out, mut err) = (Capture::new().map_err(io)?, Capture::new().map_err(io)?);
        let stdin = std::fs::File::open("/dev/null").map_err(io)?;
        let args: Vec<&str> = opts.args.iter().map(String::as_str).collect();
        let cmd = Command::new(
            &args,
            [stdin.into(), out.fd().map_err(io)?, err.fd().map_err(io)?],
        );
        let t = Instant::now();
        let status = run_command(&mut store, &module, cmd);
        let elapsed = t.elapsed();
        // The guest's stderr (a panic message, say) is worth seeing.
        drop(std::io::stderr().write_all(&err.take()));
        match status {
            Ok(Ended::Exit(0)) => {}
            Ok(Ended::Exit(c)) => return Err(format!("run {run}: exit status {c}")),
            Ok(Ended::Trap(t)) => return Err(format!("run {run}: trap: {}", t.name())),
            Err(e) => return Err(format!("run {run}: {e}")),
        }
        run_best = run_best.min(elapsed);
        let out = out.take();
        match &first {
            None => first = Some(out),
            Some(f) if *f != out => return Err(format!("run {run} printed something else")),
            Some(_) => {}
        }
    }
    Ok(Report {
        compile_best,
        compile_peak,
        run_best,
        stdout: first.unwrap_or_default(),
    })
}

/// Writes `prefix.bin` (the code) and `prefix.map` (where each function is).
fn dump_code(m: &kwasm_abi::CompiledModule, prefix: &str) -> std::io::Result<()> {
    std::fs::write(format!("{prefix}.bin"), &m.code)?;
    let mut map = String::new();
    for (i, (off, len)) in m.funcs.iter().enumerate() {
        let index = i as u32 + m.num_imported_funcs;
        map.push_str(&format!("func {index} {off} {len}\n"));
    }
    std::fs::write(format!("{prefix}.map"), map)
}

fn main() -> ExitCode {
    let Some(opts) = parse_opts() else {
        return usage();
    };
    let path = opts.args[0].clone();
    let wasm = match std::fs::read(&path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("kwasm-bench: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = wasm.len();
    let (compile_iters, runs) = (opts.compile_iters, opts.runs);
    // The whole benchmark runs on the wasm thread: the store records that
    // thread's stack limit, and compiling there too keeps one thread busy.
    let r = run_on_stack(WASM_STACK, move || bench(&wasm, &opts));
    match r {
        Ok(rep) => {
            drop(std::io::stdout().write_all(&rep.stdout));
            let c = rep.compile_best.as_secs_f64();
            eprintln!(
                "kwasm-bench: bytes={bytes} compile_iters={compile_iters} compile_best_s={c:.6} \
                 compile_mb_s={:.3} compile_peak_bytes={} runs={runs} run_best_s={:.6}",
                bytes as f64 / 1e6 / c,
                rep.compile_peak,
                rep.run_best.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kwasm-bench: {path}: {e}");
            ExitCode::from(1)
        }
    }
}
