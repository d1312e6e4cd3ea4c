// SPDX-License-Identifier: GPL-2.0

//! WASI preview1 and kwasm_net for the host runner: every import is served
//! by kwasm-wasi over its host backend (`HostOs`), the implementation the
//! kernel runs over `KernelOs`, bound to the instance the way the kernel
//! binds it (drivers/kwasm/wasi.rs): guest memory as one slice, the result
//! errno in slot 0, `proc_exit` as a stop.
//!
//! `KWASM_WASI_TRACE` in the runner's environment logs every call on
//! stderr.
//!
//! [`Command::from_process`] sets a program up as the kernel's exec does:
//! the process's arguments, its environment without `KWASM_DIRS`, stdio at
//! guest fds 0-2, and the directories `KWASM_DIRS` names (`HOST[::GUEST]`,
//! comma-separated; by default the current directory as `.`) preopened at
//! fds 3, 4, ...

use std::cell::RefCell;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::rc::Rc;

use kwasm_abi::{FuncType, ImportKind, Trap};
use kwasm_runtime::{Extern, Func};
use kwasm_wasi::host::HostOs;
use kwasm_wasi::{Ctx, Strings, WasiFunc, WasiState};

use crate::store::{HExtern, InstanceError, Module, Store};
use crate::{HostFunc, Stop};

/// The environment variable naming preopened directories (as in the
/// kernel); the program does not see it.
pub const DIRS_VAR: &str = "KWASM_DIRS";

/// What a WASI program starts with.
#[derive(Debug)]
pub struct Command {
    /// argv, the program name first.
    pub args: Vec<Vec<u8>>,
    /// `KEY=value` strings.
    pub env: Vec<Vec<u8>>,
    /// Guest fds 0, 1 and 2.
    pub stdio: [OwnedFd; 3],
    /// Directories to preopen, as (host path, guest name), at fds 3, 4, ...
    pub dirs: Vec<(PathBuf, Vec<u8>)>,
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `proc_exit(status)`, or 0 when `_start` returned.
    Exit(i32),
    /// A trap.
    Trap(Trap),
}

/// Parses `KWASM_DIRS`: `HOST[::GUEST]` entries, comma-separated.
pub fn parse_dirs(value: &[u8]) -> Vec<(PathBuf, Vec<u8>)> {
    value
        .split(|&b| b == b',')
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let (host, guest) = match entry.windows(2).position(|w| w == b"::") {
                Some(i) => (&entry[..i], &entry[i + 2..]),
                None => (entry, entry),
            };
            (
                PathBuf::from(OsString::from_vec(host.to_vec())),
                guest.to_vec(),
            )
        })
        .collect()
}

impl Command {
    /// A program with these arguments, an empty environment, no preopens,
    /// and the given stdio.
    pub fn new(args: &[&str], stdio: [OwnedFd; 3]) -> Self {
        Command {
            args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
            env: Vec::new(),
            stdio,
            dirs: Vec::new(),
        }
    }

    /// As the kernel sets up the exec of `args` from this process: its
    /// environment without `KWASM_DIRS`, its stdio, and the preopens.
    pub fn from_process(args: Vec<OsString>) -> std::io::Result<Self> {
        let mut env = Vec::new();
        let mut dirs = None;
        for (k, v) in std::env::vars_os() {
            if k == DIRS_VAR {
                dirs = Some(parse_dirs(&v.into_vec()));
                continue;
            }
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            env.push(kv);
        }
        Ok(Command {
            args: args.into_iter().map(OsString::into_vec).collect(),
            env,
            stdio: [
                std::io::stdin().as_fd().try_clone_to_owned()?,
                std::io::stdout().as_fd().try_clone_to_owned()?,
                std::io::stderr().as_fd().try_clone_to_owned()?,
            ],
            dirs: dirs.unwrap_or_else(|| vec![(PathBuf::from("."), b".".to_vec())]),
        })
    }
}

/// An anonymous file collecting a program's output, for tests and
/// benchmarks: its fd goes in [`Command::stdio`], [`Capture::take`] reads
/// what was written.
#[derive(Debug)]
pub struct Capture(File);

impl Capture {
    /// A new, empty capture file (`O_TMPFILE`, never linked).
    pub fn new() -> std::io::Result<Self> {
        const O_TMPFILE: i32 = 0o20_200_000;
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(O_TMPFILE)
            .open(std::env::temp_dir())
            .map(Capture)
    }

    /// An fd for the program's side.
    pub fn fd(&self) -> std::io::Result<OwnedFd> {
        self.0.try_clone().map(OwnedFd::from)
    }

