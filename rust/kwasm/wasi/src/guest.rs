// SPDX-License-Identifier: GPL-2.0

//! Guest linear memory: every pointer and length a WASI call receives is
//! checked here, with checked arithmetic, against the memory's current size.
//!
//! Out-of-bounds ranges are `FAULT` (wasmtime traps instead; a Linux
//! program gets `EFAULT` from a system call, and kwasm behaves like one).
//! Pointers to WASI structs and integers must be aligned to the type, as
//! witx requires; misalignment is `INVAL`. Byte buffers and strings may be
//! anywhere.
//!
//! Results are written through [`Out`] tokens that are checked *before* a
//! call has side effects, so that data read from a pipe or an fd just opened
//! is never lost to a bad result pointer.
//!
//! Speculation: every checked range is also masked without a branch
//! (`kwasm_abi::nospec`), so that a mispredicted bounds check yields an empty
//! range at offset 0 instead of an address past the memory (the rule for
//! every access in design.rst, "Speculation").

use alloc::vec::Vec;
use core::ffi::CStr;

use kwasm_abi::nospec;

use crate::errno::Errno;
pub use crate::small_list::SmallList;

/// Buffers of one vectored call kept inline (no allocation) up to this many.
pub const IOV_INLINE: usize = 2;

/// The buffers of a vectored call.
pub type IoList<T> = SmallList<T, IOV_INLINE>;

/// Largest path accepted, including the NUL (Linux `PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// At most this many buffers per vectored I/O call (Linux `IOV_MAX`); more
/// make the call short, as a partial read or write is always allowed.
pub const IOV_MAX: usize = 1024;

/// At most this many bytes per vectored I/O call (Linux `MAX_RW_COUNT`,
/// which the kernel applies anyway).
pub const MAX_RW: u32 = 0x7fff_f000;

/// Guest linear memory of the current size.
pub struct Guest<'a> {
    mem: &'a mut [u8],
}

/// A checked location for a result of `N` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Out<const N: usize> {
    at: usize,
}

/// A guest pointer from an argument slot (i32 params are zero-extended).
#[inline]
pub fn ptr(slot: u64) -> u32 {
    slot as u32
}

impl<'a> Guest<'a> {
    /// Wraps the memory; its length is the current size.
    #[inline]
    pub fn new(mem: &'a mut [u8]) -> Self {
        Guest { mem }
    }

