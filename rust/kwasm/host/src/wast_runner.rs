// SPDX-License-Identifier: GPL-2.0

//! Runs the directives of one .wast script against the compiler and the
//! runtime and reports an outcome per directive. Outcomes are scored on
//! pass/fail only; error texts are not compared.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kwasm_abi::{Trap, ValType};
use kwasm_runtime::{Extern, Func};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::spectest::Spectest;
use crate::store::{HInstance, InstanceError, Store};
use crate::Stop;
use crate::SAFEPOINT_INTERRUPT;

/// Result of one directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It behaved as the script says.
    Pass,
    /// It did not; the message says expected vs got.
    Fail(String),
    /// Not run, with the reason.
    Skip(String),
}

/// One directive's outcome, located in the script.
#[derive(Debug, Clone)]
pub struct Report {
    /// 1-based line of the directive.
    pub line: usize,
    /// Directive kind (`assert_return`, `module`, ...).
    pub kind: &'static str,
    /// What happened.
    pub outcome: Outcome,
    /// Something worth reporting that does not affect scoring: a trap whose
    /// kind differs from the one the script's message names.
    pub note: Option<String>,
}

/// Parses a script into directives, with the lexer settings the spec
/// test files need.
fn parse_buffer(text: &str) -> Result<ParseBuffer<'_>, String> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())
}

/// Number of directives in a script (for accounting when a run dies).
pub fn count_directives(text: &str) -> Result<usize, String> {
    let buf = parse_buffer(text)?;
    let wast = parser::parse::<Wast<'_>>(&buf).map_err(|e| e.to_string())?;
    Ok(wast.directives.len())
}

/// State of one script run.
struct Runner {
    store: Store,
    spectest: Spectest,
    registered: HashMap<String, Rc<HInstance>>,
    named: HashMap<String, Rc<HInstance>>,
    current: Option<Rc<HInstance>>,
    /// Note for the directive being run.
    note: Option<String>,
}

/// Runs `text` (the contents of a .wast file), calling `report` after each
/// directive. Must run on a thread with a known, large stack
/// ([`crate::run_on_stack`]).
pub fn run_script(text: &str, verbose: bool, report: impl FnMut(Report)) -> Result<(), String> {
    run_script_with(text, verbose, crate::compiler_config(), report)
}

/// [`run_script`] with an explicit compiler configuration (e.g. baseline
/// ISA features, to exercise the compiler's fallback paths).
pub fn run_script_with(
    text: &str,
    verbose: bool,
    config: kwasm_compiler::Config,
    report: impl FnMut(Report),
) -> Result<(), String> {
    let opts = ScriptOptions {
        verbose,
        config,
        directive_timeout: DIRECTIVE_TIMEOUT,
    };
    run_script_opts(text, &opts, report)
}

/// How to run a script.
#[derive(Debug, Clone)]
pub struct ScriptOptions {
    /// Print spectest calls.
    pub verbose: bool,
    /// Compiler configuration.
    pub config: kwasm_compiler::Config,
    /// Wasm running longer than this in one directive is interrupted
    /// (through the safepoint word), so a runaway loop fails one directive,
    /// not the whole file.
    pub directive_timeout: Duration,
}

/// [`run_script`] with all options.
pub fn run_script_opts(
    text: &str,
    opts: &ScriptOptions,
    mut report: impl FnMut(Report),
) -> Result<(), String> {
    let verbose = opts.verbose;
    let buf = parse_buffer(text)?;
    let wast = parser::parse::<Wast<'_>>(&buf).map_err(|e| e.to_string())?;
    let mut store = Store::new();
    *store.config_mut() = opts.config.clone();
    let spectest = Spectest::new(&store, verbose).ok_or("cannot create the spectest module")?;
    let mut r = Runner {
        store,
        spectest,
        registered: HashMap::new(),
        named: HashMap::new(),
        current: None,
        note: None,
    };
    let watchdog = Watchdog::start(r.store.platform().safepoint_flags(), opts.directive_timeout);
    for d in wast.directives {
        let (line, _) = d.span().linecol_in(text);
        let kind = directive_kind(&d);
        watchdog.arm();
        let outcome = r.run(d);
        watchdog.disarm();
        report(Report {
            line: line + 1,
            kind,
            outcome,
            note: r.note.take(),
        });
    }
    Ok(())
}

