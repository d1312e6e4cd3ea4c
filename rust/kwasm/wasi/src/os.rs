// SPDX-License-Identifier: GPL-2.0

//! The OS interface WASI is written against: operations on real file
//! descriptors of the current process, at the level of Linux system calls.
//!
//! The kernel implements it with VFS and socket calls on `current`'s file
//! table; the `std` feature's [`crate::host::HostOs`] implements it with
//! libc for the host runner. Every error is a positive Linux errno; the
//! crate maps it to WASI with [`crate::errno::from_linux`].
//!
//! Buffers are slices of guest linear memory: implementations read and write
//! them directly, with no intermediate copy. Paths are NUL-terminated,
//! UTF-8, at most `PATH_MAX` bytes, and relative to a directory fd.
//!
//! # Path resolution
//!
//! Every `*_at` method resolves `path` relative to `dirfd` with
//! `RESOLVE_BENEATH` semantics: absolute paths, `..` above `dirfd`, and
//! symlinks (absolute, or leading above `dirfd`) anywhere in the path must not
//! resolve to anything outside the tree under `dirfd`, and such an attempt
//! fails with **`EPERM`** (what WASI runtimes report; openat2 itself says
//! `EXDEV`, which `rename_at`/`link_at` need for real cross-device errors).
//! Magic links (`/proc/self/fd/N`) are not followed. `follow` says whether a
//! symlink in the last component is followed (always beneath `dirfd`);
//! intermediate symlinks are always followed.

use core::ffi::CStr;

/// `Err` is a positive Linux errno.
pub type OsResult<T> = Result<T, i32>;

/// Linux `SEEK_SET`.
pub const SEEK_SET: i32 = 0;
/// Linux `SEEK_CUR`.
pub const SEEK_CUR: i32 = 1;
/// Linux `SEEK_END`.
pub const SEEK_END: i32 = 2;

/// Linux `SOCK_STREAM`.
pub const SOCK_STREAM: i32 = 1;
/// Linux `SOCK_DGRAM`.
pub const SOCK_DGRAM: i32 = 2;

/// Linux `MSG_PEEK`.
pub const MSG_PEEK: i32 = 0x2;
/// Linux `MSG_TRUNC` (in `msg_flags` after recvmsg).
pub const MSG_TRUNC: i32 = 0x20;
/// Linux `MSG_WAITALL`.
pub const MSG_WAITALL: i32 = 0x100;
/// Linux `MSG_NOSIGNAL`.
pub const MSG_NOSIGNAL: i32 = 0x4000;

/// Linux poll event bits.
pub mod poll {
    #![allow(missing_docs)]
    pub const POLLIN: i16 = 0x1;
    pub const POLLOUT: i16 = 0x4;
    pub const POLLERR: i16 = 0x8;
    pub const POLLHUP: i16 = 0x10;
    pub const POLLNVAL: i16 = 0x20;
}

/// Linux `open(2)` flags (x86-64 values) used in [`OpenHow::flags`].
pub mod oflag {
    #![allow(missing_docs)]
    pub const O_RDONLY: u64 = 0;
    pub const O_WRONLY: u64 = 0o1;
    pub const O_RDWR: u64 = 0o2;
    pub const O_ACCMODE: u64 = 0o3;
    pub const O_CREAT: u64 = 0o100;
    pub const O_EXCL: u64 = 0o200;
    pub const O_NOCTTY: u64 = 0o400;
    pub const O_TRUNC: u64 = 0o1000;
    pub const O_APPEND: u64 = 0o2000;
    pub const O_NONBLOCK: u64 = 0o4000;
    pub const O_DSYNC: u64 = 0o10000;
    pub const O_DIRECTORY: u64 = 0o200000;
    pub const O_NOFOLLOW: u64 = 0o400000;
    pub const O_CLOEXEC: u64 = 0o2000000;
    /// `__O_SYNC`; `O_SYNC` is `__O_SYNC | O_DSYNC`.
    pub const O_SYNC_ONLY: u64 = 0o4000000;
    pub const O_SYNC: u64 = O_SYNC_ONLY | O_DSYNC;
    pub const O_PATH: u64 = 0o10000000;
}

/// openat2 `RESOLVE_*` bits used in [`OpenHow::resolve`].
pub mod resolve {
    #![allow(missing_docs)]
    pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    pub const RESOLVE_BENEATH: u64 = 0x08;
}

/// Arguments of an open, as in openat2's `struct open_how`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenHow {
    /// `O_*` flags ([`oflag`]).
    pub flags: u64,
    /// Creation mode (before umask); 0 unless `O_CREAT`.
    pub mode: u64,
    /// `RESOLVE_*` flags ([`resolve`]); always includes `RESOLVE_BENEATH`.
    pub resolve: u64,
}

/// A time as Linux keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timespec {
    /// Seconds since the clock's epoch (may be negative for realtime).
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: u32,
}