    /// The memory size in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.mem.len()
    }

    /// Whether the memory is empty.
    pub fn is_empty(&self) -> bool {
        self.mem.is_empty()
    }

    /// `[ptr, ptr + len)` as indices, if inside the memory.
    #[inline]
    fn range(&self, ptr: u32, len: u64) -> Result<core::ops::Range<usize>, Errno> {
        checked_range(self.mem.len(), ptr, len)
    }

    /// Checks bounds and alignment of an array of `count` elements of
    /// `size` bytes aligned to `align`; returns the start index.
    #[inline]
    pub fn check_array(&self, ptr: u32, count: u32, size: u32, align: u32) -> Result<usize, Errno> {
        if !ptr.is_multiple_of(align) {
            return Err(Errno::INVAL);
        }
        let len = u64::from(count) * u64::from(size);
        Ok(self.range(ptr, len)?.start)
    }

    /// Bytes `[ptr, ptr + len)`.
    #[inline]
    pub fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len.into())?;
        Ok(&self.mem[r])
    }

    /// Mutable bytes `[ptr, ptr + len)`.
    #[inline]
    pub fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len.into())?;
        Ok(&mut self.mem[r])
    }

    /// Checks a result location of `N` bytes aligned to `align`.
    #[inline]
    pub fn out<const N: usize>(&self, ptr: u32, align: u32) -> Result<Out<N>, Errno> {
        let at = self.check_array(ptr, 1, N as u32, align)?;
        Ok(Out { at })
    }

    /// Checks a `u32` result location.
    #[inline]
    pub fn out_u32(&self, ptr: u32) -> Result<Out<4>, Errno> {
        self.out(ptr, 4)
    }

    /// Checks a `u64` result location.
    #[inline]
    pub fn out_u64(&self, ptr: u32) -> Result<Out<8>, Errno> {
        self.out(ptr, 8)
    }

    /// Writes a checked result. Memory cannot shrink during a host call, so
    /// a checked location stays valid.
    #[inline]
    pub fn put<const N: usize>(&mut self, out: Out<N>, bytes: [u8; N]) {
        // As a fixed-size array: a slice copy is a memcpy call in the kernel.
        if let Some(dst) = self
            .mem
            .get_mut(out.at..out.at + N)
            .and_then(|d| <&mut [u8; N]>::try_from(d).ok())
        {
            *dst = bytes;
        }
    }

    /// Writes a `u32` result.
    #[inline]
    pub fn put_u32(&mut self, out: Out<4>, v: u32) {
        self.put(out, v.to_le_bytes());
    }

    /// Writes a `u64` result.
    #[inline]
    pub fn put_u64(&mut self, out: Out<8>, v: u64) {
        self.put(out, v.to_le_bytes());
    }

    /// Reads a little-endian `u32` at a byte index already checked.
    #[inline]
    fn u32_at(&self, at: usize) -> u32 {
        self.mem
            .get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, u32::from_le_bytes)
    }

    /// Reads an aligned `u32`.
    #[inline]
    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        let at = self.check_array(ptr, 1, 4, 4)?;
        Ok(self.u32_at(at))
    }

    /// Calls `f` with the `(buf, buf_len)` pairs of an iovec array, skipping
    /// empty ones. Only the first [`IOV_MAX`] entries count, empty or not
    /// (a short transfer, as wasmtime's writev gives): a call's work is
    /// bounded by that, not by the 2^29 entries a 4 GiB memory could list.
    /// Each buffer is bounds checked first.
    fn each_iovec(
        &self,
        iovs: u32,
        count: u32,
        mut f: impl FnMut(u32, u32) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let base = self.check_array(iovs, count, 8, 4)?;
        let mut total = 0u32;
        for i in 0..(count as usize).min(IOV_MAX) {
            if total == MAX_RW {
                break;
            }
            let at = base + 8 * i;
            let r = self.range(self.u32_at(at), self.u32_at(at + 4).into())?;
            // The masked range (empty under a mispredicted check).
            let (p, n) = (r.start as u32, (r.end - r.start) as u32);
            // Keep the total within one Linux read/write, so the count
            // transferred always fits the u32 result.
            let n = n.min(MAX_RW - total);
            if n != 0 {
                f(p, n)?;
                total += n;
            }
        }
        Ok(())
    }

    /// The checked `(buf, buf_len)` pairs of an iovec array (see
    /// [`Guest::each_iovec`]).
    fn iovec_list(&self, iovs: u32, count: u32) -> Result<IoList<(u32, u32)>, Errno> {
        let mut list = IoList::with_capacity((count as usize).min(IOV_MAX))?;
        self.each_iovec(iovs, count, |p, n| list.push((p, n)))?;
        Ok(list)
    }

    /// The buffers of a `ciovec` array, for writing out of guest memory.
    pub fn ciovecs(&self, iovs: u32, count: u32) -> Result<IoList<&[u8]>, Errno> {
        let mut bufs = IoList::with_capacity((count as usize).min(IOV_MAX))?;
        self.each_iovec(iovs, count, |p, n| bufs.push(self.bytes(p, n)?))?;
        Ok(bufs)
    }

    /// Calls `f` with the buffers of a `ciovec` array ([`Guest::ciovecs`]).
    /// A single buffer, the common case, goes to `f` without building a
    /// list: a 1-byte write in the kernel paid more for the list (and the
    /// copies of it) than for the rest of the decoding.
    pub fn with_ciovecs<R>(
        &self,
        iovs: u32,
        count: u32,
        f: impl FnOnce(&[&[u8]]) -> R,
    ) -> Result<R, Errno> {
        if count == 1 {
            return Ok(match self.single_iovec(iovs)? {
                Some((p, n)) => f(&[self.bytes(p, n)?]),
                None => f(&[]),
            });
        }
        Ok(f(&self.ciovecs(iovs, count)?))
    }

    /// Calls `f` with the buffers of an `iovec` array ([`Guest::iovecs`]),
    /// a single one without building a list (see [`Guest::with_ciovecs`]).
    pub fn with_iovecs<R>(
        &mut self,
        iovs: u32,
        count: u32,
        f: impl FnOnce(&mut [&mut [u8]]) -> R,
    ) -> Result<R, Errno> {
        if count == 1 {
            return Ok(match self.single_iovec(iovs)? {
                Some((p, n)) => f(&mut [self.bytes_mut(p, n)?]),
                None => f(&mut []),
            });
        }
        Ok(f(&mut self.iovecs(iovs, count)?))
    }

    /// The buffer of a one-element iovec array, checked as
    /// [`Guest::each_iovec`] checks each; `None` if it is empty.
    #[inline]
    fn single_iovec(&self, iovs: u32) -> Result<Option<(u32, u32)>, Errno> {
        let at = self.check_array(iovs, 1, 8, 4)?;
        let r = self.range(self.u32_at(at), self.u32_at(at + 4).into())?;
        // The masked range, within one Linux read/write (see each_iovec).
        let (p, n) = (r.start as u32, ((r.end - r.start) as u32).min(MAX_RW));
        Ok((n != 0).then_some((p, n)))
    }

    /// The buffers of an `iovec` array, for reading into guest memory, as
    /// disjoint mutable slices in array order.
    ///
    /// Buffers that overlap each other cannot all be handed out at once;
    /// then only the first non-empty one is used (a short read, which is
    /// what wasmtime always does).
    pub fn iovecs(&mut self, iovs: u32, count: u32) -> Result<IoList<&mut [u8]>, Errno> {
        let list = self.iovec_list(iovs, count)?;
        if list.len() <= 1 {
            // The common case: one buffer, nothing to order or carve.
            let mut bufs = IoList::with_capacity(1)?;
            if let Some(&(p, n)) = list.first() {
                bufs.push(self.bytes_mut(p, n)?)?;
            }
            return Ok(bufs);
        }
        let mut order: IoList<usize> = IoList::with_capacity(list.len())?;
        for i in 0..list.len() {
            order.push(i)?;
        }
        order.sort_unstable_by_key(|&i| list[i].0);
        let overlap = order.windows(2).any(|w| {
            let (a, b) = (list[w[0]], list[w[1]]);
            u64::from(a.0) + u64::from(a.1) > u64::from(b.0)
        });
        // Array order, not address order: on overlap the first buffer is
        // list[0], alone.
        let used = if overlap {
            1.min(list.len())
        } else {
            list.len()
        };
        let order: &[usize] = if overlap { &[0][..used] } else { &order };
        // Carve the sorted, disjoint buffers out of memory front to back.
        let mut slots: IoList<Option<&mut [u8]>> = IoList::with_capacity(used)?;
        for _ in 0..used {
            slots.push(None)?;
        }
        let mut rest: &mut [u8] = &mut *self.mem;
        let mut consumed = 0usize;
        for &i in order {
            let (p, n) = (list[i].0 as usize, list[i].1 as usize);
            let tail = core::mem::take(&mut rest);
            let (_, tail) = tail.split_at_mut(p - consumed);
            let (buf, tail) = tail.split_at_mut(n);
            slots[i] = Some(buf);
            rest = tail;
            consumed = p + n;
        }
        let mut bufs = IoList::with_capacity(used)?;
        for s in slots.iter_mut() {
            if let Some(b) = s.take() {
                bufs.push(b)?;
            }
        }
        Ok(bufs)
    }

    /// A path argument: UTF-8 (`ILSEQ` otherwise), no NUL inside (`INVAL`),
    /// shorter than [`PATH_MAX`] (`NAMETOOLONG`). Copied out, NUL-terminated,
    /// so the OS call may write guest memory while using it.
    pub fn path(&self, ptr: u32, len: u32) -> Result<PathBuf, Errno> {
        read_path(self.mem, ptr, len)
    }
}

