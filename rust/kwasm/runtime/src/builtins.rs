// SPDX-License-Identifier: GPL-2.0

//! Runtime builtins called by compiled code through the host-call entry,
//! with wasm 2.0 semantics: every bounds check happens before any write.
//! Ranges into Rust arrays (tables, segments) go through [`nospec::range`]
//! after their check, so that speculation past it sees an empty range.

use kwasm_abi::{Builtin, Trap};

use crate::platform::Platform;
use crate::Instance;
use kwasm_abi::nospec;

/// Number of argument/result slots of a builtin (what the host-call entry
/// must expose as `args`).
pub fn builtin_slots(b: Builtin) -> usize {
    match b {
        Builtin::MemoryGrow | Builtin::DataDrop | Builtin::ElemDrop => 1,
        Builtin::Safepoint => 0,
        Builtin::MemoryFill | Builtin::MemoryCopy | Builtin::TableGrow => 3,
        Builtin::MemoryInit | Builtin::TableFill => 4,
        Builtin::TableCopy | Builtin::TableInit => 5,
    }
}

/// Result slot value of a failed `memory.grow` / `table.grow`: i32 -1,
/// zero-extended like every i32 slot.
const GROW_FAILED: u64 = 0xffff_ffff;

/// Reads argument `i`, which compiled code always provides; a short slice is
/// a runtime bug, reported as a host error rather than a panic.
fn arg(args: &[u64], i: usize) -> Result<u64, Trap> {
    args.get(i).copied().ok_or(Trap::HostError)
}

/// Reads an i32 argument as unsigned.
fn arg32(args: &[u64], i: usize) -> Result<u64, Trap> {
    Ok(arg(args, i)? & 0xffff_ffff)
}

fn set_result(args: &mut [u64], v: u64) -> Result<(), Trap> {
    *args.first_mut().ok_or(Trap::HostError)? = v;
    Ok(())
}