/// Default [`ScriptOptions::directive_timeout`].
pub const DIRECTIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// A thread that sets the interrupt bit when a directive runs too long.
struct Watchdog {
    flags: Arc<AtomicU64>,
    /// Milliseconds since `epoch` at which the current directive started,
    /// or `u64::MAX` when none runs; `STOP` ends the thread.
    started: Arc<AtomicU64>,
    epoch: Instant,
    thread: Option<std::thread::JoinHandle<()>>,
}

const IDLE: u64 = u64::MAX;
const STOP: u64 = u64::MAX - 1;

impl Watchdog {
    fn start(flags: Arc<AtomicU64>, timeout: Duration) -> Self {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let started = Arc::new(AtomicU64::new(IDLE));
        let epoch = Instant::now();
        let (f, s) = (flags.clone(), started.clone());
        let thread = std::thread::spawn(move || loop {
            let t = s.load(Ordering::Relaxed);
            if t == STOP {
                return;
            }
            let now = epoch.elapsed().as_millis() as u64;
            if t != IDLE && now.saturating_sub(t) > timeout_ms {
                f.fetch_or(SAFEPOINT_INTERRUPT, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(50));
        });
        Self {
            flags,
            started,
            epoch,
            thread: Some(thread),
        }
    }

    fn arm(&self) {
        self.flags
            .fetch_and(!SAFEPOINT_INTERRUPT, Ordering::Relaxed);
        let now = self.epoch.elapsed().as_millis() as u64;
        self.started.store(now, Ordering::Relaxed);
    }

    fn disarm(&self) {
        self.started.store(IDLE, Ordering::Relaxed);
        self.flags
            .fetch_and(!SAFEPOINT_INTERRUPT, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.started.store(STOP, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn directive_kind(d: &WastDirective<'_>) -> &'static str {
    use WastDirective::*;
    match d {
        Module(_) => "module",
        ModuleDefinition(_) => "module definition",
        ModuleInstance { .. } => "module instance",
        AssertMalformed { .. } => "assert_malformed",
        AssertInvalid { .. } => "assert_invalid",
        AssertInvalidCustom { .. } => "assert_invalid_custom",
        AssertMalformedCustom { .. } => "assert_malformed_custom",
        Register { .. } => "register",
        Invoke(_) => "invoke",
        AssertTrap { .. } => "assert_trap",
        AssertReturn { .. } => "assert_return",
        AssertExhaustion { .. } => "assert_exhaustion",
        AssertUnlinkable { .. } => "assert_unlinkable",
        AssertException { .. } => "assert_exception",
        AssertSuspension { .. } => "assert_suspension",
        Thread(_) => "thread",
        Wait { .. } => "wait",
    }
}

/// A value produced by wasm, typed.
#[derive(Debug, Clone, Copy)]
struct Val(ValType, u64);

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.1;
        match self.0 {
            ValType::I32 => write!(f, "i32:{}", v as u32 as i32),
            ValType::I64 => write!(f, "i64:{}", v as i64),
            ValType::F32 => write!(f, "f32:{}({:#x})", f32::from_bits(v as u32), v as u32),
            ValType::F64 => write!(f, "f64:{}({v:#x})", f64::from_bits(v)),
            ValType::FuncRef if v == 0 => write!(f, "ref.null func"),
            ValType::FuncRef => write!(f, "ref.func({v:#x})"),
            ValType::ExternRef if v == 0 => write!(f, "ref.null extern"),
            ValType::ExternRef => write!(f, "ref.extern {}", v - 1),
        }
    }
}

/// Encodes an argument in slot form. Externref `n` is the opaque word `n+1`
/// so that 0 stays null.
fn arg_slot(a: &WastArg<'_>) -> Result<u64, String> {
    match a {
        WastArg::Core(c) => Ok(match c {
            WastArgCore::I32(v) => u64::from(*v as u32),
            WastArgCore::I64(v) => *v as u64,
            WastArgCore::F32(f) => u64::from(f.bits),
            WastArgCore::F64(f) => f.bits,
            WastArgCore::RefNull(_) => 0,
            WastArgCore::RefExtern(n) => u64::from(*n) + 1,
            other => return Err(format!("unsupported argument {other:?}")),
        }),
        _ => Err("component argument".into()),
    }
}

fn f32_matches(p: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(p: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    const QNAN: u64 = 0x7ff8_0000_0000_0000;
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == QNAN,
        NanPattern::ArithmeticNan => bits & QNAN == QNAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn ret_matches(r: &WastRetCore<'_>, v: Val) -> Result<bool, String> {
    let Val(ty, bits) = v;
    Ok(match r {
        WastRetCore::I32(x) => ty == ValType::I32 && bits as u32 == *x as u32,
        WastRetCore::I64(x) => ty == ValType::I64 && bits == *x as u64,
        WastRetCore::F32(p) => ty == ValType::F32 && f32_matches(p, bits as u32),
        WastRetCore::F64(p) => ty == ValType::F64 && f64_matches(p, bits),
        WastRetCore::RefNull(_) => matches!(ty, ValType::FuncRef | ValType::ExternRef) && bits == 0,
        WastRetCore::RefExtern(None) => ty == ValType::ExternRef && bits != 0,
        WastRetCore::RefExtern(Some(n)) => ty == ValType::ExternRef && bits == u64::from(*n) + 1,
        // Function identity is not observable in wasm 2.0 scripts beyond
        // non-null-ness.
        WastRetCore::RefFunc(_) => ty == ValType::FuncRef && bits != 0,
        WastRetCore::Either(alts) => {
            for a in alts {
                if ret_matches(a, v)? {
                    return Ok(true);
                }
            }
            false
        }
        other => return Err(format!("unsupported expected value {other:?}")),
    })
}

fn describe_ret(r: &WastRet<'_>) -> String {
    match r {
        WastRet::Core(c) => match c {
            WastRetCore::I32(x) => format!("i32:{x}"),
            WastRetCore::I64(x) => format!("i64:{x}"),
            WastRetCore::F32(NanPattern::Value(v)) => {
                format!("f32:{}({:#x})", f32::from_bits(v.bits), v.bits)
            }
            WastRetCore::F64(NanPattern::Value(v)) => {
                format!("f64:{}({:#x})", f64::from_bits(v.bits), v.bits)
            }
            other => format!("{other:?}"),
        },
        _ => "component value".into(),
    }
}

/// Whether a trap is the one the script names. Only for notes:
/// scoring ignores error texts.
fn trap_matches(expected: &str, t: Trap) -> bool {
    let aliases: &[&str] = match t {
        Trap::TableOutOfBounds => &["out of bounds table access", "undefined element"],
        Trap::IndirectCallNull => &["uninitialized element", "undefined element"],
        Trap::Unreachable => &["unreachable"],
        Trap::MemoryOutOfBounds => &["out of bounds memory access"],
        _ => &[],
    };
    expected.contains(t.name()) || aliases.iter().any(|a| expected.contains(a))
}

/// Why a script module could not be set up.
enum SetupError {
    /// The compiler rejected it.
    Compile(String),
    /// Linking or instantiation failed.
    Instance(InstanceError),
}

impl From<InstanceError> for SetupError {
    fn from(e: InstanceError) -> Self {
        SetupError::Instance(e)
    }
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Compile(e) => write!(f, "compile error: {e}"),
            SetupError::Instance(e) => write!(f, "{e}"),
        }
    }
}

enum ExecResult {
    Values(Vec<Val>),
    Stopped(Stop),
    /// Instantiation of an inline module failed without a trap.
    NotInstantiated(String),
}

impl Runner {
    fn run(&mut self, d: WastDirective<'_>) -> Outcome {
        match self.run_inner(d) {
            Ok(o) => o,
            Err(e) => Outcome::Fail(e),
        }
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Rc<HInstance>, String> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("no module named ${}", id.name())),
            None => self
                .current
                .clone()
                .ok_or_else(|| "no current module".into()),
        }
    }

    /// Compiles, links and instantiates a module.
    fn instantiate(&mut self, bytes: &[u8]) -> Result<Rc<HInstance>, SetupError> {
        let module = self
            .store
            .compile(bytes)
            .map_err(|e| SetupError::Compile(e.to_string()))?;
        let registered = &self.registered;
        let spectest = &self.spectest;
        let imports = Store::resolve_imports(&module, |m, name, _kind| {
            if m == "spectest" {
                return spectest.get(name);
            }
            registered.get(m)?.export(name)
        })?;
        Ok(self.store.instantiate(&module, imports)?)
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<ExecResult, String> {
        let inst = self.instance(inv.module)?;
        let Some(Extern::Func(f)) = inst.export(inv.name) else {
            return Err(format!("no exported function {:?}", inv.name));
        };
        let Func::Wasm { instance, index } = &f else {
            return Err("exported host function".into());
        };
        let ty = instance
            .func_type(*index)
            .ok_or("function without type")?
            .clone();
        let mut args = inv
            .args
            .iter()
            .map(arg_slot)
            .collect::<Result<Vec<u64>, _>>()?;
        if args.len() != ty.params.len() {
            return Err(format!(
                "{} args for {} params",
                args.len(),
                ty.params.len()
            ));
        }
        args.resize(kwasm_runtime::slots_for(&ty), 0);
        Ok(match self.store.call(instance, *index, &mut args) {
            Ok(()) => ExecResult::Values(
                ty.results
                    .iter()
                    .zip(args)
                    .map(|(&t, v)| Val(t, normalise(t, v)))
                    .collect(),
            ),
            Err(s) => ExecResult::Stopped(s),
        })
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<ExecResult, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module)?;
                let Some(Extern::Global(g)) = inst.export(global) else {
                    return Err(format!("no exported global {global:?}"));
                };
                Ok(ExecResult::Values(vec![Val(
                    g.ty(),
                    normalise(g.ty(), g.get()),
                )]))
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode().map_err(|e| format!("encoding module: {e}"))?;
                Ok(match self.instantiate(&bytes) {
                    Ok(_) => ExecResult::Values(Vec::new()),
                    Err(SetupError::Instance(InstanceError::Trap(t))) => {
                        ExecResult::Stopped(Stop::Trap(t))
                    }
                    Err(SetupError::Instance(InstanceError::Exit(c))) => {
                        ExecResult::Stopped(Stop::Exit(c))
                    }
                    Err(e) => ExecResult::NotInstantiated(e.to_string()),
                })
            }
        }
    }