/// [`Guest::path`] on a shared view of the memory.
pub fn read_path(mem: &[u8], ptr: u32, len: u32) -> Result<PathBuf, Errno> {
    let r = checked_range(mem.len(), ptr, len.into())?;
    PathBuf::new(&mem[r])
}

/// `[ptr, ptr + len)` as indices into a memory of `size` bytes, if inside
/// it; masked so that it is `0..0` even under a mispredicted check.
#[inline]
fn checked_range(size: usize, ptr: u32, len: u64) -> Result<core::ops::Range<usize>, Errno> {
    let start = u64::from(ptr);
    let end = start.checked_add(len).ok_or(Errno::FAULT)?;
    if end > size as u64 {
        return Err(Errno::FAULT);
    }
    let (start, len) = nospec::range(start, len, size as u64);
    Ok(start..start + len)
}

/// A checked, NUL-terminated copy of a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathBuf(Vec<u8>);

impl PathBuf {
    /// Checks and copies `bytes` (see [`Guest::path`]).
    pub fn new(bytes: &[u8]) -> Result<Self, Errno> {
        if bytes.len() >= PATH_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        if core::str::from_utf8(bytes).is_err() {
            return Err(Errno::ILSEQ);
        }
        if bytes.contains(&0) {
            return Err(Errno::INVAL);
        }
        let mut v = Vec::new();
        v.try_reserve_exact(bytes.len() + 1)
            .map_err(|_| Errno::NOMEM)?;
        v.extend_from_slice(bytes);
        v.push(0);
        Ok(PathBuf(v))
    }

