// SPDX-License-Identifier: GPL-2.0

//! Leaf host calls: WASI functions that never sleep and touch nothing but
//! guest memory and a clock run where compiled code called them, on the
//! wasm stack inside the FPU section, before `kwasm_hostcall_entry`
//! (entry.S) switches to the task stack, ends the FPU section and goes
//! through the generic dispatch (hostcall.rs). That path costs hundreds of
//! instructions; a program that reads the clock in its event loop pays it
//! on every iteration.
//!
//! Only the plain case is taken here. A task under a seccomp filter or with
//! an audit context (the policies of policy.c), or an unusual argument (a
//! clock other than realtime and monotonic, a result pointer out of bounds
//! or misaligned), takes the full path, which is the reference for every
//! result and every error. Code here must not panic: inside the FPU section
//! a panic cannot be contained (panic.rs); and it is not a fault-injection
//! point (kwasm.hostcall_panic_pid) for the same reason.

use kwasm_abi::nospec;
use kwasm_runtime::Instance;

use crate::ffi;
use crate::platform::KernelPlatform;

/// The WASI functions with a leaf path.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Leaf {
    /// `clock_time_get(id, precision, time)`.
    ClockTimeGet,
}

impl Leaf {
    /// The leaf path of the WASI function `name`, if it has one.
    pub(crate) fn of(name: &str) -> Option<Leaf> {
        match name {
            "clock_time_get" => Some(Leaf::ClockTimeGet),
            _ => None,
        }
    }
}

/// The imports of `inst` that have a leaf path, bit i for import i < 64:
/// `kwasm_hostcall_entry` offers only these to [`kwasm_rs_hostcall_leaf`]
/// (an import past 63 always takes the full path, which is correct, only
/// slower; WASI programs import far fewer functions).
pub(crate) fn imports(inst: &Instance<KernelPlatform>) -> u64 {
    (0..64u32)
        .filter(|&i| inst.host_func(i).is_some_and(|(f, _)| f.leaf.is_some()))
        .fold(0, |mask, i| mask | 1 << i)
}

/// Runs host call `index` as a leaf call if it is one and its case is
/// plain; returns whether it did (else the full path runs it).
///
/// # Safety
///
/// Called only by `kwasm_hostcall_entry` with the arguments compiled code
/// passed: `vmctx` of a live kernel instance, an index and its slot array.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_hostcall_leaf(
    vmctx: *mut u8,
    index: u32,
    args: *mut u64,
) -> bool {
    // SAFETY: `vmctx` belongs to a live `Instance<KernelPlatform>` (the only kind the kernel creates); it outlives the call.
    let inst = unsafe { Instance::<KernelPlatform>::from_vmctx(vmctx) };
    let Some((f, _)) = inst.host_func(index) else {
        return false;
    };
    match f.leaf {
        Some(Leaf::ClockTimeGet) => {
            // SAFETY: compiled code passes at least as many slots as the import has parameters (3 for clock_time_get, whose type the import was checked against), live for the call.
            let slots = unsafe { core::slice::from_raw_parts_mut(args, 3) };
            clock_time_get(inst, slots)
        }
        None => false,
    }
}

/// `clock_time_get` with a realtime or monotonic clock and an aligned
/// result pointer inside memory, for a task without policies to apply.
fn clock_time_get(inst: &Instance<KernelPlatform>, slots: &mut [u64]) -> bool {
    let &mut [id, _precision, out] = slots else {
        return false;
    };
    let Some(mem) = inst.memory() else {
        return false;
    };
    let out = u64::from(out as u32);
    if out % 8 != 0 || out.checked_add(8).is_none_or(|end| end > mem.size()) {
        return false;
    }
    let Some(ns) = ffi::leaf_clock_ns(id as u32) else {
        return false;
    };
    // Masked as every guest access is (guest.rs): under a mispredicted
    // check above, the store goes to offset 0.
    let (at, _) = nospec::range(out, 8, mem.size());
    // SAFETY: `[at, at + 8)` lies in the accessible memory (checked above, which also makes the masked range the same), 8-byte aligned (memory bases are page aligned); nothing else accesses guest memory during a host call.
    unsafe { mem.base().add(at).cast::<u64>().write(ns.to_le()) };
    // errno SUCCESS in result slot 0.
    slots[0] = 0;
    true
}
