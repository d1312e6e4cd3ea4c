// SPDX-License-Identifier: GPL-2.0

//! WASI preview1 and kwasm_net for a program: every function comes from
//! kwasm-wasi over [`KernelOs`]; this binds it to the instance (guest memory, argument
//! slots), restarts calls interrupted by signals, and sets up the arguments,
//! environment and preopened directories at start.

use alloc::vec::Vec;
use core::cell::RefCell;

use kwasm_abi::FuncType;
use kwasm_runtime::Instance;
use kwasm_wasi::{Ctx, Strings, WasiFunc, WasiState};

use crate::ffi;
use crate::platform::{HostFn, KernelPlatform, Stop};
use crate::wasi_os::{self, KernelOs};

/// The environment variable naming preopened directories (see
/// Documentation/kwasm/admin-guide.rst); the program does not see it.
const DIRS_VAR: &[u8] = b"KWASM_DIRS=";

/// Per-program WASI state.
pub(crate) struct WasiCtx {
    state: RefCell<WasiState>,
}

/// Why a program cannot start.
pub(crate) enum StartError {
    /// Out of memory reading the strings.
    NoMem,
    /// A preopened directory could not be opened: its host path and errno.
    Preopen(Vec<u8>, i32),
}

/// The strings exec left on the new user stack (arguments or environment).
fn user_strings(env: bool) -> Option<Vec<u8>> {
    let (start, end) = ffi::strings_range(env);
    let len = end.saturating_sub(start);
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    // An unreadable range (a bug) reads as no strings.
    if !ffi::copy_from_user(&mut v, start) {
        v.clear();
    }
    Some(v)
}

/// A copy of `b`, allocated fallibly: the start of a program is outside any
/// compile or host call, where a failed allocation's panic is a BUG(), and
/// these are up to `MAX_ARG_STRLEN` (128 KiB) of the caller's choosing.
fn try_copy(b: &[u8]) -> Result<Vec<u8>, StartError> {
    let mut v = Vec::new();
    v.try_reserve_exact(b.len())
        .map_err(|_| StartError::NoMem)?;
    v.extend_from_slice(b);
    Ok(v)
}

/// Removes `KWASM_DIRS=...` from the environment blob; returns its value.
fn take_dirs(env: &mut Vec<u8>) -> Result<Option<Vec<u8>>, StartError> {
    let mut start = 0;
    while start < env.len() {
        let end = env[start..]
            .iter()
            .position(|&b| b == 0)
            .map_or(env.len(), |p| start + p + 1);
        if env[start..end].starts_with(DIRS_VAR) {
            let value = try_copy(
                env[start + DIRS_VAR.len()..end]
                    .split(|&b| b == 0)
                    .next()
                    .unwrap_or_default(),
            )?;
            env.drain(start..end);
            return Ok(Some(value));
        }
        start = end;
    }
    Ok(None)
}

/// Opens `host` and declares it preopened as `guest`.
fn preopen(state: &mut WasiState, host: &[u8], guest: &[u8]) -> Result<(), StartError> {
    let fail = |e| try_copy(host).map_or(StartError::NoMem, |h| StartError::Preopen(h, e));
    let mut path = Vec::new();
    path.try_reserve_exact(host.len() + 1)
        .map_err(|_| StartError::NoMem)?;
    path.extend_from_slice(host);
    path.push(0);
    let path = core::ffi::CStr::from_bytes_with_nul(&path).map_err(|_| fail(22))?;
    let fd = wasi_os::open_dir(path).map_err(fail)?;
    state.add_preopen(fd, guest).map_err(|_| StartError::NoMem)
}

impl WasiCtx {
    pub(crate) fn new() -> Self {
        WasiCtx {
            state: RefCell::new(WasiState::default()),
        }
    }

    /// Reads arguments and environment and opens the preopened directories:
    /// the current directory as `.` by default, or `KWASM_DIRS`, a
    /// comma-separated list of `HOST[::GUEST]`. Runs in the new program,
    /// at fds 3, 4, ... if nothing else is open there.
    ///
    /// A `secure` exec (one that changed credentials: setuid, setgid, file
    /// capabilities) gets no preopens: the directories would be chosen by
    /// the caller (its environment, its current directory) and opened with
    /// the program's credentials.
    pub(crate) fn start(&self, secure: bool) -> Result<(), StartError> {
        let args = user_strings(false).ok_or(StartError::NoMem)?;
        let mut env = user_strings(true).ok_or(StartError::NoMem)?;
        let dirs = take_dirs(&mut env)?;
        let mut state = WasiState::new(
            Strings::from_blob(args).ok_or(StartError::NoMem)?,
            Strings::from_blob(env).ok_or(StartError::NoMem)?,
        );
        match dirs {
            _ if secure => {}
            // A directory the user cannot read is no reason not to run.
            None => {
                if let Err(StartError::NoMem) = preopen(&mut state, b".", b".") {
                    return Err(StartError::NoMem);
                }
            }
            Some(list) => {
                for entry in list.split(|&b| b == b',').filter(|e| !e.is_empty()) {
                    let (host, guest) = match entry.windows(2).position(|w| w == b"::") {
                        Some(i) => (&entry[..i], &entry[i + 2..]),
                        None => (entry, entry),
                    };
                    preopen(&mut state, host, guest)?;
                }
            }
        }
        *self.state.borrow_mut() = state;
        Ok(())
    }
}

/// Finds the host function for an import.
pub(crate) fn lookup(module: &str, name: &str) -> Option<(HostFn, FuncType)> {
    let f = kwasm_wasi::lookup::<KernelOs>(module, name)
        .or_else(|| kwasm_wasi::net::lookup::<KernelOs>(module, name))?;
    Some((
        HostFn {
            f,
            leaf: crate::leaf::Leaf::of(f.name),
        },
        FuncType {
            params: f.params.to_vec(),
            results: f.results.to_vec(),
        },
    ))
}

/// Calls WASI function `f` for `inst` with its argument/result slots.
pub(crate) fn call(
    inst: &Instance<KernelPlatform>,
    f: &WasiFunc<KernelOs>,
    slots: &mut [u64],
) -> Result<(), Stop> {
    let mut os = KernelOs::new(inst.platform().run);
    loop {
        let r = {
            let mem: &mut [u8] = match inst.memory() {
                // SAFETY: the accessible part of the linear memory is mapped while the instance lives, and nothing else touches it during a host call (wasm is single-threaded and waits for us); the slice ends with this block, before memory can grow.
                Some(m) => unsafe { core::slice::from_raw_parts_mut(m.base(), m.size() as usize) },
                None => &mut [],
            };
            let Ok(mut state) = inst.platform().wasi.state.try_borrow_mut() else {
                return Err(Stop::Trap(kwasm_abi::Trap::HostError));
            };
            let mut cx = Ctx {
                os: &mut os,
                mem,
                state: &mut state,
            };
            f.call(&mut cx, slots)
        };
        // Signals are handled with nothing of the call left on the stack:
        // a SIGKILL while stopped in there ends the task on the spot.
        if !core::mem::take(&mut os.restart) || ffi::safepoint() {
            return match r {
                Ok(e) => {
                    if let Some(s) = slots.first_mut().filter(|_| !f.results.is_empty()) {
                        *s = u64::from(e.0);
                    }
                    Ok(())
                }
                Err(x) => Err(Stop::Exit(x.0)),
            };
        }
    }
}
