// SPDX-License-Identifier: GPL-2.0

//! WASI rights: what each fd holds, and the checks every `fd_*`, `path_*`,
//! `sock_*` call and `poll_oneoff` subscription makes against them.
//!
//! An fd's *natural* rights are the ones that apply to its type and open
//! mode (a directory cannot be read, written or seeked; a read-only file
//! cannot be written; a pipe cannot seek; only directories have `path_*`
//! rights). An fd the program did not open through WASI (stdio, preopens,
//! anything inherited, sockets from `kwasm_net`) holds its natural rights,
//! and a directory passes every right on (inheriting = all). `path_open`
//! gives the new fd the rights asked for, less those that do not apply to
//! what was opened; `sock_accept` gives the listener's inheriting rights,
//! less those that do not apply. `fd_fdstat_set_rights` can only drop
//! rights.
//!
//! A missing right fails the call with `NOTCAPABLE` when the fd's type and
//! open mode would allow the operation (the right was dropped, or not asked
//! for). When they would not, the call fails as the operation would on
//! that kind of fd, as in wasmtime: `BADF` for reading, writing or seeking
//! a directory and for reading (writing) an fd not open for it, `NOTDIR`
//! for a `path_*` call or `fd_readdir` on anything but a directory,
//! `NOTSOCK` for `sock_*` on anything but a socket, `SPIPE` for seeking
//! what cannot seek, `INVAL` for truncating a read-only file.
//!
//! The rights of each fd live in an [`FdTable`], made lazily: an fd gets
//! its entry (the natural rights, found with a few system calls) the first
//! time a call uses it, or when WASI opens it; closing or renumbering over
//! it drops the entry. So the table never holds more than one entry per
//! open fd, and allocation is fallible: an entry that cannot be stored is
//! derived again on the next call (an fd with fewer than its natural rights
//! always has its entry: room for it is reserved before the fd is opened or
//! its rights are dropped).

use alloc::vec::Vec;
use kwasm_abi::nospec;

use crate::errno::Errno;
use crate::funcs::{fd_filetype, os};
use crate::os::{oflag, WasiOs, SEEK_CUR};
use crate::types::{filetype, rights};
use crate::WasiState;

/// The rights of one open fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdRights {
    /// The fd.
    pub fd: u32,
    /// Its WASI file type.
    pub filetype: u8,
    /// Rights for calls on the fd itself.
    pub base: u64,
    /// Rights fds opened through it may have.
    pub inheriting: u64,
    /// The base rights its type and open mode allow (`base` is a subset).
    pub natural: u64,
}

impl FdRights {
    /// An fd holding its natural rights.
    fn natural(fd: u32, n: Natural) -> Self {
        FdRights {
            fd,
            filetype: n.filetype,
            base: n.base,
            inheriting: n.inheriting,
            natural: n.base,
        }
    }
}

/// The rights of the fds WASI has seen, sorted by fd (binary search; one
/// entry per open fd at most).
#[derive(Debug, Clone, Default)]
pub(crate) struct FdTable {
    entries: Vec<FdRights>,
}

impl FdTable {
    fn find(&self, fd: u32) -> Result<usize, usize> {
        // A process's fds are usually dense from 0: then the entry of fd
        // is at index fd, and a host call needs no search.
        if self.at(fd).is_some_and(|e| e.fd == fd) {
            return Ok(fd as usize);
        }
        self.entries.binary_search_by_key(&fd, |e| e.fd)
    }

    /// The entry at index `fd`. The guest picks `fd`: past a mispredicted
    /// bounds check the index becomes 0 (`nospec`), not up to 128 GiB past
    /// the table.
    #[inline]
    fn at(&self, fd: u32) -> Option<&FdRights> {
        let (i, len) = (u64::from(fd), self.entries.len() as u64);
        if i >= len {
            return None;
        }
        self.entries
            .get((i & nospec::range_mask(i, 1, len)) as usize)
    }