/// Runs builtin `b` for `inst` with the argument slots `args` (at least
/// [`builtin_slots`] long). A trap is returned, never raised: the caller
/// unwinds.
pub fn builtin<P: Platform>(inst: &Instance<P>, b: Builtin, args: &mut [u64]) -> Result<(), Trap> {
    let mem = || inst.memory().ok_or(Trap::HostError);
    let table = |i: u64| {
        u32::try_from(i)
            .ok()
            .and_then(|i| inst.table(i))
            .ok_or(Trap::HostError)
    };
    match b {
        Builtin::MemoryGrow => {
            let delta = arg32(args, 0)?;
            let r = match mem()?.grow(delta) {
                Some(old) => old,
                // The platform may have refused because the program is
                // being killed (the kernel stops mapping pages then): stop
                // it here rather than let it act on the failure.
                None => {
                    inst.poll_safepoint()?;
                    GROW_FAILED
                }
            };
            set_result(args, r)
        }
        Builtin::MemoryFill => {
            let (dst, val, len) = (arg32(args, 0)?, arg32(args, 1)?, arg32(args, 2)?);
            let m = mem()?;
            ok_or(m.in_bounds(dst, len), Trap::MemoryOutOfBounds)?;
            in_chunks(inst, len, false, |at, n| {
                ok_or(m.fill(dst + at, val as u8, n), Trap::MemoryOutOfBounds)
            })
        }
        Builtin::MemoryCopy => {
            let (dst, src, len) = (arg32(args, 0)?, arg32(args, 1)?, arg32(args, 2)?);
            let m = mem()?;
            ok_or(
                m.in_bounds(dst, len) && m.in_bounds(src, len),
                Trap::MemoryOutOfBounds,
            )?;
            // Front to back when moving down, back to front when moving
            // up: a chunk never reads bytes an earlier chunk overwrote.
            in_chunks(inst, len, dst > src, |at, n| {
                ok_or(
                    m.copy_within(dst + at, src + at, n),
                    Trap::MemoryOutOfBounds,
                )
            })
        }
        Builtin::MemoryInit => {
            let seg = arg32(args, 0)?;
            let (dst, src, len) = (arg32(args, 1)?, arg32(args, 2)?, arg32(args, 3)?);
            let seg = u32::try_from(seg).map_err(|_| Trap::HostError)?;
            let dropped = inst.data_dropped(seg).ok_or(Trap::HostError)?.get();
            let bytes: &[u8] = if dropped {
                &[]
            } else {
                &inst
                    .module()
                    .data
                    .get(seg as usize)
                    .ok_or(Trap::HostError)?
                    .bytes
            };
            let end = src.checked_add(len).ok_or(Trap::MemoryOutOfBounds)?;
            if end > bytes.len() as u64 {
                return Err(Trap::MemoryOutOfBounds);
            }
            let (s, n) = nospec::range(src, len, bytes.len() as u64);
            let part = bytes.get(s..s + n).ok_or(Trap::MemoryOutOfBounds)?;
            ok_or(mem()?.write(dst, part), Trap::MemoryOutOfBounds)
        }
        Builtin::DataDrop => {
            let seg = u32::try_from(arg32(args, 0)?).map_err(|_| Trap::HostError)?;
            inst.data_dropped(seg).ok_or(Trap::HostError)?.set(true);
            Ok(())
        }
        Builtin::TableGrow => {
            let t = table(arg32(args, 0)?)?;
            let (init, delta) = (arg(args, 1)?, arg32(args, 2)?);
            let platform = inst.platform();
            let r = t
                .grow(delta, init, |old, new| {
                    platform.table_growth_allowed(old, new)
                })
                .unwrap_or(GROW_FAILED);
            set_result(args, r)
        }
        Builtin::TableFill => {
            let t = table(arg32(args, 0)?)?;
            let (dst, val, len) = (arg32(args, 1)?, arg(args, 2)?, arg32(args, 3)?);
            ok_or(t.fill(dst, val, len), Trap::TableOutOfBounds)
        }
        Builtin::TableCopy => {
            let dt = table(arg32(args, 0)?)?;
            let st = table(arg32(args, 1)?)?;
            let (dst, src, len) = (arg32(args, 2)?, arg32(args, 3)?, arg32(args, 4)?);
            ok_or(dt.copy_from(st, dst, src, len), Trap::TableOutOfBounds)
        }
        Builtin::TableInit => {
            let t = table(arg32(args, 0)?)?;
            let seg = arg32(args, 1)? as usize;
            let (dst, src, len) = (arg32(args, 2)?, arg32(args, 3)?, arg32(args, 4)?);
            let segs = inst
                .elem_items()
                .try_borrow()
                .map_err(|_| Trap::HostError)?;
            let items = segs.get(seg).ok_or(Trap::HostError)?;
            let end = src.checked_add(len).ok_or(Trap::TableOutOfBounds)?;
            if end > items.len() as u64 {
                return Err(Trap::TableOutOfBounds);
            }
            let (s, n) = nospec::range(src, len, items.len() as u64);
            let part = items.get(s..s + n).ok_or(Trap::TableOutOfBounds)?;
            ok_or(t.write(dst, part), Trap::TableOutOfBounds)
        }
        Builtin::ElemDrop => {
            let seg = arg32(args, 0)? as usize;
            let mut segs = inst
                .elem_items()
                .try_borrow_mut()
                .map_err(|_| Trap::HostError)?;
            *segs.get_mut(seg).ok_or(Trap::HostError)? = alloc::vec::Vec::new();
            Ok(())
        }
        Builtin::Safepoint => inst.platform().safepoint(inst),
    }
}

/// Bytes a `memory.fill` or `memory.copy` handles between two safepoint
/// polls. One instruction may cover 4 GiB, seconds of work under emulation:
/// in 1 MiB steps it stays killable and lets the scheduler in, at the cost
/// of one load per MiB.
const BULK_CHUNK: u64 = 1 << 20;

/// Runs `op(offset, len)` over `[0, len)` in [`BULK_CHUNK`] pieces, first to
/// last or (`backwards`) last to first, polling the safepoint between
/// pieces. The whole range has been bounds-checked: a trap from the poll
/// (the program is being killed) is the only way to stop half way.
fn in_chunks<P: Platform>(
    inst: &Instance<P>,
    len: u64,
    backwards: bool,
    mut op: impl FnMut(u64, u64) -> Result<(), Trap>,
) -> Result<(), Trap> {
    let chunks = len.div_ceil(BULK_CHUNK);
    for i in 0..chunks {
        let k = if backwards { chunks - 1 - i } else { i };
        let at = k * BULK_CHUNK;
        op(at, (len - at).min(BULK_CHUNK))?;
        if i + 1 < chunks {
            inst.poll_safepoint()?;
        }
    }
    Ok(())
}

fn ok_or(ok: bool, trap: Trap) -> Result<(), Trap> {
    if ok {
        Ok(())
    } else {
        Err(trap)
    }
}
