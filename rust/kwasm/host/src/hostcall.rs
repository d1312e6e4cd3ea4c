// SPDX-License-Identifier: GPL-2.0

//! The single host-call entry of the host runner: builtins go to
//! kwasm-runtime, imports to the bound host function. A trap or stop
//! unwinds to the wasm entry instead of returning into wasm.

use std::panic::{catch_unwind, AssertUnwindSafe};

use kwasm_abi::Trap;
use kwasm_runtime::{builtin, HostcallTarget, Instance};

use crate::platform::HostPlatform;
use crate::{entry, Stop};

fn dispatch(vmctx: *mut u8, index: u32, args: *mut u64) -> Result<(), Stop> {
    // SAFETY: compiled code passes its own vmctx, which belongs to a live instance created with HostPlatform (only this platform installs this entry in a VMContext).
    let inst: &Instance<HostPlatform> = unsafe { Instance::from_vmctx(vmctx) };
    let target = inst
        .hostcall_target(index)
        .ok_or(Stop::Trap(Trap::HostError))?;
    let slots = match &target {
        HostcallTarget::Builtin(_, n) => *n,
        HostcallTarget::Import(_, ty) => kwasm_runtime::slots_for(ty),
    };
    let args: &mut [u64] = if slots == 0 || args.is_null() {
        &mut []
    } else {
        // SAFETY: compiled code passes an array of at least `slots` u64s for this builtin / import signature (ABI contract), live for the call.
        unsafe { core::slice::from_raw_parts_mut(args, slots) }
    };
    match target {
        HostcallTarget::Builtin(b, _) => builtin(inst, b, args).map_err(Stop::Trap),
        HostcallTarget::Import(f, _) => {
            // Clone the Rc so the function stays alive even if it drops the
            // last other reference while running.
            let f = f.clone();
            f(inst, args)
        }
    }
}

/// Host-call entry stored in every `VMContext` (`HostcallFn` ABI).
///
/// # Safety
///
/// Called only by compiled code, with its own vmctx and an argument array
/// sized for `index`.
pub unsafe extern "C" fn kwasm_hostcall(vmctx: *mut u8, index: u32, args: *mut u64) {
    let stop = match catch_unwind(AssertUnwindSafe(|| dispatch(vmctx, index, args))) {
        Ok(Ok(())) => return,
        Ok(Err(stop)) => stop,
        Err(payload) => {
            drop(payload);
            Stop::Trap(Trap::HostError)
        }
    };
    // Everything owned by this frame is dropped by now: the unwind skips it.
    // SAFETY: we run inside a wasm call made by `entry::call` on this thread.
    unsafe { entry::unwind(stop) }
}