    /// A copy of the entry of `fd`, if it has one.
    pub(crate) fn get(&self, fd: u32) -> Option<FdRights> {
        self.entry(fd).copied()
    }

    /// The entry of `fd`, if it has one.
    #[inline]
    pub(crate) fn entry(&self, fd: u32) -> Option<&FdRights> {
        match self.at(fd) {
            Some(e) if e.fd == fd => Some(e),
            _ => self.find(fd).ok().and_then(|i| self.entries.get(i)),
        }
    }

    /// Makes room for one more entry, so that the next [`FdTable::put`]
    /// cannot fail.
    pub(crate) fn reserve(&mut self) -> Result<(), Errno> {
        self.entries.try_reserve(1).map_err(|_| Errno::NOMEM)
    }

    /// Stores `e`, replacing the entry of its fd.
    pub(crate) fn put(&mut self, e: FdRights) -> Result<(), Errno> {
        match self.find(e.fd) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    *slot = e;
                }
            }
            Err(i) => {
                self.reserve()?;
                self.entries.insert(i, e);
            }
        }
        Ok(())
    }

    /// `fd` is closed.
    pub(crate) fn remove(&mut self, fd: u32) {
        if let Ok(i) = self.find(fd) {
            self.entries.remove(i);
        }
    }

    /// `from` was renumbered to `to`: `to`'s entry goes, `from`'s moves.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) {
        self.remove(to);
        if let Ok(i) = self.find(from) {
            let mut e = self.entries.remove(i);
            e.fd = to;
            // Back where one was just removed: no allocation.
            let j = self.find(to).unwrap_or_else(|j| j);
            self.entries.insert(j, e);
        }
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// What applies to an fd, from its type and open mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Natural {
    /// The WASI file type.
    pub filetype: u8,
    /// Base rights.
    pub base: u64,
    /// Inheriting rights: everything for a directory, else as `base`.
    pub inheriting: u64,
}

/// The natural rights of the open fd `fd`; `flags` are its `F_GETFL` flags
/// if known (asked for otherwise).
pub(crate) fn natural<O: WasiOs + ?Sized>(
    os_: &mut O,
    fd: u32,
    flags: Option<u64>,
) -> Result<Natural, Errno> {
    let fl = match flags {
        Some(f) => f,
        None => os(os_.get_flags(fd))?,
    };
    let st = os(os_.stat(fd))?;
    let ft = fd_filetype(os_, fd, &st);
    let path_only = fl & oflag::O_PATH != 0;
    let acc = fl & oflag::O_ACCMODE;
    let readable = !path_only && acc != oflag::O_WRONLY;
    let writable = !path_only && acc != oflag::O_RDONLY;
    if ft == filetype::DIRECTORY {
        let mut base = rights::DIRECTORY;
        if !readable {
            base &= !rights::FD_READDIR;
        }
        // What may be opened beneath a directory does not depend on how the
        // directory itself was opened (wasi-libc's openat asks for its
        // inheriting rights, so a read-only directory must still allow
        // writable files).
        return Ok(Natural {
            filetype: ft,
            base,
            inheriting: rights::ALL,
        });
    }
    let mut base = rights::ALL & !(rights::PATH_ALL | rights::FD_READDIR);
    if !matches!(
        ft,
        filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM | filetype::UNKNOWN
    ) {
        base &= !rights::SOCK_ALL;
    }
    // wasi-libc's isatty() is "character device without seek/tell".
    if ft != filetype::REGULAR_FILE && os_.seek(fd, 0, SEEK_CUR).is_err() {
        base &= !(rights::FD_SEEK | rights::FD_TELL);
    }
    if !readable {
        base &= !rights::FD_READ;
    }
    if !writable {
        base &= !(rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE);
    }
    Ok(Natural {
        filetype: ft,
        base,
        inheriting: base,
    })
}