    /// The path as a C string.
    pub fn as_cstr(&self) -> &CStr {
        // The constructor guarantees exactly one NUL, at the end.
        CStr::from_bytes_with_nul(&self.0).unwrap_or_default()
    }

    /// The path bytes without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..self.0.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem_with_iovs(iovs: &[(u32, u32)]) -> Vec<u8> {
        let mut m = alloc::vec![0u8; 256];
        for (i, (p, n)) in iovs.iter().enumerate() {
            m[8 * i..8 * i + 4].copy_from_slice(&p.to_le_bytes());
            m[8 * i + 4..8 * i + 8].copy_from_slice(&n.to_le_bytes());
        }
        m
    }

    #[test]
    fn out_of_bounds_ranges_fail_and_are_masked_empty() {
        let mut mem = [0u8; 64];
        let g = Guest::new(&mut mem);
        assert_eq!(g.range(60, 4), Ok(60..64));
        assert_eq!(g.range(61, 4), Err(Errno::FAULT));
        assert_eq!(checked_range(64, 64, 0), Ok(64..64));
        assert_eq!(checked_range(64, u32::MAX, u64::MAX), Err(Errno::FAULT));
    }

    #[test]
    fn ranges_are_checked_against_the_memory_size_without_overflow() {
        let mut m = alloc::vec![0u8; 100];
        let mut g = Guest::new(&mut m);
        assert!(g.bytes(0, 100).is_ok());
        assert!(g.bytes(100, 0).is_ok());
        assert_eq!(g.bytes(100, 1).err(), Some(Errno::FAULT));
        assert_eq!(g.bytes(101, 0).err(), Some(Errno::FAULT));
        assert_eq!(g.bytes(u32::MAX, u32::MAX).err(), Some(Errno::FAULT));
        assert_eq!(g.bytes_mut(1, u32::MAX).err(), Some(Errno::FAULT));
        assert_eq!(g.check_array(0, u32::MAX, 48, 8), Err(Errno::FAULT));
        assert_eq!(g.check_array(4, 2, 48, 8), Err(Errno::INVAL));
    }

    #[test]
    fn result_locations_need_alignment_and_bounds() {
        let mut m = alloc::vec![0u8; 16];
        let mut g = Guest::new(&mut m);
        assert_eq!(g.out_u32(2).err(), Some(Errno::INVAL));
        assert_eq!(g.out_u64(12).err(), Some(Errno::INVAL));
        assert_eq!(g.out_u32(16).err(), Some(Errno::FAULT));
        let o = g.out_u64(8).unwrap();
        g.put_u64(o, 0x0102_0304_0506_0708);
        let o = g.out_u32(0).unwrap();
        g.put_u32(o, 7);
        assert_eq!(m[0..4], [7, 0, 0, 0]);
        assert_eq!(m[8..16], [8, 7, 6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn one_iovec_is_checked_like_any_other() {
        // The count-1 fast path of with_ciovecs/with_iovecs against the
        // general walk over the same array with a second, empty element.
        for (p, n) in [
            (100, 3),
            (0, 0),
            (250, 6),
            (250, 7),
            (255, 2),
            (u32::MAX, 2),
        ] {
            let mut m = mem_with_iovs(&[(p, n), (0, 0)]);
            m[100..103].copy_from_slice(b"abc");
            let g = Guest::new(&mut m);
            let copy = |b: &[&[u8]]| b.iter().map(|s| s.to_vec()).collect::<Vec<_>>();
            let one = g.with_ciovecs(0, 1, copy);
            let two = g.with_ciovecs(0, 2, copy);
            assert_eq!(one, two, "ciovec ({p}, {n})");
            let lens = |b: &mut [&mut [u8]]| b.iter().map(|s| s.len()).collect::<Vec<_>>();
            let mut m2 = m.clone();
            let one = Guest::new(&mut m2).with_iovecs(0, 1, lens);
            let two = Guest::new(&mut m).with_iovecs(0, 2, lens);
            assert_eq!(one, two, "iovec ({p}, {n})");
        }
        let mut m = mem_with_iovs(&[]);
        let g = Guest::new(&mut m);
        assert_eq!(g.with_ciovecs(2, 1, |_| ()), Err(Errno::INVAL));
        let mut g = Guest::new(&mut m);
        assert_eq!(g.with_iovecs(252, 1, |_| ()), Err(Errno::FAULT));
    }

    #[test]
    fn ciovecs_skip_empty_buffers_and_check_every_one() {
        let mut m = mem_with_iovs(&[(100, 3), (0, 0), (200, 2)]);
        m[100..103].copy_from_slice(b"abc");
        m[200..202].copy_from_slice(b"de");
        let g = Guest::new(&mut m);
        let bufs = g.ciovecs(0, 3).unwrap();
        assert_eq!(&*bufs, [&b"abc"[..], &b"de"[..]]);
        let mut m = mem_with_iovs(&[(100, 3), (250, 7)]);
        assert_eq!(Guest::new(&mut m).ciovecs(0, 2).err(), Some(Errno::FAULT));
        let mut m = mem_with_iovs(&[]);
        assert_eq!(Guest::new(&mut m).ciovecs(2, 1).err(), Some(Errno::INVAL));
        assert_eq!(Guest::new(&mut m).ciovecs(0, 40).err(), Some(Errno::FAULT));
    }

    #[test]
    fn iovecs_are_disjoint_slices_in_array_order() {
        let mut m = mem_with_iovs(&[(200, 4), (100, 2), (150, 0), (104, 8)]);
        let mut g = Guest::new(&mut m);
        let mut bufs = g.iovecs(0, 4).unwrap();
        assert_eq!(bufs.iter().map(|b| b.len()).collect::<Vec<_>>(), [4, 2, 8]);
        bufs[0].fill(1);
        bufs[1].fill(2);
        bufs[2].fill(3);
        drop(bufs);
        assert_eq!(m[200..204], [1; 4]);
        assert_eq!(m[100..102], [2; 2]);
        assert_eq!(m[104..112], [3; 8]);
    }

    #[test]
    fn overlapping_iovecs_fall_back_to_the_first_buffer() {
        let mut m = mem_with_iovs(&[(100, 10), (105, 10)]);
        let mut g = Guest::new(&mut m);
        let bufs = g.iovecs(0, 2).unwrap();
        assert_eq!(bufs.len(), 1);
        assert_eq!(bufs[0].len(), 10);
    }

    #[test]
    fn overlap_fallback_keeps_the_first_buffer_in_array_order() {
        let mut m = mem_with_iovs(&[(150, 10), (100, 60)]);
        let mut g = Guest::new(&mut m);
        let mut bufs = g.iovecs(0, 2).unwrap();
        assert_eq!(bufs.len(), 1);
        bufs[0].fill(9);
        drop(bufs);
        assert_eq!(m[150..160], [9; 10]);
        assert_eq!(m[149], 0);
    }

    #[test]
    fn adjacent_iovecs_are_not_overlapping() {
        let mut m = mem_with_iovs(&[(100, 10), (110, 10)]);
        let mut g = Guest::new(&mut m);
        assert_eq!(g.iovecs(0, 2).unwrap().len(), 2);
    }

    #[test]
    fn paths_are_checked_and_nul_terminated() {
        let p = PathBuf::new(b"a/b").unwrap();
        assert_eq!(p.as_cstr().to_bytes(), b"a/b");
        assert_eq!(p.as_bytes(), b"a/b");
        assert_eq!(PathBuf::new(b"a\xffb").err(), Some(Errno::ILSEQ));
        assert_eq!(PathBuf::new(b"file\0").err(), Some(Errno::INVAL));
        assert_eq!(
            PathBuf::new(&[b'a'; PATH_MAX]).err(),
            Some(Errno::NAMETOOLONG)
        );
        assert!(PathBuf::new(&[b'a'; PATH_MAX - 1]).is_ok());
        assert_eq!(PathBuf::new(b"").unwrap().as_cstr().to_bytes(), b"");
    }
}
