// SPDX-License-Identifier: GPL-2.0

//! WASI preview1 host functions, as direct kernel calls.

use alloc::vec::Vec;
use core::cell::RefCell;

use kwasm_abi::{FuncType, ValType};
use kwasm_runtime::Instance;

use crate::ffi;
use crate::platform::{HostFn, KernelPlatform, Stop};

/// WASI errno values (wasi_snapshot_preview1 `errno`).
mod errno {
    pub(super) const SUCCESS: u64 = 0;
    pub(super) const ACCES: u64 = 2;
    pub(super) const AGAIN: u64 = 6;
    pub(super) const BADF: u64 = 8;
    pub(super) const FAULT: u64 = 21;
    pub(super) const FBIG: u64 = 22;
    pub(super) const INTR: u64 = 27;
    pub(super) const INVAL: u64 = 28;
    pub(super) const IO: u64 = 29;
    pub(super) const ISDIR: u64 = 31;
    pub(super) const NOMEM: u64 = 48;
    pub(super) const NOSPC: u64 = 51;
    pub(super) const PERM: u64 = 63;
    pub(super) const PIPE: u64 = 64;
}

/// Maps a negative Linux errno to a WASI errno.
fn from_linux(e: isize) -> u64 {
    match -e {
        1 => errno::PERM,
        4 | 512 => errno::INTR, // EINTR, ERESTARTSYS
        5 => errno::IO,
        9 => errno::BADF,
        11 => errno::AGAIN,
        12 => errno::NOMEM,
        13 => errno::ACCES,
        14 => errno::FAULT,
        21 => errno::ISDIR,
        27 => errno::FBIG,
        28 => errno::NOSPC,
        32 => errno::PIPE,
        _ => errno::INVAL,
    }
}

/// Per-program WASI state.
pub(crate) struct WasiCtx {
    /// NUL-separated argument strings, as exec left them.
    args: RefCell<Vec<u8>>,
    /// NUL-separated environment strings.
    env: RefCell<Vec<u8>>,
}

impl WasiCtx {
    pub(crate) fn new() -> Self {
        WasiCtx {
            args: RefCell::new(Vec::new()),
            env: RefCell::new(Vec::new()),
        }
    }

    /// Copies the argument and environment strings from the new user stack.
    pub(crate) fn load_strings(&self) {
        for (env, cell) in [(false, &self.args), (true, &self.env)] {
            let (start, end) = ffi::strings_range(env);
            let mut v = Vec::new();
            let len = end.saturating_sub(start);
            if v.try_reserve_exact(len).is_ok() {
                v.resize(len, 0);
                if !ffi::copy_from_user(&mut v, start) {
                    v.clear();
                }
            }
            *cell.borrow_mut() = v;
        }
    }
}

/// Guest memory of the calling instance, bounds-checked.
struct Guest<'a>(&'a Instance<KernelPlatform>);

