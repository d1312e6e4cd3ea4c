// SPDX-License-Identifier: GPL-2.0

//! Compiling a module on exec.

use alloc::sync::Arc;
use core::ffi::{c_char, c_void, CStr};
use core::fmt::Write;

use kwasm_abi::CompiledModule;
use kwasm_compiler::{compile, BranchForms, Config, IndirectBranch, IsaFeatures};

use crate::ffi;

/// Writes a NUL-terminated message into a C buffer, truncating it.
pub(crate) struct ErrBuf {
    buf: *mut u8,
    cap: usize,
    len: usize,
}

impl ErrBuf {
    /// # Safety
    ///
    /// `buf` is valid for writes of `cap` bytes, `cap >= 1`.
    pub(crate) unsafe fn new(buf: *mut c_char, cap: usize) -> Self {
        let mut e = ErrBuf {
            buf: buf.cast(),
            cap,
            len: 0,
        };
        e.terminate();
        e
    }

    /// The message written so far.
    pub(crate) fn as_cstr(&self) -> &CStr {
        // SAFETY: `buf[len]` is NUL (kept by `terminate`) and `buf[..len]` is initialised; a NUL inside the message just ends the string earlier. The buffer outlives `&self`.
        unsafe { CStr::from_ptr(self.buf.cast()) }
    }

    fn terminate(&mut self) {
        // SAFETY: `len < cap` is kept by `write_str`, and `buf` is valid for `cap` bytes (constructor precondition).
        unsafe { *self.buf.add(self.len) = 0 };
    }
}

impl Write for ErrBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if self.len + 1 >= self.cap {
                break;
            }
            // SAFETY: `len + 1 < cap`, inside the buffer.
            unsafe { *self.buf.add(self.len) = b };
            self.len += 1;
        }
        self.terminate();
        Ok(())
    }
}

/// What the compiler may assume about this CPU.
fn isa_features() -> IsaFeatures {
    let f = ffi::cpu_features();
    IsaFeatures {
        sse41: f & 1 != 0,
        sse42: f & 2 != 0,
        popcnt: f & 4 != 0,
        lzcnt: f & 8 != 0,
        bmi1: f & 16 != 0,
        bmi2: f & 32 != 0,
        avx: f & 64 != 0,
        avx2: f & 128 != 0,
        fma: f & 256 != 0,
    }
}

/// The branch forms the running kernel uses for its own code, or `None`
/// for a mitigation the compiler cannot follow.
fn branch_forms() -> Option<BranchForms> {
    use ffi::branch;
    let f = ffi::branch_forms().ok()?;
    let indirect = if f & branch::THUNK != 0 {
        IndirectBranch::Thunk
    } else if f & branch::LFENCE != 0 {
        IndirectBranch::Lfence
    } else {
        IndirectBranch::Native
    };
    Some(BranchForms {
        indirect,
        return_thunk: f & branch::RETURN_THUNK != 0,
        sls: f & branch::SLS != 0,
        ibt: f & branch::IBT != 0,
    })
}

/// Compiles `wasm[..len]`; returns a reference to a shared
/// `Arc<CompiledModule>` (see [`kwasm_rs_module_get`]) or null with the
/// reason in `err`. Runs on the large kwasm stack (binfmt.c).
///
/// # Safety
///
/// `wasm` is valid for reads of `len` bytes and `err` for writes of
/// `errlen >= 1` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_compile(
    wasm: *const u8,
    len: usize,
    err: *mut c_char,
    errlen: usize,
) -> *mut c_void {
    // SAFETY: caller guarantees `err` is writable for `errlen` bytes.
    let mut err = unsafe { ErrBuf::new(err, errlen) };
    // SAFETY: caller guarantees `wasm` is readable for `len` bytes.
    let bytes = unsafe { core::slice::from_raw_parts(wasm, len) };
    let Some(branches) = branch_forms() else {
        let _ = write!(
            err,
            "the kernel's call depth tracking (retbleed=stuff) is not supported"
        );
        return core::ptr::null_mut();
    };
    let config = Config {
        features: isa_features(),
        branches,
        // The thread flags that make a safepoint call in (run.c): fixed
        // for this kernel, so the code tests them as an immediate.
        safepoint_mask: Some(ffi::safepoint_word().1),
        ..Config::default()
    };
    match compile(bytes, &config) {
        Ok(m) => Arc::into_raw(Arc::new(m)).cast_mut().cast(),
        Err(e) => {
            let _ = write!(err, "{e}");
            core::ptr::null_mut()
        }
    }
}

/// Takes another reference to a module from [`kwasm_rs_compile`] (the code
/// cache shares modules between execs).
///
/// # Safety
///
/// `module` is a live reference from `kwasm_rs_compile` or this function.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_module_get(module: *mut c_void) -> *mut c_void {
    // SAFETY: `module` came from `Arc::into_raw` of an `Arc<CompiledModule>` whose count is at least one while the caller holds its reference.
    unsafe { Arc::increment_strong_count(module.cast::<CompiledModule>().cast_const()) };
    module
}

/// Drops a reference to a module.
///
/// # Safety
///
/// `module` is a live reference from `kwasm_rs_compile` or
/// `kwasm_rs_module_get`, not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_module_put(module: *mut c_void) {
    // SAFETY: as above; this gives the caller's reference back.
    unsafe { Arc::decrement_strong_count(module.cast::<CompiledModule>().cast_const()) };
}

/// Bytes a module holds, for the code cache's bound.
///
/// # Safety
///
/// `module` is a live module reference.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_module_bytes(module: *mut c_void) -> usize {
    // SAFETY: a live reference keeps the module alive for this call.
    let m = unsafe { &*module.cast::<CompiledModule>() };
    let data: usize = m.data.iter().map(|d| d.bytes.len()).sum();
    let elems: usize = m.elements.iter().map(|e| e.items.len() * 16).sum();
    m.code.len() + m.trap_sites.len() * 8 + data + elems + 4096
}