    /// Everything written so far.
    pub fn take(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        if self.0.rewind().is_ok() {
            let _ = self.0.read_to_end(&mut v);
        }
        v
    }
}

/// Whether `KWASM_WASI_TRACE` asks for a stderr line per WASI call.
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("KWASM_WASI_TRACE").is_some())
}

/// One program's WASI state, shared by its host functions.
type Shared = Rc<RefCell<(HostOs, WasiState)>>;

/// Binds WASI function `f` to the program's state.
fn bind(shared: &Shared, f: &'static WasiFunc<HostOs>) -> HostFunc {
    let shared = shared.clone();
    Rc::new(move |inst, slots| {
        let mem: &mut [u8] = match inst.memory() {
            // SAFETY: the memory's accessible size is mapped and nothing else touches it while wasm waits for this host call; the slice is dropped before returning.
            Some(m) => unsafe { std::slice::from_raw_parts_mut(m.base(), m.size() as usize) },
            None => &mut [],
        };
        let Ok(mut st) = shared.try_borrow_mut() else {
            return Err(Stop::Trap(Trap::HostError));
        };
        let (os, state) = &mut *st;
        let mut cx = Ctx { os, mem, state };
        let r = f.call(&mut cx, slots);
        if trace() {
            let n = f.params.len().min(slots.len());
            eprintln!("wasi: {}{:x?} -> {r:?}", f.name, &slots[..n]);
        }
        match r {
            Ok(e) => {
                if let Some(s) = slots.first_mut().filter(|_| !f.results.is_empty()) {
                    *s = u64::from(e.0);
                }
                Ok(())
            }
            Err(x) => Err(Stop::Exit(x.0 as i32)),
        }
    })
}

/// Resolves a module's imports against WASI preview1 and kwasm_net; an
/// import of another name or of another type is unlinkable, as in the
/// kernel.
pub fn imports(shared: &Shared, module: &Module) -> Result<Vec<HExtern>, InstanceError> {
    let cm = module.compiled().clone();
    Store::resolve_imports(module, |m, name, kind| {
        let ImportKind::Func(ty) = kind else {
            return None;
        };
        let f = kwasm_wasi::lookup::<HostOs>(m, name)
            .or_else(|| kwasm_wasi::net::lookup::<HostOs>(m, name))?;
        let want = FuncType {
            params: f.params.to_vec(),
            results: f.results.to_vec(),
        };
        let ty = cm.types.get(*ty as usize)?.clone();
        (ty == want).then(|| {
            HExtern::Func(Func::Host {
                func: bind(shared, f),
                ty,
            })
        })
    })
}

/// Runs `module` as a WASI command set up by `cmd`: instantiates it (with
/// its start function) and calls `_start`. Must run on a wasm stack
/// ([`crate::run_on_stack`]). An error is a program that could not start
/// (a missing import, a directory that cannot be preopened).
pub fn run_command(store: &mut Store, module: &Rc<Module>, cmd: Command) -> Result<Ended, String> {
    let mut os = HostOs::new();
    for (fd, host) in cmd.stdio.into_iter().enumerate() {
        os.insert(fd as u32, host);
    }
    let strings = |v: &[Vec<u8>]| Strings::from_list(v.iter().map(|s| &s[..]));
    let mut state = WasiState::new(
        strings(&cmd.args).ok_or("out of memory")?,
        strings(&cmd.env).ok_or("out of memory")?,
    );
    for (host, guest) in &cmd.dirs {
        let fd = os
            .open_dir(host)
            .map_err(|e| format!("cannot preopen {}: {e}", host.display()))?;
        state
            .add_preopen(fd, guest)
            .map_err(|_| "out of memory".to_string())?;
    }
    let shared: Shared = Rc::new(RefCell::new((os, state)));
    let imports = imports(&shared, module).map_err(|e| e.to_string())?;
    let inst = match store.instantiate(module, imports) {
        Ok(i) => i,
        Err(InstanceError::Exit(c)) => return Ok(Ended::Exit(c)),
        Err(InstanceError::Trap(t)) => return Ok(Ended::Trap(t)),
        Err(e) => return Err(e.to_string()),
    };
    let Some(Extern::Func(start)) = inst.export("_start") else {
        return Err("no _start export".into());
    };
    match store.call_func(&start, &mut []) {
        Ok(()) => Ok(Ended::Exit(0)),
        Err(Stop::Exit(c)) => Ok(Ended::Exit(c)),
        Err(Stop::Trap(t)) => Ok(Ended::Trap(t)),
    }
}