/// The rights `fd` holds (`BADF` if it is not open).
pub(crate) fn get<O: WasiOs + ?Sized>(
    os_: &mut O,
    state: &mut WasiState,
    fd: u32,
) -> Result<FdRights, Errno> {
    if let Some(e) = state.fds.get(fd) {
        return Ok(e);
    }
    let e = FdRights::natural(fd, natural(os_, fd, None)?);
    // Kept so that later calls skip the system calls; without memory for
    // it, the same rights are derived again next time.
    let _ = state.fds.put(e);
    Ok(e)
}

/// The error for a call on `e` that needs the rights `missing`, which it
/// lacks (see the module documentation).
pub(crate) fn denied(e: &FdRights, missing: u64) -> Errno {
    let unnatural = missing & !e.natural;
    if unnatural == 0 {
        Errno::NOTCAPABLE
    } else if unnatural & rights::SOCK_ALL != 0 {
        Errno::NOTSOCK
    } else if e.filetype == filetype::DIRECTORY {
        Errno::BADF
    } else if unnatural & (rights::PATH_ALL | rights::FD_READDIR) != 0 {
        Errno::NOTDIR
    } else if unnatural & (rights::FD_SEEK | rights::FD_TELL) != 0 {
        Errno::SPIPE
    } else if unnatural == rights::FD_FILESTAT_SET_SIZE {
        Errno::INVAL
    } else {
        Errno::BADF
    }
}

/// Checks that `fd` holds every right in `need`; returns its rights.
///
/// Inline, with the fd's table entry found and checked in place: this runs
/// on every read and write, and the general path (a call, and a copy of the
/// entry through `get`) was a tenth of a 1-byte write in the kernel.
#[inline]
pub(crate) fn need<O: WasiOs + ?Sized>(
    os_: &mut O,
    state: &mut WasiState,
    fd: u32,
    need: u64,
) -> Result<FdRights, Errno> {
    match state.fds.entry(fd) {
        Some(e) if need & !e.base == 0 => Ok(*e),
        _ => need_slow(os_, state, fd, need),
    }
}

/// [`need`] for an fd without an entry yet, or that lacks a right.
fn need_slow<O: WasiOs + ?Sized>(
    os_: &mut O,
    state: &mut WasiState,
    fd: u32,
    need: u64,
) -> Result<FdRights, Errno> {
    let e = get(os_, state, fd)?;
    let missing = need & !e.base;
    if missing != 0 {
        return Err(denied(&e, missing));
    }
    Ok(e)
}

/// As [`need`], for a `sock_*` call: anything known not to be a socket is
/// `NOTSOCK` whatever its rights.
pub(crate) fn need_socket<O: WasiOs + ?Sized>(
    os_: &mut O,
    state: &mut WasiState,
    fd: u32,
    need_: u64,
) -> Result<FdRights, Errno> {
    let e = get(os_, state, fd)?;
    if !matches!(
        e.filetype,
        filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM | filetype::UNKNOWN
    ) {
        return Err(Errno::NOTSOCK);
    }
    need(os_, state, fd, need_)
}