impl Timespec {
    /// From a WASI timestamp (nanoseconds; always representable).
    pub const fn from_nanos(ns: u64) -> Self {
        Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as u32,
        }
    }

    /// To a WASI timestamp, or `None` if negative or past year 2554.
    pub fn to_nanos(self) -> Option<u64> {
        let s = u64::try_from(self.sec).ok()?;
        s.checked_mul(1_000_000_000)?
            .checked_add(u64::from(self.nsec))
    }
}

/// What to do with one timestamp in `set_times` (utimensat's `UTIME_OMIT`,
/// `UTIME_NOW`, or a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it unchanged.
    Omit,
    /// Set it to the current time.
    Now,
    /// Set it to this time.
    At(Timespec),
}

/// What `fstat`/`fstatat` report that WASI needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// `st_nlink`.
    pub nlink: u64,
    /// `st_size`.
    pub size: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last data modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
}

/// One directory entry from [`WasiOs::read_dir`].
#[derive(Debug, Clone, Copy)]
pub struct DirEntry<'a> {
    /// `d_ino`.
    pub ino: u64,
    /// `d_type` (`DT_*`).
    pub d_type: u8,
    /// The name, without NUL.
    pub name: &'a [u8],
    /// The position just after this entry (getdents' `d_off`): passing it
    /// back to `read_dir` resumes with the next entry.
    pub next: u64,
}

/// Subscriptions, and pollfds, of one `poll_oneoff` kept inline (no
/// allocation per call) by kwasm-wasi and by OS backends.
pub const POLL_INLINE: usize = 4;

/// One file descriptor to poll, laid out as Linux's `struct pollfd` (a
/// backend may hand an array of them to the kernel as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct PollFd {
    /// The file descriptor.
    pub fd: u32,
    /// Requested events ([`poll`] bits: `POLLIN`, `POLLOUT`).
    pub events: i16,
    /// Returned events, set by [`WasiOs::poll`]; `POLLNVAL` if `fd` is not
    /// open.
    pub revents: i16,
}

