// SPDX-License-Identifier: GPL-2.0

//! Speculation guards for Rust code that indexes memory with wasm values:
//! the runtime's builtins and WASI's guest-memory accessors.
//!
//! A bounds check in Rust is a branch, and a mispredicted branch lets the
//! CPU run the in-bounds path with an out-of-bounds range: `table.fill`,
//! `table.copy`, `table.init` and `memory.init` would read or write table
//! elements or segment bytes up to 32 GiB past their array, and a copy puts
//! what it read where wasm can read it back; a WASI call would hand the
//! kernel a buffer reaching past linear memory. After the architectural
//! check, these pass the range through [`range`], which makes it empty
//! without a branch when it is out of bounds, like the kernel's
//! `array_index_nospec()`.
//!
//! The builtins' linear-memory addresses need none of this: each is `base`
//! plus a 32-bit offset, inside the 4 GiB reservation, and no speculation
//! window is long enough to copy through the 2 GiB guard that follows it.

/// All ones if `start + len <= bound` (without wrapping), else 0, computed
/// without a branch.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn range_mask(start: u64, len: u64, bound: u64) -> u64 {
    let mask: u64;
    // Written in assembly so that the compiler cannot turn the comparison
    // back into a (predicted) branch.
    // SAFETY: register-only arithmetic: no memory access, no stack use, and the flags it clobbers are not preserved across `asm!` anyway.
    unsafe {
        core::arch::asm!(
            "add {end}, {len}",
            "sbb {ovf}, {ovf}",
            "cmp {bound}, {end}",
            "sbb {mask}, {mask}",
            "or {mask}, {ovf}",
            "not {mask}",
            end = inout(reg) start => _,
            len = in(reg) len,
            bound = in(reg) bound,
            ovf = out(reg) _,
            mask = out(reg) mask,
            options(pure, nomem, nostack),
        );
    }
    mask
}

/// All ones if `start + len <= bound` (without wrapping), else 0.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn range_mask(start: u64, len: u64, bound: u64) -> u64 {
    let (end, overflow) = start.overflowing_add(len);
    u64::from(!overflow & (end <= bound)).wrapping_neg()
}

/// `(start, len)` as `usize` if `[start, start + len)` lies within
/// `0..bound`, else `(0, 0)`: the identity on every range that passed its
/// bounds check, and an empty range under speculation past a failed one.
#[inline(always)]
pub fn range(start: u64, len: u64, bound: u64) -> (usize, usize) {
    let m = range_mask(start, len, bound);
    // In bounds means below `bound`, the length of a slice, so both fit.
    ((start & m) as usize, (len & m) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_mask_matches_checked_arithmetic() {
        let vals = [
            0,
            1,
            2,
            7,
            8,
            9,
            u32::MAX as u64,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &s in &vals {
            for &l in &vals {
                for &b in &vals {
                    let want = s.checked_add(l).is_some_and(|e| e <= b);
                    let got = range_mask(s, l, b);
                    assert_eq!(got, if want { u64::MAX } else { 0 }, "{s} {l} {b}");
                }
            }
        }
    }

    #[test]
    fn out_of_bounds_range_becomes_empty() {
        assert_eq!(range(3, 4, 7), (3, 4));
        assert_eq!(range(3, 5, 7), (0, 0));
        assert_eq!(range(u64::MAX, 2, 7), (0, 0));
    }
}