/// Records the rights of `fd`, just opened (by `path_open` or
/// `sock_accept`) with `flags` (its `F_GETFL` flags, if known): `base` and
/// `inheriting` (what was asked for and may be inherited), less what does
/// not apply to the new fd. Room for the entry must have been reserved
/// ([`FdTable::reserve`]).
pub(crate) fn opened<O: WasiOs + ?Sized>(
    os_: &mut O,
    state: &mut WasiState,
    fd: u32,
    flags: Option<u64>,
    base: u64,
    inheriting: u64,
) {
    let e = match natural(os_, fd, flags) {
        Ok(n) => FdRights {
            fd,
            filetype: n.filetype,
            base: base & n.base,
            inheriting: inheriting & n.inheriting,
            natural: n.base,
        },
        // The fd was just opened, so this does not happen; if it did, the
        // fd could only be closed.
        Err(_) => FdRights {
            fd,
            filetype: filetype::UNKNOWN,
            base: 0,
            inheriting: 0,
            natural: rights::ALL,
        },
    };
    // Reserved by the caller; failing anyway leaves the fd without an
    // entry, with its natural rights.
    let _ = state.fds.put(e);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fd: u32) -> FdRights {
        FdRights {
            fd,
            filetype: filetype::REGULAR_FILE,
            base: u64::from(fd),
            inheriting: 0,
            natural: rights::ALL,
        }
    }

    #[test]
    fn fd_table_stays_sorted_and_holds_one_entry_per_fd() {
        let mut t = FdTable::default();
        for fd in [5, 1, 9, 3, 5] {
            t.put(entry(fd)).unwrap();
        }
        assert_eq!(t.len(), 4);
        assert!(t.entries.windows(2).all(|w| w[0].fd < w[1].fd));
        t.renumber(1, 7);
        assert_eq!((t.get(1), t.get(7).map(|e| e.base)), (None, Some(1)));
        t.renumber(7, 9);
        assert_eq!((t.len(), t.get(9).map(|e| e.base)), (3, Some(1)));
        assert!(t.entries.windows(2).all(|w| w[0].fd < w[1].fd));
        t.renumber(4, 3);
        assert_eq!(
            t.get(3),
            None,
            "renumbering an fd without entry drops `to`'s"
        );
        t.remove(9);
        t.remove(9);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn fd_table_finds_dense_and_sparse_fds_alike() {
        let mut t = FdTable::default();
        for fd in [0, 1, 2, 3, 7, 40] {
            t.put(entry(fd)).unwrap();
        }
        for fd in 0..50 {
            let want = [0, 1, 2, 3, 7, 40].contains(&fd).then_some(u64::from(fd));
            assert_eq!(t.get(fd).map(|e| e.base), want, "fd {fd}");
        }
        // Index 4 holds fd 7: the direct look-up must not take it for fd 4.
        assert_eq!(t.find(4), Err(4));
        t.remove(1);
        assert_eq!((t.get(1), t.get(2).map(|e| e.fd)), (None, Some(2)));
    }

    #[test]
    fn denial_is_notcapable_only_where_type_and_mode_would_allow() {
        let mut dir = entry(3);
        dir.filetype = filetype::DIRECTORY;
        dir.natural = rights::DIRECTORY;
        dir.base = rights::DIRECTORY & !rights::PATH_OPEN;
        assert_eq!(denied(&dir, rights::PATH_OPEN), Errno::NOTCAPABLE);
        assert_eq!(denied(&dir, rights::FD_READ), Errno::BADF);
        assert_eq!(denied(&dir, rights::FD_SEEK), Errno::BADF);
        assert_eq!(denied(&dir, rights::SOCK_ACCEPT), Errno::NOTSOCK);
        let mut ro = entry(4);
        ro.natural = rights::ALL
            & !(rights::PATH_ALL
                | rights::FD_READDIR
                | rights::SOCK_ALL
                | rights::FD_WRITE
                | rights::FD_ALLOCATE
                | rights::FD_FILESTAT_SET_SIZE);
        ro.base = 0;
        assert_eq!(denied(&ro, rights::FD_READ), Errno::NOTCAPABLE);
        assert_eq!(denied(&ro, rights::FD_WRITE), Errno::BADF);
        assert_eq!(denied(&ro, rights::FD_FILESTAT_SET_SIZE), Errno::INVAL);
        assert_eq!(denied(&ro, rights::PATH_OPEN), Errno::NOTDIR);
        assert_eq!(denied(&ro, rights::FD_READDIR), Errno::NOTDIR);
        ro.natural &= !(rights::FD_SEEK | rights::FD_TELL);
        assert_eq!(denied(&ro, rights::FD_READ | rights::FD_SEEK), Errno::SPIPE);
    }
}
