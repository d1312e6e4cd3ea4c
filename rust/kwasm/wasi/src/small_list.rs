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
    /// An empty list, with room for `N` items inline. With
    /// [`SmallList::reserve`], the way to make one on a hot path: it is
    /// built where it lives, where a `Result` around it is built and then
    /// copied out.
    #[inline]
    pub fn new() -> Self {
        SmallList {
            inline: core::array::from_fn(|_| T::default()),
            len: 0,
            heap: None,
        }
    }

    /// Makes room for `n` items in all: one allocation if `n > N` and the
    /// list is still inline and empty, else nothing (later pushes allocate
    /// as needed).
    #[inline]
    pub fn reserve(&mut self, n: usize) -> Result<(), Errno> {
        if n > N && self.heap.is_none() && self.len == 0 {
            self.heap = Some(heap_with(n)?);
        }
        Ok(())
    }

    /// Room for `n` items: inline if `n <= N`, else one allocation. A
    /// list made here and returned is copied out of the `Result` (a memcpy
    /// call in the kernel, whose Rust has no vector registers); hot paths
    /// use [`SmallList::new`] and [`SmallList::reserve`].
    pub fn with_capacity(n: usize) -> Result<Self, Errno> {
        let mut l = Self::new();
        l.reserve(n)?;
        Ok(l)
    }

    /// Appends `item`; beyond the capacity asked for, it may allocate.
    #[inline]
    pub fn push(&mut self, item: T) -> Result<(), Errno> {
        match &mut self.heap {
            None if self.len < N => {
                self.inline[self.len] = item;
                self.len += 1;
                Ok(())
            }
            _ => self.push_heap(item),
        }
    }

    /// [`SmallList::push`] of an item that goes to the heap, moving the
    /// inline ones there first if they are all used.
    #[cold]
    fn push_heap(&mut self, item: T) -> Result<(), Errno> {
        let v = match &mut self.heap {
            Some(v) => v,
            None => {
                let mut v = heap_with(N + 1)?;
                v.extend(self.inline.iter_mut().map(core::mem::take));
                self.heap.insert(v)
            }
        };
        v.try_reserve(1).map_err(|_| Errno::NOMEM)?;
        v.push(item);
        Ok(())
    }
}

/// An empty vector with room for `n` items.
fn heap_with<T>(n: usize) -> Result<Vec<T>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Errno::NOMEM)?;
    Ok(v)
}

impl<T: Default, const N: usize> Default for SmallList<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Deref for SmallList<T, N> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match &self.heap {
            Some(v) => v,
            None => &self.inline[..self.len],
        }
    }
}

impl<T, const N: usize> DerefMut for SmallList<T, N> {
    #[inline]
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
