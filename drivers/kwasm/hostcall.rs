// SPDX-License-Identifier: GPL-2.0

//! The host-call dispatcher: entered from compiled code through
//! `kwasm_hostcall_entry` (entry.S), on the task stack, outside the FPU
//! section.

use kwasm_abi::Trap;
use kwasm_runtime::{builtin, slots_for, HostcallTarget, Instance};

use crate::ffi;
use crate::platform::{KernelPlatform, Stop};
use crate::program::UNWIND_EXIT;

fn dispatch(inst: &Instance<KernelPlatform>, index: u32, args: *mut u64) -> Result<(), Stop> {
    let (n, target) = match inst.hostcall_target(index) {
        Some(HostcallTarget::Builtin(b, n)) => (n, Ok(b)),
        Some(HostcallTarget::Import(f, ty)) => (slots_for(ty), Err(*f)),
        None => return Err(Stop::Trap(Trap::HostError)),
    };
    let slots: &mut [u64] = if n == 0 {
        &mut []
    } else {
        // SAFETY: compiled code passes an array of at least the slot count of the builtin or import signature it calls, on its stack, live for the duration of the call.
        unsafe { core::slice::from_raw_parts_mut(args, n) }
    };
    match target {
        Ok(b) => builtin(inst, b, slots).map_err(Stop::Trap),
        Err(f) => crate::wasi::call(inst, f.f, slots),
    }
}

/// # Safety
///
/// Called only by `kwasm_hostcall_entry` with the arguments compiled code
/// passed: `vmctx` of a live kernel instance, an index and its slot array.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_hostcall(vmctx: *mut u8, index: u32, args: *mut u64) {
    #[cfg(CONFIG_KWASM_FAULT_INJECTION)]
    if ffi::inject_hostcall_panic() {
        panic!("injected by kwasm.hostcall_panic_pid");
    }
    // SAFETY: `vmctx` belongs to a live `Instance<KernelPlatform>` (the only kind the kernel creates); it outlives the call.
    let inst = unsafe { Instance::<KernelPlatform>::from_vmctx(vmctx) };
    if let Err(stop) = dispatch(inst, index, args) {
        let p = inst.platform();
        let code = match stop {
            Stop::Exit(c) => {
                p.exit_code.set(Some(c));
                UNWIND_EXIT
            }
            Stop::Trap(t) => t as u64,
        };
        let run = p.run;
        // SAFETY: we are in a host call of code entered by `run_call(run)`; only references live in this frame, nothing needs dropping.
        unsafe { ffi::unwind(run, code) };
    }
}
