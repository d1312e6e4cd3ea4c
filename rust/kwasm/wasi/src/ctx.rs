// SPDX-License-Identifier: GPL-2.0

//! Per-program WASI state and the per-call context.

use alloc::vec::Vec;

use crate::errno::Errno;
use crate::rights::FdTable;

/// A list of NUL-terminated strings stored back to back, as exec leaves
/// arguments and environment on the user stack and as WASI hands them out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Strings {
    blob: Vec<u8>,
    count: u32,
}

impl Strings {
    /// From NUL-separated bytes (e.g. `mm->arg_start..arg_end`). A missing
    /// final NUL is added; `None` if memory for it cannot be had.
    pub fn from_blob(mut blob: Vec<u8>) -> Option<Self> {
        if blob.last().is_some_and(|&b| b != 0) {
            blob.try_reserve(1).ok()?;
            blob.push(0);
        }
        let count = blob.iter().filter(|&&b| b == 0).count();
        Some(Strings {
            blob,
            count: u32::try_from(count).ok()?,
        })
    }

    /// From separate strings, which must not contain NUL (they are cut at
    /// the first one).
    pub fn from_list<'s>(list: impl IntoIterator<Item = &'s [u8]>) -> Option<Self> {
        let mut blob = Vec::new();
        for s in list {
            let s = s.split(|&b| b == 0).next().unwrap_or_default();
            blob.try_reserve(s.len() + 1).ok()?;
            blob.extend_from_slice(s);
            blob.push(0);
        }
        Self::from_blob(blob)
    }

    /// Number of strings.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// All strings with their NULs.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }
}

/// A preopened directory: an fd and the guest path it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The directory fd.
    pub fd: u32,
    /// The name the guest sees (`fd_prestat_dir_name`), e.g. `/` or `.`.
    pub path: Vec<u8>,
}

/// Per-program WASI state. The runtime builds it at start; WASI calls keep
/// it consistent (closing or renumbering a preopen updates the list).
///
/// wasi-libc finds preopens by calling `fd_prestat_get` on fd 3, 4, ...
/// until `BADF`, so preopens must use consecutive fds from 3.
#[derive(Debug, Clone, Default)]
pub struct WasiState {
    /// `args_get` strings (argv[0] first).
    pub args: Strings,
    /// `environ_get` strings (`KEY=value`).
    pub env: Strings,
    preopens: Vec<Preopen>,
    /// The rights of the fds in use (see [`crate::rights`]).
    pub(crate) fds: FdTable,
}

impl WasiState {
    /// State with these arguments and environment and no preopens.
    pub fn new(args: Strings, env: Strings) -> Self {
        WasiState {
            args,
            env,
            preopens: Vec::new(),
            fds: FdTable::default(),
        }
    }

    /// Declares `fd` a preopened directory named `path`.
    pub fn add_preopen(&mut self, fd: u32, path: &[u8]) -> Result<(), Errno> {
        let mut p = Vec::new();
        p.try_reserve_exact(path.len()).map_err(|_| Errno::NOMEM)?;
        p.extend_from_slice(path);
        self.preopens.try_reserve(1).map_err(|_| Errno::NOMEM)?;
        self.preopens.retain(|x| x.fd != fd);
        self.preopens.push(Preopen { fd, path: p });
        // A fresh directory: it holds its natural rights.
        self.fds.remove(fd);
        Ok(())
    }

    /// The preopen at `fd`, if any.
    pub fn preopen(&self, fd: u32) -> Option<&Preopen> {
        self.preopens.iter().find(|p| p.fd == fd)
    }

    /// All preopens.
    pub fn preopens(&self) -> &[Preopen] {
        &self.preopens
    }

    /// `fd` was closed.
    pub(crate) fn closed(&mut self, fd: u32) {
        self.preopens.retain(|p| p.fd != fd);
        self.fds.remove(fd);
    }

    /// `fd` was just opened, holding every right that applies to it: no
    /// earlier fd of that number is remembered.
    pub(crate) fn new_fd(&mut self, fd: u32) {
        self.closed(fd);
    }

    /// `from` was renumbered to `to`: its preopen name and rights move.
    pub(crate) fn renumbered(&mut self, from: u32, to: u32) {
        self.preopens.retain(|p| p.fd != to);
        for p in &mut self.preopens {
            if p.fd == from {
                p.fd = to;
            }
        }
        self.fds.renumber(from, to);
    }
}

/// How a WASI call ends the program instead of returning an errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u32);

/// Everything one WASI call works with.
pub struct Ctx<'a, O: ?Sized> {
    /// The OS backend.
    pub os: &'a mut O,
    /// Guest linear memory, exactly the current size (empty if the module
    /// has no memory: every pointer is then out of bounds).
    pub mem: &'a mut [u8],
    /// Arguments, environment, preopens.
    pub state: &'a mut WasiState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_from_blob_and_list_agree() {
        let a = Strings::from_blob(b"prog\0arg\0".to_vec()).unwrap();
        let b = Strings::from_list([&b"prog"[..], b"arg"]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.blob(), b"prog\0arg\0");
        let c = Strings::from_blob(b"unterminated".to_vec()).unwrap();
        assert_eq!((c.count(), c.blob()), (1, &b"unterminated\0"[..]));
        let e = Strings::from_blob(Vec::new()).unwrap();
        assert_eq!(e.count(), 0);
    }

    #[test]
    fn closing_and_renumbering_keep_preopens_consistent() {
        let mut s = WasiState::default();
        s.add_preopen(3, b"/").unwrap();
        s.add_preopen(4, b"/tmp").unwrap();
        s.renumbered(3, 4);
        assert_eq!(s.preopen(4).unwrap().path, b"/");
        assert!(s.preopen(3).is_none());
        assert_eq!(s.preopens().len(), 1);
        s.closed(4);
        assert!(s.preopens().is_empty());
    }
}
