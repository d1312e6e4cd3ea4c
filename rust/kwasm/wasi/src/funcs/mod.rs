// SPDX-License-Identifier: GPL-2.0

//! The wasi_snapshot_preview1 functions, by family. Each takes the call
//! context and the argument slots and returns `Ok(())`, a WASI errno, or an
//! exit; [`crate::table`] turns that into the i32 result.

pub(crate) mod args;
pub(crate) mod clock;
pub(crate) mod fd;
pub(crate) mod path;
pub(crate) mod poll;
pub(crate) mod proc;
pub(crate) mod random;
pub(crate) mod sock;

use crate::ctx::Exit;
use crate::errno::{from_linux, Errno};
use crate::os::{Stat, Timespec, WasiOs};
use crate::types::filetype_of_mode;

/// Why a function did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// Return this errno to the guest.
    Errno(Errno),
    /// End the program.
    Exit(Exit),
}

impl From<Errno> for Fail {
    #[inline]
    fn from(e: Errno) -> Self {
        Fail::Errno(e)
    }
}

/// What every implementation returns.
pub type WasiResult = Result<(), Fail>;

/// The argument slots of one call. Slots past the end read as 0 (the table
/// checks the count; this only keeps a runtime bug from panicking).
#[derive(Debug, Clone, Copy)]
pub struct Args<'a>(pub &'a [u64]);

impl Args<'_> {
    /// An i32 argument, as the u32 bit pattern.
    #[inline]
    pub fn u32(&self, i: usize) -> u32 {
        self.0.get(i).copied().unwrap_or(0) as u32
    }

    /// An i64 argument, as the u64 bit pattern.
    #[inline]
    pub fn u64(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// An i32 argument zero-extended, for flag and enum decoding.
    #[inline]
    pub fn flags(&self, i: usize) -> u64 {
        u64::from(self.u32(i))
    }
}

/// Maps an OS result's Linux errno.
#[inline]
pub(crate) fn os<T>(r: Result<T, i32>) -> Result<T, Errno> {
    r.map_err(from_linux)
}

/// A WASI timestamp from a Linux time. Times before 1970 read as 0 and
/// times past 2554 as the maximum: a file's odd timestamp must not make
/// stat fail.
pub(crate) fn timestamp(t: Timespec) -> u64 {
    match t.to_nanos() {
        Some(ns) => ns,
        None if t.sec < 0 => 0,
        None => u64::MAX,
    }
}

/// A file offset or length argument, which Linux keeps as `loff_t`.
pub(crate) fn loff(v: u64) -> Result<u64, Errno> {
    if v > i64::MAX as u64 {
        Err(Errno::INVAL)
    } else {
        Ok(v)
    }
}

/// The WASI file type of an open fd (sockets are asked for their type).
pub(crate) fn fd_filetype<O: WasiOs + ?Sized>(os: &mut O, fd: u32, st: &Stat) -> u8 {
    let sock = if st.mode & crate::types::mode::S_IFMT == crate::types::mode::S_IFSOCK {
        os.socket_type(fd).ok()
    } else {
        None
    };
    filetype_of_mode(st.mode, sock)
}

/// The `filestat` of a Linux stat.
pub(crate) fn filestat(st: &Stat, filetype: u8) -> crate::layout::Filestat {
    crate::layout::Filestat {
        dev: st.dev,
        ino: st.ino,
        filetype,
        nlink: st.nlink,
        size: st.size,
        atim: timestamp(st.atime),
        mtim: timestamp(st.mtime),
        ctim: timestamp(st.ctime),
    }
}
