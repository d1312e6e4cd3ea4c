// SPDX-License-Identifier: GPL-2.0

//! WASI preview1 enums, flags and rights, and their decoding into Linux
//! terms. Undefined bits or values are rejected with `INVAL`, as wasmtime's
//! generated bindings do.

use crate::errno::Errno;

/// A WASI value that must fit `T` and use only the `mask` bits.
fn flags(v: u64, mask: u32) -> Result<u32, Errno> {
    match u32::try_from(v) {
        Ok(f) if f & !mask == 0 => Ok(f),
        _ => Err(Errno::INVAL),
    }
}

/// `filetype`.
pub mod filetype {
    #![allow(missing_docs)]
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// Linux `st_mode` file type bits.
pub mod mode {
    #![allow(missing_docs)]
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFSOCK: u32 = 0o140000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFIFO: u32 = 0o010000;
}

/// The WASI file type of a Linux `st_mode`. Sockets need their socket type,
/// which `st_mode` does not carry: `sock_type` is `SOCK_STREAM`/`SOCK_DGRAM`
/// if known. FIFOs have no preview1 type (wasmtime says `UNKNOWN` too).
pub fn filetype_of_mode(st_mode: u32, sock_type: Option<i32>) -> u8 {
    match st_mode & mode::S_IFMT {
        mode::S_IFREG => filetype::REGULAR_FILE,
        mode::S_IFDIR => filetype::DIRECTORY,
        mode::S_IFCHR => filetype::CHARACTER_DEVICE,
        mode::S_IFBLK => filetype::BLOCK_DEVICE,
        mode::S_IFLNK => filetype::SYMBOLIC_LINK,
        mode::S_IFSOCK => match sock_type {
            Some(crate::os::SOCK_STREAM) => filetype::SOCKET_STREAM,
            Some(crate::os::SOCK_DGRAM) => filetype::SOCKET_DGRAM,
            _ => filetype::UNKNOWN,
        },
        _ => filetype::UNKNOWN,
    }
}

/// The WASI file type of a Linux `d_type` (`DT_*`) from getdents.
pub fn filetype_of_dtype(d_type: u8) -> u8 {
    match d_type {
        8 => filetype::REGULAR_FILE,
        4 => filetype::DIRECTORY,
        2 => filetype::CHARACTER_DEVICE,
        6 => filetype::BLOCK_DEVICE,
        10 => filetype::SYMBOLIC_LINK,
        // DT_UNKNOWN, DT_FIFO, and DT_SOCK (stream or datagram is unknown
        // without opening it): the reader stats the entry if it cares.
        _ => filetype::UNKNOWN,
    }
}

/// `fdflags`.
pub mod fdflags {
    #![allow(missing_docs)]
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
    pub const ALL: u16 = 0x1f;
}

/// Decodes an `fdflags` argument.
pub fn decode_fdflags(v: u64) -> Result<u16, Errno> {
    flags(v, fdflags::ALL.into()).map(|f| f as u16)
}

/// `oflags`.
pub mod oflags {
    #![allow(missing_docs)]
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
    pub const ALL: u16 = 0xf;
}

/// Decodes an `oflags` argument.
pub fn decode_oflags(v: u64) -> Result<u16, Errno> {
    flags(v, oflags::ALL.into()).map(|f| f as u16)
}

/// `lookupflags`: only `symlink_follow`. Returns whether to follow.
pub fn decode_lookupflags(v: u64) -> Result<bool, Errno> {
    flags(v, 1).map(|f| f != 0)
}

/// `fstflags`.
pub mod fstflags {
    #![allow(missing_docs)]
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
    pub const ALL: u16 = 0xf;
}

/// Decodes `fstflags` plus the two timestamps into what to set. Setting a
/// time both to a value and to "now" is `INVAL`.
pub fn decode_times(
    atim: u64,
    mtim: u64,
    fst: u64,
) -> Result<(crate::os::SetTime, crate::os::SetTime), Errno> {
    let f = flags(fst, fstflags::ALL.into())? as u16;
    let one = |set: u16, now: u16, ts: u64| match (f & set != 0, f & now != 0) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(crate::os::SetTime::At(crate::os::Timespec::from_nanos(ts))),
        (false, true) => Ok(crate::os::SetTime::Now),
        (false, false) => Ok(crate::os::SetTime::Omit),
    };
    Ok((
        one(fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
        one(fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
    ))
}

/// `rights` bits.
pub mod rights {
    #![allow(missing_docs)]
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    pub const ALL: u64 = (1 << 30) - 1;

    /// Every `path_*` right: they apply to directories only.
    pub const PATH_ALL: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// The socket rights.
    pub const SOCK_ALL: u64 = SOCK_SHUTDOWN | SOCK_ACCEPT;

    /// Every right that applies to a directory: its base rights when it is
    /// opened read-only (preopens included). Reading, writing, seeking,
    /// allocating and truncating a directory are not among them.
    pub const DIRECTORY: u64 = PATH_ALL
        | FD_DATASYNC
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | FD_READDIR
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// The base rights wasmtime reports for a preopened directory, which
    /// wasi-testsuite requires at least ([`DIRECTORY`] has them all).
    pub const PREOPEN_BASE: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES;

    /// The inheriting rights wasmtime reports for a preopened directory,
    /// which wasi-testsuite requires at least (kwasm's are [`ALL`]).
    pub const PREOPEN_INHERITING: u64 = PREOPEN_BASE
        | FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_SET_SIZE
        | POLL_FD_READWRITE;
}

/// Decodes a `rights` argument.
pub fn decode_rights(v: u64) -> Result<u64, Errno> {
    if v & !rights::ALL == 0 {
        Ok(v)
    } else {
        Err(Errno::INVAL)
    }
}

/// Decodes `whence` (preview1 order: set, cur, end) into Linux
/// `SEEK_SET`/`SEEK_CUR`/`SEEK_END`.
pub fn decode_whence(v: u64) -> Result<i32, Errno> {
    match v {
        0 => Ok(crate::os::SEEK_SET),
        1 => Ok(crate::os::SEEK_CUR),
        2 => Ok(crate::os::SEEK_END),
        _ => Err(Errno::INVAL),
    }
}

/// Decodes `advice` into Linux `POSIX_FADV_*` (WASI swaps sequential and
/// random relative to Linux).
pub fn decode_advice(v: u64) -> Result<i32, Errno> {
    match v {
        0 => Ok(0), // normal
        1 => Ok(2), // sequential
        2 => Ok(1), // random
        3 => Ok(3), // willneed
        4 => Ok(4), // dontneed
        5 => Ok(5), // noreuse
        _ => Err(Errno::INVAL),
    }
}

/// `clockid` values; Linux numbers the same four clocks identically
/// (`CLOCK_REALTIME` .. `CLOCK_THREAD_CPUTIME_ID`).
pub mod clockid {
    #![allow(missing_docs)]
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// Decodes a `clockid` into the Linux clock id.
pub fn decode_clockid(v: u64) -> Result<i32, Errno> {
    match v {
        0..=3 => Ok(v as i32),
        _ => Err(Errno::INVAL),
    }
}

/// Decodes a WASI `signal` into the Linux signal number. WASI has no
/// SIGSTKFLT, so from `chld` (16) on the Linux numbers are one higher.
pub fn decode_signal(v: u64) -> Result<i32, Errno> {
    match v {
        0..=15 => Ok(v as i32),
        16..=30 => Ok(v as i32 + 1),
        _ => Err(Errno::INVAL),
    }
}

/// `eventtype`.
pub mod eventtype {
    #![allow(missing_docs)]
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
}

/// `eventrwflags`: `fd_readwrite_hangup`.
pub const EVENT_FD_READWRITE_HANGUP: u16 = 1;

/// `subclockflags`: `subscription_clock_abstime`.
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;

/// `riflags`.
pub mod riflags {
    #![allow(missing_docs)]
    pub const RECV_PEEK: u16 = 1 << 0;
    pub const RECV_WAITALL: u16 = 1 << 1;
    pub const ALL: u16 = 3;
}

/// Decodes `riflags` into Linux `MSG_*` receive flags.
pub fn decode_riflags(v: u64) -> Result<i32, Errno> {
    let f = flags(v, riflags::ALL.into())? as u16;
    let mut out = 0;
    if f & riflags::RECV_PEEK != 0 {
        out |= crate::os::MSG_PEEK;
    }
    if f & riflags::RECV_WAITALL != 0 {
        out |= crate::os::MSG_WAITALL;
    }
    Ok(out)
}

/// `roflags`: `recv_data_truncated`.
pub const RECV_DATA_TRUNCATED: u16 = 1;

/// Decodes `sdflags` (rd = 1, wr = 2) into Linux `SHUT_*`; neither is
/// `INVAL`.
pub fn decode_sdflags(v: u64) -> Result<i32, Errno> {
    match flags(v, 3)? {
        1 => Ok(0), // SHUT_RD
        2 => Ok(1), // SHUT_WR
        3 => Ok(2), // SHUT_RDWR
        _ => Err(Errno::INVAL),
    }
}

/// `preopentype`: `dir`.
pub const PREOPENTYPE_DIR: u8 = 0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::{SetTime, Timespec};

    #[test]
    fn flags_reject_undefined_bits_and_wide_values() {
        assert_eq!(decode_fdflags(0x1f), Ok(0x1f));
        assert_eq!(decode_fdflags(0x20), Err(Errno::INVAL));
        assert_eq!(decode_oflags(0xf), Ok(0xf));
        assert_eq!(decode_oflags(0x10), Err(Errno::INVAL));
        assert_eq!(decode_lookupflags(1), Ok(true));
        assert_eq!(decode_lookupflags(0), Ok(false));
        assert_eq!(decode_lookupflags(2), Err(Errno::INVAL));
        assert_eq!(decode_fdflags(1 << 40), Err(Errno::INVAL));
        assert_eq!(decode_rights(rights::ALL), Ok(rights::ALL));
        assert_eq!(decode_rights(1 << 30), Err(Errno::INVAL));
    }

    #[test]
    fn enums_decode_to_linux_values() {
        assert_eq!(decode_whence(0), Ok(0));
        assert_eq!(decode_whence(1), Ok(1));
        assert_eq!(decode_whence(2), Ok(2));
        assert_eq!(decode_whence(3), Err(Errno::INVAL));
        assert_eq!(decode_advice(1), Ok(2));
        assert_eq!(decode_advice(2), Ok(1));
        assert_eq!(decode_advice(6), Err(Errno::INVAL));
        assert_eq!(decode_clockid(3), Ok(3));
        assert_eq!(decode_clockid(4), Err(Errno::INVAL));
        assert_eq!(decode_signal(15), Ok(15)); // SIGTERM
        assert_eq!(decode_signal(16), Ok(17)); // SIGCHLD
        assert_eq!(decode_signal(30), Ok(31)); // SIGSYS
        assert_eq!(decode_signal(31), Err(Errno::INVAL));
        assert_eq!(decode_sdflags(3), Ok(2));
        assert_eq!(decode_sdflags(0), Err(Errno::INVAL));
        assert_eq!(decode_sdflags(4), Err(Errno::INVAL));
        assert_eq!(
            decode_riflags(3),
            Ok(crate::os::MSG_PEEK | crate::os::MSG_WAITALL)
        );
        assert_eq!(decode_riflags(4), Err(Errno::INVAL));
    }

    #[test]
    fn times_decode_and_conflicting_flags_are_inval() {
        let (a, m) = decode_times(1_500_000_000, 7, 0b0101).unwrap();
        assert_eq!(
            a,
            SetTime::At(Timespec {
                sec: 1,
                nsec: 500_000_000
            })
        );
        assert_eq!(m, SetTime::At(Timespec { sec: 0, nsec: 7 }));
        assert_eq!(decode_times(0, 0, 0b1010), Ok((SetTime::Now, SetTime::Now)));
        assert_eq!(decode_times(0, 0, 0), Ok((SetTime::Omit, SetTime::Omit)));
        assert_eq!(decode_times(0, 0, 0b0011), Err(Errno::INVAL));
        assert_eq!(decode_times(0, 0, 0b1100), Err(Errno::INVAL));
        assert_eq!(decode_times(0, 0, 0x10), Err(Errno::INVAL));
    }

    #[test]
    fn file_types_map_from_mode_and_dtype() {
        assert_eq!(filetype_of_mode(0o100644, None), filetype::REGULAR_FILE);
        assert_eq!(filetype_of_mode(0o040755, None), filetype::DIRECTORY);
        assert_eq!(filetype_of_mode(0o120777, None), filetype::SYMBOLIC_LINK);
        assert_eq!(filetype_of_mode(0o020620, None), filetype::CHARACTER_DEVICE);
        assert_eq!(filetype_of_mode(0o060660, None), filetype::BLOCK_DEVICE);
        assert_eq!(filetype_of_mode(0o010644, None), filetype::UNKNOWN);
        assert_eq!(filetype_of_mode(0o140777, Some(1)), filetype::SOCKET_STREAM);
        assert_eq!(filetype_of_mode(0o140777, Some(2)), filetype::SOCKET_DGRAM);
        assert_eq!(filetype_of_mode(0o140777, None), filetype::UNKNOWN);
        assert_eq!(filetype_of_dtype(8), filetype::REGULAR_FILE);
        assert_eq!(filetype_of_dtype(4), filetype::DIRECTORY);
        assert_eq!(filetype_of_dtype(10), filetype::SYMBOLIC_LINK);
        assert_eq!(filetype_of_dtype(0), filetype::UNKNOWN);
        assert_eq!(filetype_of_dtype(1), filetype::UNKNOWN);
    }
}
