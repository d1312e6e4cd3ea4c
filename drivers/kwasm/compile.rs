// SPDX-License-Identifier: GPL-2.0

//! Compiling a module on exec.

use alloc::boxed::Box;
use core::ffi::{c_char, c_void};
use core::fmt::Write;

use kwasm_compiler::{compile, Config, IsaFeatures};

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

    fn terminate(&mut self) {
        // SAFETY: `len < cap` is kept by `write_str`, and `buf` is valid for
        // `cap` bytes (constructor precondition).
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
        ..IsaFeatures::default()
    }
}

/// Compiles `wasm[..len]`; returns a `Box<CompiledModule>` or null with the
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
    let config = Config {
        features: isa_features(),
        ..Config::default()
    };
    match compile(bytes, &config) {
        Ok(m) => Box::into_raw(Box::new(m)).cast(),
        Err(e) => {
            let _ = write!(err, "{e}");
            core::ptr::null_mut()
        }
    }
}
