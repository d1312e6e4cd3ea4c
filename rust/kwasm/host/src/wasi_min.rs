// SPDX-License-Identifier: GPL-2.0

//! A tiny WASI preview1 subset for the host runner's tests: fd_write to
//! stdout/stderr, args, an empty environment, random_get and proc_exit. Every other
//! `wasi_snapshot_preview1` function returns ENOSYS. The full WASI lives
//! elsewhere.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use kwasm_abi::{FuncType, ImportKind, Trap, ValType};
use kwasm_runtime::{Func, Instance};

use crate::platform::{HostFunc, HostPlatform};
use crate::store::{HExtern, InstanceError, Module, Store};
use crate::Stop;

const ERRNO_SUCCESS: u64 = 0;
const ERRNO_BADF: u64 = 8;
const ERRNO_FAULT: u64 = 21;
const ERRNO_INVAL: u64 = 28;
const ERRNO_NOSYS: u64 = 52;

/// Where a guest's output goes.
#[derive(Debug, Clone)]
pub enum Output {
    /// The runner's own stdout/stderr.
    Inherit,
    /// A buffer the caller inspects.
    Capture(Rc<RefCell<Vec<u8>>>),
}

/// State of one WASI program.
#[derive(Debug, Clone)]
pub struct WasiCtx {
    /// argv, including the program name.
    pub args: Vec<String>,
    /// fd 1.
    pub stdout: Output,
    /// fd 2.
    pub stderr: Output,
}

type Mem = kwasm_runtime::Memory<crate::platform::CappedRegion>;

fn memory(inst: &Instance<HostPlatform>) -> Result<&Rc<Mem>, u64> {
    inst.memory().ok_or(ERRNO_FAULT)
}

fn read_u32(m: &Mem, at: u64) -> Result<u32, u64> {
    let mut b = [0u8; 4];
    if m.read(at, &mut b) {
        Ok(u32::from_le_bytes(b))
    } else {
        Err(ERRNO_FAULT)
    }
}

fn write_u32(m: &Mem, at: u64, v: u32) -> Result<(), u64> {
    if m.write(at, &v.to_le_bytes()) {
        Ok(())
    } else {
        Err(ERRNO_FAULT)
    }
}

fn fd_write(ctx: &WasiCtx, inst: &Instance<HostPlatform>, a: &[u64]) -> Result<(), u64> {
    let m = memory(inst)?;
    let (fd, iovs, n, nwritten) = (
        a[0] as u32,
        a[1] & 0xffff_ffff,
        a[2] & 0xffff_ffff,
        a[3] & 0xffff_ffff,
    );
    let out = match fd {
        1 => &ctx.stdout,
        2 => &ctx.stderr,
        _ => return Err(ERRNO_BADF),
    };
    let mut data = Vec::new();
    for i in 0..n {
        let iov = iovs + i * 8;
        let (ptr, len) = (read_u32(m, iov)?, read_u32(m, iov + 4)?);
        let start = data.len();
        data.resize(start + len as usize, 0);
        if !m.read(u64::from(ptr), &mut data[start..]) {
            return Err(ERRNO_FAULT);
        }
    }
    match out {
        Output::Capture(buf) => buf.borrow_mut().extend_from_slice(&data),
        Output::Inherit if fd == 1 => drop(std::io::stdout().write_all(&data)),
        Output::Inherit => drop(std::io::stderr().write_all(&data)),
    }
    write_u32(
        m,
        nwritten,
        u32::try_from(data.len()).map_err(|_| ERRNO_INVAL)?,
    )
}

fn args_sizes_get(ctx: &WasiCtx, inst: &Instance<HostPlatform>, a: &[u64]) -> Result<(), u64> {
    let m = memory(inst)?;
    let size: usize = ctx.args.iter().map(|s| s.len() + 1).sum();
    write_u32(m, a[0] & 0xffff_ffff, ctx.args.len() as u32)?;
    write_u32(m, a[1] & 0xffff_ffff, size as u32)
}

fn args_get(ctx: &WasiCtx, inst: &Instance<HostPlatform>, a: &[u64]) -> Result<(), u64> {
    let m = memory(inst)?;
    let (mut argv, mut buf) = (a[0] & 0xffff_ffff, a[1] & 0xffff_ffff);
    for s in &ctx.args {
        write_u32(m, argv, buf as u32)?;
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        if !m.write(buf, &bytes) {
            return Err(ERRNO_FAULT);
        }
        argv += 4;
        buf += bytes.len() as u64;
    }
    Ok(())
}