    fn run_inner(&mut self, d: WastDirective<'_>) -> Result<Outcome, String> {
        use WastDirective::*;
        Ok(match d {
            Module(mut qw) => {
                let name = qw.name().map(|id| id.name().to_string());
                if matches!(
                    qw,
                    QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)
                ) {
                    return Ok(Outcome::Skip("component model".into()));
                }
                let bytes = qw.encode().map_err(|e| format!("encoding module: {e}"))?;
                match self.instantiate(&bytes) {
                    Ok(inst) => {
                        if let Some(n) = name {
                            self.named.insert(n, inst.clone());
                        }
                        self.current = Some(inst);
                        Outcome::Pass
                    }
                    Err(e) => {
                        self.current = None;
                        Outcome::Fail(format!("expected module to instantiate, got {e}"))
                    }
                }
            }
            Register { name, module, .. } => {
                let inst = self.instance(module)?;
                self.registered.insert(name.to_string(), inst);
                Outcome::Pass
            }
            Invoke(inv) => match self.invoke(&inv)? {
                ExecResult::Stopped(s) => Outcome::Fail(format!("expected no trap, got {s}")),
                _ => Outcome::Pass,
            },
            AssertReturn { exec, results, .. } => match self.execute(exec)? {
                ExecResult::Values(got) => {
                    if got.len() != results.len() {
                        return Ok(Outcome::Fail(format!(
                            "expected {} results, got {}",
                            results.len(),
                            got.len()
                        )));
                    }
                    for (want, &v) in results.iter().zip(&got) {
                        let WastRet::Core(c) = want else {
                            return Ok(Outcome::Skip("component value".into()));
                        };
                        if !ret_matches(c, v)? {
                            let want: Vec<String> = results.iter().map(describe_ret).collect();
                            let got: Vec<String> = got.iter().map(|v| v.to_string()).collect();
                            return Ok(Outcome::Fail(format!(
                                "expected [{}], got [{}]",
                                want.join(" "),
                                got.join(" ")
                            )));
                        }
                    }
                    Outcome::Pass
                }
                ExecResult::Stopped(s) => Outcome::Fail(format!("expected values, got {s}")),
                ExecResult::NotInstantiated(e) => {
                    Outcome::Fail(format!("expected values, got {e}"))
                }
            },
            AssertTrap { exec, message, .. } => match self.execute(exec)? {
                ExecResult::Stopped(Stop::Trap(t)) => {
                    if !trap_matches(message, t) {
                        self.note = Some(format!("expected trap {message:?}, got {:?}", t.name()));
                    }
                    Outcome::Pass
                }
                ExecResult::Stopped(s) => {
                    Outcome::Fail(format!("expected trap {message:?}, got {s}"))
                }
                ExecResult::Values(v) => {
                    let got: Vec<String> = v.iter().map(|v| v.to_string()).collect();
                    Outcome::Fail(format!(
                        "expected trap {message:?}, got [{}]",
                        got.join(" ")
                    ))
                }
                ExecResult::NotInstantiated(e) => {
                    Outcome::Fail(format!("expected trap {message:?}, got {e}"))
                }
            },
            AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                ExecResult::Stopped(Stop::Trap(Trap::StackOverflow)) => Outcome::Pass,
                ExecResult::Stopped(s) => Outcome::Fail(format!("expected {message:?}, got {s}")),
                _ => Outcome::Fail(format!("expected {message:?}, got a normal return")),
            },
            AssertMalformed { module, .. } => self.expect_compile_error(module, true),
            AssertInvalid { module, .. } => self.expect_compile_error(module, false),
            AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module
                    .encode()
                    .map_err(|e| format!("encoding module: {e}"))?;
                match self.instantiate(&bytes) {
                    Err(SetupError::Instance(InstanceError::Unlinkable(_))) => Outcome::Pass,
                    Ok(_) => {
                        Outcome::Fail(format!("expected unlinkable ({message}), got an instance"))
                    }
                    Err(e) => Outcome::Fail(format!("expected unlinkable ({message}), got {e}")),
                }
            }
            AssertInvalidCustom { .. } | AssertMalformedCustom { .. } => {
                Outcome::Skip("custom-section assertions are not part of wasm 2.0".into())
            }
            ModuleDefinition(_) | ModuleInstance { .. } => {
                Outcome::Skip("module definitions/instances are not part of wasm 2.0".into())
            }
            AssertException { .. } => {
                Outcome::Skip("exception handling is not part of wasm 2.0".into())
            }
            AssertSuspension { .. } => {
                Outcome::Skip("stack switching is not part of wasm 2.0".into())
            }
            Thread(_) | Wait { .. } => Outcome::Skip("threads are not part of wasm 2.0".into()),
        })
    }

    /// assert_malformed / assert_invalid: the module must not compile. Text
    /// that the wast crate cannot even encode counts as rejected (malformed
    /// text is by definition unparseable).
    fn expect_compile_error(&mut self, mut module: QuoteWat<'_>, malformed: bool) -> Outcome {
        let bytes = match module.encode() {
            Ok(b) => b,
            Err(e) => {
                return if malformed || matches!(module, QuoteWat::QuoteModule(..)) {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!("encoding module: {e}"))
                };
            }
        };
        match kwasm_compiler::compile(&bytes, self.store.config_mut()) {
            Err(_) => Outcome::Pass,
            Ok(_) => Outcome::Fail(format!(
                "expected the module to be rejected as {}, but it compiled",
                if malformed { "malformed" } else { "invalid" }
            )),
        }
    }
}

/// Drops the undefined upper half of 32-bit slot values.
fn normalise(t: ValType, v: u64) -> u64 {
    match t {
        ValType::I32 | ValType::F32 => v & 0xffff_ffff,
        _ => v,
    }
}