impl Guest<'_> {
    fn slice(&self, ptr: u64, len: u64) -> Option<&mut [u8]> {
        let m = self.0.memory()?;
        if !m.in_bounds(ptr, len) {
            return None;
        }
        // SAFETY: `[ptr, ptr + len)` is inside the accessible part of the linear memory (checked above), which stays mapped while the instance lives; wasm is single-threaded and suspended during the host call, so nothing else accesses it.
        Some(unsafe { core::slice::from_raw_parts_mut(m.base().add(ptr as usize), len as usize) })
    }

    fn read_u32(&self, ptr: u64) -> Option<u32> {
        let b = self.slice(ptr, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn write_u32(&self, ptr: u64, v: u32) -> Option<()> {
        self.slice(ptr, 4)?.copy_from_slice(&v.to_le_bytes());
        Some(())
    }
}

/// `args_sizes_get` / `environ_sizes_get`: (count_ptr, buf_size_ptr).
fn sizes_get(strings: &[u8], g: &Guest<'_>, a: &mut [u64]) -> u64 {
    let count = strings.iter().filter(|&&b| b == 0).count() as u32;
    let r = g
        .write_u32(a[0], count)
        .and_then(|_| g.write_u32(a[1], strings.len() as u32));
    r.map_or(errno::FAULT, |_| errno::SUCCESS)
}

/// `args_get` / `environ_get`: (pointer array, string buffer).
fn strings_get(strings: &[u8], g: &Guest<'_>, a: &mut [u64]) -> u64 {
    let (argv, buf) = (a[0], a[1]);
    let Some(dst) = g.slice(buf, strings.len() as u64) else {
        return errno::FAULT;
    };
    dst.copy_from_slice(strings);
    let mut off = 0u64;
    for (i, s) in strings.split_inclusive(|&b| b == 0).enumerate() {
        let Some(p) = u32::try_from(buf + off).ok() else {
            return errno::FAULT;
        };
        if g.write_u32(argv + 4 * i as u64, p).is_none() {
            return errno::FAULT;
        }
        off += s.len() as u64;
    }
    errno::SUCCESS
}

fn args_sizes_get(inst: &Instance<KernelPlatform>, a: &mut [u64]) -> Result<(), Stop> {
    let s = inst.platform().wasi.args.borrow();
    a[0] = sizes_get(&s, &Guest(inst), a);
    Ok(())
}

fn args_get(inst: &Instance<KernelPlatform>, a: &mut [u64]) -> Result<(), Stop> {
    let s = inst.platform().wasi.args.borrow();
    a[0] = strings_get(&s, &Guest(inst), a);
    Ok(())
}

fn environ_sizes_get(inst: &Instance<KernelPlatform>, a: &mut [u64]) -> Result<(), Stop> {
    let s = inst.platform().wasi.env.borrow();
    a[0] = sizes_get(&s, &Guest(inst), a);
    Ok(())
}

fn environ_get(inst: &Instance<KernelPlatform>, a: &mut [u64]) -> Result<(), Stop> {
    let s = inst.platform().wasi.env.borrow();
    a[0] = strings_get(&s, &Guest(inst), a);
    Ok(())
}

/// `fd_write(fd, iovs, iovs_len, nwritten_ptr)`.
fn fd_write(inst: &Instance<KernelPlatform>, a: &mut [u64]) -> Result<(), Stop> {
    let g = Guest(inst);
    let (fd, iovs, n, nwritten) = (a[0] as u32, a[1], a[2], a[3]);
    let mut total: u64 = 0;
    let mut result = errno::SUCCESS;
    for i in 0..n {
        let Some(iov) = iovs.checked_add(8 * i) else {
            result = errno::FAULT;
            break;
        };
        let (Some(ptr), Some(len)) = (g.read_u32(iov), g.read_u32(iov + 4)) else {
            result = errno::FAULT;
            break;
        };
        let Some(buf) = g.slice(ptr.into(), len.into()) else {
            result = errno::FAULT;
            break;
        };
        let w = ffi::fd_write(fd, buf);
        if w < 0 {
            // Report what was written before the error, like writev(2).
            if total == 0 {
                result = from_linux(w);
            }
            break;
        }
        total += w as u64;
        if (w as u64) < len.into() {
            break;
        }
    }
    if result == errno::SUCCESS && g.write_u32(nwritten, total as u32).is_none() {
        result = errno::FAULT;
    }
    a[0] = result;
    Ok(())
}

/// `proc_exit(code)`: ends the program; the status reaches wait().
fn proc_exit(_inst: &Instance<KernelPlatform>, a: &mut [u64]) -> Result<(), Stop> {
    Err(Stop::Exit(a[0] as u32))
}

use ValType::I32;

/// The functions of `wasi_snapshot_preview1`: name, implementation, params,
/// results.
const FUNCS: &[(&str, HostFn, &[ValType], &[ValType])] = &[
    ("args_get", HostFn(args_get), &[I32, I32], &[I32]),
    (
        "args_sizes_get",
        HostFn(args_sizes_get),
        &[I32, I32],
        &[I32],
    ),
    ("environ_get", HostFn(environ_get), &[I32, I32], &[I32]),
    (
        "environ_sizes_get",
        HostFn(environ_sizes_get),
        &[I32, I32],
        &[I32],
    ),
    ("fd_write", HostFn(fd_write), &[I32, I32, I32, I32], &[I32]),
    ("proc_exit", HostFn(proc_exit), &[I32], &[]),
];

/// Finds the host function for an import.
pub(crate) fn lookup(module: &str, name: &str) -> Option<(HostFn, FuncType)> {
    if module != "wasi_snapshot_preview1" {
        return None;
    }
    let &(_, f, params, results) = FUNCS.iter().find(|(n, ..)| *n == name)?;
    Some((
        f,
        FuncType {
            params: params.to_vec(),
            results: results.to_vec(),
        },
    ))
}