fn random_get(_: &WasiCtx, inst: &Instance<HostPlatform>, a: &[u64]) -> Result<(), u64> {
    let m = memory(inst)?;
    let (buf, len) = (a[0] & 0xffff_ffff, a[1] & 0xffff_ffff);
    if !m.in_bounds(buf, len) {
        return Err(ERRNO_FAULT);
    }
    let mut bytes = vec![0u8; len as usize];
    let mut filled = 0;
    while filled < bytes.len() {
        let rest = &mut bytes[filled..];
        // SAFETY: getrandom writes at most rest.len() bytes into our buffer.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n <= 0 {
            return Err(ERRNO_INVAL);
        }
        filled += n as usize;
    }
    if m.write(buf, &bytes) {
        Ok(())
    } else {
        Err(ERRNO_FAULT)
    }
}

fn zero_sizes(inst: &Instance<HostPlatform>, a: &[u64]) -> Result<(), u64> {
    let m = memory(inst)?;
    write_u32(m, a[0] & 0xffff_ffff, 0)?;
    write_u32(m, a[1] & 0xffff_ffff, 0)
}

/// A WASI call implementation: Ok or an errno.
type WasiImpl = fn(&WasiCtx, &Instance<HostPlatform>, &[u64]) -> Result<(), u64>;

/// Wraps an errno-returning implementation as a host function.
fn errno_fn(ctx: &Rc<WasiCtx>, f: WasiImpl) -> HostFunc {
    let ctx = ctx.clone();
    Rc::new(move |inst, args| {
        let r = f(&ctx, inst, args);
        args[0] = match r {
            Ok(()) => ERRNO_SUCCESS,
            Err(e) => e,
        };
        Ok(())
    })
}

fn host_func(ctx: &Rc<WasiCtx>, name: &str, ty: &FuncType) -> Option<HostFunc> {
    let i32s = |n: usize| ty.params.len() == n && ty.params.iter().all(|&p| p == ValType::I32);
    let ret_errno = ty.results == [ValType::I32];
    Some(match name {
        "fd_write" if i32s(4) && ret_errno => errno_fn(ctx, fd_write),
        "args_sizes_get" if i32s(2) && ret_errno => errno_fn(ctx, args_sizes_get),
        "args_get" if i32s(2) && ret_errno => errno_fn(ctx, args_get),
        "environ_sizes_get" if i32s(2) && ret_errno => errno_fn(ctx, |_, i, a| zero_sizes(i, a)),
        "environ_get" if i32s(2) && ret_errno => errno_fn(ctx, |_, _, _| Ok(())),
        "random_get" if i32s(2) && ret_errno => errno_fn(ctx, random_get),
        "proc_exit" if i32s(1) && ty.results.is_empty() => {
            Rc::new(|_, args| Err(Stop::Exit(args[0] as u32 as i32)))
        }
        _ if ret_errno => Rc::new(|_, args| {
            args[0] = ERRNO_NOSYS;
            Ok(())
        }),
        _ => Rc::new(|_, _| Err(Stop::Trap(Trap::HostError))),
    })
}

/// Resolves a module's imports against this WASI subset.
pub fn imports(ctx: &Rc<WasiCtx>, module: &Module) -> Result<Vec<HExtern>, InstanceError> {
    let cm = module.compiled().clone();
    Store::resolve_imports(module, |m, name, kind| {
        let ImportKind::Func(ty) = kind else {
            return None;
        };
        if m != "wasi_snapshot_preview1" {
            return None;
        }
        let ty = cm.types.get(*ty as usize)?.clone();
        let func = host_func(ctx, name, &ty)?;
        Some(HExtern::Func(Func::Host { func, ty }))
    })
}

/// Runs a WASI command: instantiate, call `_start`. Returns the exit status.
pub fn run_command(store: &mut Store, module: &Rc<Module>, ctx: WasiCtx) -> Result<i32, String> {
    let ctx = Rc::new(ctx);
    let imports = imports(&ctx, module).map_err(|e| e.to_string())?;
    let inst = match store.instantiate(module, imports) {
        Ok(i) => i,
        Err(InstanceError::Exit(c)) => return Ok(c),
        Err(e) => return Err(e.to_string()),
    };
    let Some(kwasm_runtime::Extern::Func(start)) = inst.export("_start") else {
        return Err("no _start export".into());
    };
    match store.call_func(&start, &mut []) {
        Ok(()) => Ok(0),
        Err(Stop::Exit(c)) => Ok(c),
        Err(Stop::Trap(t)) => Err(format!("trap: {}", t.name())),
    }
}
