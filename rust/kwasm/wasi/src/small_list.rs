// SPDX-License-Identifier: GPL-2.0

//! A list that keeps up to `N` items inline and only allocates beyond: a
//! vectored call nearly always has one or two buffers, and an allocation
//! per call was most of the cost of a 1-byte fd_write in the kernel.

use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use crate::errno::Errno;

/// Up to `N` items inline, else on the heap (fallibly allocated).
pub struct SmallList<T, const N: usize> {
    inline: [T; N],
    len: usize,
    heap: Option<Vec<T>>,
}

impl<T: Default, const N: usize> SmallList<T, N> {
    /// Room for `n` items: inline if `n <= N`, else one allocation.
    pub fn with_capacity(n: usize) -> Result<Self, Errno> {
        let heap = if n > N {
            let mut v = Vec::new();
            v.try_reserve_exact(n).map_err(|_| Errno::NOMEM)?;
            Some(v)
        } else {
            None
        };
        Ok(SmallList {
            inline: core::array::from_fn(|_| T::default()),
            len: 0,
            heap,
        })
    }

    /// Appends `item`; beyond the capacity asked for, it may allocate.
    pub fn push(&mut self, item: T) -> Result<(), Errno> {
        if self.heap.is_none() && self.len == N {
            let mut v = Vec::new();
            v.try_reserve(N + 1).map_err(|_| Errno::NOMEM)?;
            v.extend(self.inline.iter_mut().map(core::mem::take));
            self.heap = Some(v);
        }
        match &mut self.heap {
            Some(v) => {
                v.try_reserve(1).map_err(|_| Errno::NOMEM)?;
                v.push(item);
            }
            None => {
                self.inline[self.len] = item;
                self.len += 1;
            }
        }
        Ok(())
    }
}

impl<T, const N: usize> Deref for SmallList<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.heap {
            Some(v) => v,
            None => &self.inline[..self.len],
        }
    }
}

impl<T, const N: usize> DerefMut for SmallList<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.heap {
            Some(v) => v,
            None => &mut self.inline[..self.len],
        }
    }
}

impl<T: core::fmt::Debug, const N: usize> core::fmt::Debug for SmallList<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inline_up_to_n_and_moves_to_the_heap_beyond() {
        let mut l: SmallList<u32, 2> = SmallList::with_capacity(0).unwrap();
        l.push(1).unwrap();
        l.push(2).unwrap();
        assert!(l.heap.is_none());
        l.push(3).unwrap();
        assert!(l.heap.is_some());
        assert_eq!(&*l, &[1, 2, 3]);
        let mut big: SmallList<u32, 2> = SmallList::with_capacity(5).unwrap();
        big.push(7).unwrap();
        big[0] += 1;
        assert_eq!(&*big, &[8]);
    }
}