/// The operations WASI needs from the OS, on the current process's file
/// descriptors. See the module documentation for errors and paths.
pub trait WasiOs {
    /// `readv(2)`: read at the file position into `bufs`, in order.
    fn read(&mut self, fd: u32, bufs: &mut [&mut [u8]]) -> OsResult<usize>;
    /// `preadv(2)`: read at `offset` (at most `i64::MAX`), file position
    /// unchanged.
    fn pread(&mut self, fd: u32, bufs: &mut [&mut [u8]], offset: u64) -> OsResult<usize>;
    /// `writev(2)`.
    fn write(&mut self, fd: u32, bufs: &[&[u8]]) -> OsResult<usize>;
    /// `pwritev(2)` (Linux: appends if the file is `O_APPEND`).
    fn pwrite(&mut self, fd: u32, bufs: &[&[u8]], offset: u64) -> OsResult<usize>;
    /// `lseek(2)` with `SEEK_SET`/`SEEK_CUR`/`SEEK_END`; returns the new
    /// position. `lseek(fd, 0, SEEK_CUR)` must have no side effect (it is
    /// used to ask whether an fd is seekable).
    fn seek(&mut self, fd: u32, offset: i64, whence: i32) -> OsResult<u64>;
    /// `fcntl(F_GETFL)`: access mode and status flags ([`oflag`]).
    fn get_flags(&mut self, fd: u32) -> OsResult<u64>;
    /// `fcntl(F_SETFL)`: only `O_APPEND` and `O_NONBLOCK` are ever changed.
    fn set_flags(&mut self, fd: u32, flags: u64) -> OsResult<()>;
    /// `fstat(2)`.
    fn stat(&mut self, fd: u32) -> OsResult<Stat>;
    /// `fstatat(2)` beneath `dirfd`.
    fn stat_at(&mut self, dirfd: u32, path: &CStr, follow: bool) -> OsResult<Stat>;
    /// `getsockopt(SO_TYPE)`: `SOCK_STREAM`, `SOCK_DGRAM`, ...
    fn socket_type(&mut self, fd: u32) -> OsResult<i32>;
    /// `ftruncate(2)` (`size` at most `i64::MAX`).
    fn truncate(&mut self, fd: u32, size: u64) -> OsResult<()>;
    /// `futimens(3)`.
    fn set_times(&mut self, fd: u32, atime: SetTime, mtime: SetTime) -> OsResult<()>;
    /// `utimensat(2)` beneath `dirfd`.
    fn set_times_at(
        &mut self,
        dirfd: u32,
        path: &CStr,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> OsResult<()>;
    /// `posix_fadvise(2)` with a Linux `POSIX_FADV_*` value (offset and
    /// length at most `i64::MAX`).
    fn advise(&mut self, fd: u32, offset: u64, len: u64, advice: i32) -> OsResult<()>;
    /// `fallocate(fd, 0, offset, len)`: posix_fallocate semantics (offset
    /// and length at most `i64::MAX`).
    fn allocate(&mut self, fd: u32, offset: u64, len: u64) -> OsResult<()>;
    /// `fsync(2)`.
    fn sync(&mut self, fd: u32) -> OsResult<()>;
    /// `fdatasync(2)`.
    fn datasync(&mut self, fd: u32) -> OsResult<()>;
    /// `close(2)`.
    fn close(&mut self, fd: u32) -> OsResult<()>;
    /// Makes `to` refer to `from`'s open file (closing what `to` was, if
    /// anything), then closes `from`: `dup2(from, to); close(from)`, with
    /// `from != to`. `EBADF` if `from` is not open. (WASI's `fd_renumber`
    /// checks that `to` is open before calling it.)
    fn renumber(&mut self, from: u32, to: u32) -> OsResult<()>;
    /// `openat2(2)` beneath `dirfd`; returns the new fd.
    fn open_at(&mut self, dirfd: u32, path: &CStr, how: &OpenHow) -> OsResult<u32>;
    /// `mkdirat(2)` beneath `dirfd`.
    fn mkdir_at(&mut self, dirfd: u32, path: &CStr, mode: u32) -> OsResult<()>;
    /// `unlinkat(2)` beneath `dirfd`; `rmdir` selects `AT_REMOVEDIR`.
    fn unlink_at(&mut self, dirfd: u32, path: &CStr, rmdir: bool) -> OsResult<()>;
    /// `renameat(2)`, both paths beneath their directory fds.
    fn rename_at(&mut self, old_dir: u32, old: &CStr, new_dir: u32, new: &CStr) -> OsResult<()>;
    /// `linkat(2)`, both paths beneath their directory fds; `follow` is
    /// `AT_SYMLINK_FOLLOW` for `old`.
    fn link_at(
        &mut self,
        old_dir: u32,
        old: &CStr,
        new_dir: u32,
        new: &CStr,
        follow: bool,
    ) -> OsResult<()>;
    /// `symlinkat(2)`: creates `path` beneath `dirfd` with contents `target`
    /// (stored as is; resolution happens when it is followed).
    fn symlink_at(&mut self, target: &CStr, dirfd: u32, path: &CStr) -> OsResult<()>;
    /// `readlinkat(2)` beneath `dirfd`: fills `buf` with as much of the
    /// contents as fit; returns the bytes written.
    fn readlink_at(&mut self, dirfd: u32, path: &CStr, buf: &mut [u8]) -> OsResult<usize>;
    /// Lists the directory `fd` from position `cookie` (0: the start; else a
    /// [`DirEntry::next`] from an earlier call), calling `sink` for each
    /// entry in order until it returns `false` or the directory ends. Like
    /// getdents64 after `lseek(fd, cookie, SEEK_SET)`; `.` and `..` are
    /// reported as the filesystem reports them.
    fn read_dir(
        &mut self,
        fd: u32,
        cookie: u64,
        sink: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> OsResult<()>;
    /// `clock_gettime(2)` for `CLOCK_REALTIME`, `CLOCK_MONOTONIC`,
    /// `CLOCK_PROCESS_CPUTIME_ID` or `CLOCK_THREAD_CPUTIME_ID`.
    fn clock_time(&mut self, clock: i32) -> OsResult<Timespec>;
    /// `clock_getres(2)` for the same clocks.
    fn clock_res(&mut self, clock: i32) -> OsResult<Timespec>;
    /// Fills `buf` entirely with cryptographically secure random bytes
    /// (getrandom(2) without `GRND_NONBLOCK`, looping on short reads).
    fn random(&mut self, buf: &mut [u8]) -> OsResult<()>;
    /// `sched_yield(2)`.
    fn sched_yield(&mut self);
    /// `ppoll(2)`: waits until one of `fds` is ready or `timeout_ns` (relative
    /// nanoseconds on the monotonic clock; `None` is forever) passes; sets
    /// every `revents`; returns how many have non-zero `revents` (0 on
    /// timeout). With no fds it just sleeps.
    fn poll(&mut self, fds: &mut [PollFd], timeout_ns: Option<u64>) -> OsResult<usize>;
    /// `ioctl(FIONREAD)`: bytes readable without blocking (for a regular
    /// file: size minus position).
    fn nread(&mut self, fd: u32) -> OsResult<u64>;
    /// `accept4(2)` with `SOCK_NONBLOCK` if `nonblock`; returns the new fd.
    fn accept(&mut self, fd: u32, nonblock: bool) -> OsResult<u32>;
    /// `recvmsg(2)` into `bufs` with `MSG_*` `flags`; returns the bytes
    /// received and the returned `msg_flags`.
    fn recv(&mut self, fd: u32, bufs: &mut [&mut [u8]], flags: i32) -> OsResult<(usize, i32)>;
    /// `sendmsg(2)` from `bufs` with `MSG_*` `flags` (always includes
    /// `MSG_NOSIGNAL`).
    fn send(&mut self, fd: u32, bufs: &[&[u8]], flags: i32) -> OsResult<usize>;
    /// `shutdown(2)` with `SHUT_RD`/`SHUT_WR`/`SHUT_RDWR`.
    fn shutdown(&mut self, fd: u32, how: i32) -> OsResult<()>;
    /// Sends Linux signal `sig` to the current process (`kill(getpid(),
    /// sig)`); a default-fatal signal ends the program at the next
    /// safepoint. `sig` 0 only checks.
    fn raise(&mut self, sig: i32) -> OsResult<()>;
}
