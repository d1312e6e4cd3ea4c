// SPDX-License-Identifier: GPL-2.0

//! A [`WasiOs`] on the host's Linux system calls, for the host runner and
//! the tests (feature `std`).
//!
//! Unlike the kernel, which hands the guest the process's own fds, the host
//! keeps a table from guest fds to host fds: a test process runs many
//! guests and must not let them touch its own stdio. Guest fd numbers are
//! allocated lowest-free, as the kernel does.
//!
//! Paths resolve beneath their directory with openat2(`RESOLVE_BENEATH`):
//! whole-path operations (open, stat) use it directly; operations that
//! create or remove a name resolve the parent directory that way and then
//! act on the last component, which contains no slash; following a symlink
//! in the last component goes through the resolved `O_PATH` fd's
//! `/proc/self/fd` link. `raise` is refused with `EOPNOTSUPP` here: a test
//! process must not signal itself.

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::vec::Vec;

use crate::errno::linux::{EBADF, EINVAL, ENOENT, EOPNOTSUPP, EPERM, EXDEV};
use crate::net::{EpollEvent, NetOs, SockAddr, SOCKADDR_MAX};
use crate::os::{DirEntry, OpenHow, OsResult, PollFd, SetTime, Stat, Timespec, WasiOs};

/// The guest's file descriptors, each an owned host fd.
#[derive(Debug, Default)]
pub struct HostOs {
    fds: BTreeMap<u32, OwnedFd>,
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(crate::errno::linux::EIO)
}

/// A libc return value: -1 means errno.
fn check(r: libc::c_long) -> OsResult<libc::c_long> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

fn c_path(bytes: &[u8]) -> OsResult<CString> {
    CString::new(bytes).map_err(|_| EINVAL)
}

fn timespec(t: SetTime) -> libc::timespec {
    match t {
        SetTime::Omit => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        SetTime::Now => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        },
        SetTime::At(ts) => libc::timespec {
            tv_sec: ts.sec,
            tv_nsec: ts.nsec.into(),
        },
    }
}

fn stat_of(st: &libc::stat) -> Stat {
    let ts = |sec: i64, nsec: i64| Timespec {
        sec,
        nsec: nsec as u32,
    };
    Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink,
        size: st.st_size as u64,
        atime: ts(st.st_atime, st.st_atime_nsec),
        mtime: ts(st.st_mtime, st.st_mtime_nsec),
        ctime: ts(st.st_ctime, st.st_ctime_nsec),
    }
}

/// Splits a path into the directory to resolve beneath and a last component
/// without slashes (but with any trailing slashes, which matter to the
/// kernel). A last component of `.` or `..` is resolved as a directory and
/// becomes `.`, so that `..` is checked against the beneath rule too.
fn split(path: &[u8]) -> OsResult<(Vec<u8>, Vec<u8>)> {
    let trimmed_len = path.len() - path.iter().rev().take_while(|&&b| b == b'/').count();
    if path.is_empty() {
        return Err(ENOENT);
    }
    if trimmed_len == 0 {
        // "/" or "///": absolute, outside anything.
        return Err(EPERM);
    }
    let trimmed = &path[..trimmed_len];
    let (parent, leaf) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(0) => return Err(EPERM),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&b"."[..], path),
    };
    let name = &leaf[..leaf.len() - leaf.iter().rev().take_while(|&&b| b == b'/').count()];
    if name == b"." || name == b".." {
        Ok((path.to_vec(), b".".to_vec()))
    } else {
        Ok((parent.to_vec(), leaf.to_vec()))
    }
}

fn iovecs(bufs: &[&[u8]]) -> Vec<libc::iovec> {
    bufs.iter()
        .map(|b| libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        })
        .collect()
}

fn iovecs_mut(bufs: &mut [&mut [u8]]) -> Vec<libc::iovec> {
    bufs.iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect()
}

impl HostOs {
    /// An empty fd table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the guest `host` as fd `guest` (replacing what was there).
    pub fn insert(&mut self, guest: u32, host: OwnedFd) {
        self.fds.insert(guest, host);
    }

    /// Gives the guest `host` at the lowest free fd; returns it.
    pub fn push(&mut self, host: OwnedFd) -> u32 {
        let mut fd = 0;
        while self.fds.contains_key(&fd) {
            fd += 1;
        }
        self.fds.insert(fd, host);
        fd
    }

    /// Opens host directory `path` and gives it to the guest at the lowest
    /// free fd (for preopens).
    pub fn open_dir(&mut self, path: &std::path::Path) -> std::io::Result<u32> {
        let dir = std::fs::File::open(path)?;
        if !dir.metadata()?.is_dir() {
            return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        Ok(self.push(dir.into()))
    }

    /// The host fd behind guest fd `fd`.
    pub fn host_fd(&self, fd: u32) -> OsResult<RawFd> {
        self.fds.get(&fd).map(|f| f.as_raw_fd()).ok_or(EBADF)
    }

    /// openat2 on host fds; a beneath violation is `EPERM` (see
    /// [`crate::os`]).
    fn openat2(dir: RawFd, path: &CStr, how: &OpenHow) -> OsResult<OwnedFd> {
        let how = OpenHowC {
            flags: how.flags | libc::O_CLOEXEC as u64,
            mode: how.mode,
            resolve: how.resolve,
        };
        // SAFETY: `path` is NUL-terminated and `how` a valid open_how of the size passed; the kernel reads both during the call only.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir,
                path.as_ptr(),
                &how as *const OpenHowC,
                std::mem::size_of::<OpenHowC>(),
            )
        };
        match check(r) {
            // SAFETY: openat2 returned a new fd that nothing else owns.
            Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }),
            Err(EXDEV) => Err(EPERM),
            Err(e) => Err(e),
        }
    }

    /// Resolves the whole `path` beneath guest dir `dirfd` to an `O_PATH` fd.
    fn resolve(&self, dirfd: u32, path: &CStr, follow: bool) -> OsResult<OwnedFd> {
        let mut flags = libc::O_PATH as u64;
        if !follow {
            flags |= libc::O_NOFOLLOW as u64;
        }
        let how = OpenHow {
            flags,
            mode: 0,
            resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
        };
        Self::openat2(self.host_fd(dirfd)?, path, &how)
    }

    /// Resolves the parent of `path` beneath `dirfd`; returns it and the last
    /// component.
    fn parent(&self, dirfd: u32, path: &CStr) -> OsResult<(OwnedFd, CString)> {
        let (parent, leaf) = split(path.to_bytes())?;
        let how = OpenHow {
            flags: (libc::O_PATH | libc::O_DIRECTORY) as u64,
            mode: 0,
            resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
        };
        let p = Self::openat2(self.host_fd(dirfd)?, &c_path(&parent)?, &how)?;
        Ok((p, c_path(&leaf)?))
    }
}

/// `struct open_how` (libc's is non-exhaustive).
#[repr(C)]
struct OpenHowC {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `/proc/self/fd/N` for an fd, to act on what an `O_PATH` fd refers to.
fn proc_path(fd: &OwnedFd) -> CString {
    CString::new(std::format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default()
}

impl WasiOs for HostOs {
    fn read(&mut self, fd: u32, bufs: &mut [&mut [u8]]) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let iov = iovecs_mut(bufs);
        // SAFETY: each iovec describes a live, exclusively borrowed buffer.
        let r = unsafe { libc::readv(h, iov.as_ptr(), iov.len() as i32) };
        check(r as libc::c_long).map(|n| n as usize)
    }

    fn pread(&mut self, fd: u32, bufs: &mut [&mut [u8]], offset: u64) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let iov = iovecs_mut(bufs);
        // SAFETY: as in `read`.
        let r = unsafe { libc::preadv(h, iov.as_ptr(), iov.len() as i32, offset as i64) };
        check(r as libc::c_long).map(|n| n as usize)
    }

    fn write(&mut self, fd: u32, bufs: &[&[u8]]) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let iov = iovecs(bufs);
        // SAFETY: each iovec describes a live buffer; writev only reads them.
        let r = unsafe { libc::writev(h, iov.as_ptr(), iov.len() as i32) };
        check(r as libc::c_long).map(|n| n as usize)
    }

    fn pwrite(&mut self, fd: u32, bufs: &[&[u8]], offset: u64) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let iov = iovecs(bufs);
        // SAFETY: as in `write`.
        let r = unsafe { libc::pwritev(h, iov.as_ptr(), iov.len() as i32, offset as i64) };
        check(r as libc::c_long).map(|n| n as usize)
    }

    fn seek(&mut self, fd: u32, offset: i64, whence: i32) -> OsResult<u64> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        let r = unsafe { libc::lseek(h, offset, whence) };
        check(r).map(|p| p as u64)
    }

    fn get_flags(&mut self, fd: u32) -> OsResult<u64> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        let r = unsafe { libc::fcntl(h, libc::F_GETFL) };
        check(r.into()).map(|f| f as u64)
    }

    fn set_flags(&mut self, fd: u32, flags: u64) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        let r = unsafe { libc::fcntl(h, libc::F_SETFL, flags as libc::c_int) };
        check(r.into()).map(drop)
    }

    fn stat(&mut self, fd: u32) -> OsResult<Stat> {
        let h = self.host_fd(fd)?;
        // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid out pointer for the call.
        check(unsafe { libc::fstat(h, &mut st) }.into())?;
        Ok(stat_of(&st))
    }

    fn stat_at(&mut self, dirfd: u32, path: &CStr, follow: bool) -> OsResult<Stat> {
        let f = self.resolve(dirfd, path, follow)?;
        // SAFETY: as in `stat`.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid out pointer; fstat works on O_PATH fds.
        check(unsafe { libc::fstat(f.as_raw_fd(), &mut st) }.into())?;
        Ok(stat_of(&st))
    }

    fn socket_type(&mut self, fd: u32) -> OsResult<i32> {
        let h = self.host_fd(fd)?;
        let mut ty: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `ty`/`len` are valid out pointers of the sizes passed.
        let r = unsafe {
            libc::getsockopt(
                h,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&mut ty as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        check(r.into()).map(|_| ty)
    }

    fn truncate(&mut self, fd: u32, size: u64) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        check(unsafe { libc::ftruncate(h, size as i64) }.into()).map(drop)
    }

    fn set_times(&mut self, fd: u32, atime: SetTime, mtime: SetTime) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        let ts = [timespec(atime), timespec(mtime)];
        // SAFETY: `ts` is an array of two timespecs, as futimens reads.
        check(unsafe { libc::futimens(h, ts.as_ptr()) }.into()).map(drop)
    }

    fn set_times_at(
        &mut self,
        dirfd: u32,
        path: &CStr,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> OsResult<()> {
        let ts = [timespec(atime), timespec(mtime)];
        let r = if follow {
            let f = self.resolve(dirfd, path, true)?;
            let p = proc_path(&f);
            // SAFETY: NUL-terminated path and two timespecs.
            unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), ts.as_ptr(), 0) }
        } else {
            let (p, leaf) = self.parent(dirfd, path)?;
            // SAFETY: NUL-terminated name and two timespecs.
            unsafe {
                libc::utimensat(
                    p.as_raw_fd(),
                    leaf.as_ptr(),
                    ts.as_ptr(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            }
        };
        check(r.into()).map(drop)
    }

    fn advise(&mut self, fd: u32, offset: u64, len: u64, advice: i32) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call; it returns the error number itself.
        match unsafe { libc::posix_fadvise(h, offset as i64, len as i64, advice) } {
            0 => Ok(()),
            e => Err(e),
        }
    }

    fn allocate(&mut self, fd: u32, offset: u64, len: u64) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        check(unsafe { libc::fallocate(h, 0, offset as i64, len as i64) }.into()).map(drop)
    }

    fn sync(&mut self, fd: u32) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        check(unsafe { libc::fsync(h) }.into()).map(drop)
    }

    fn datasync(&mut self, fd: u32) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        check(unsafe { libc::fdatasync(h) }.into()).map(drop)
    }

    fn close(&mut self, fd: u32) -> OsResult<()> {
        self.fds.remove(&fd).map(drop).ok_or(EBADF)
    }

    fn renumber(&mut self, from: u32, to: u32) -> OsResult<()> {
        let f = self.fds.remove(&from).ok_or(EBADF)?;
        self.fds.insert(to, f);
        Ok(())
    }

    fn open_at(&mut self, dirfd: u32, path: &CStr, how: &OpenHow) -> OsResult<u32> {
        let f = Self::openat2(self.host_fd(dirfd)?, path, how)?;
        Ok(self.push(f))
    }

    fn mkdir_at(&mut self, dirfd: u32, path: &CStr, mode: u32) -> OsResult<()> {
        let (p, leaf) = self.parent(dirfd, path)?;
        // SAFETY: NUL-terminated name relative to an fd we own.
        check(unsafe { libc::mkdirat(p.as_raw_fd(), leaf.as_ptr(), mode) }.into()).map(drop)
    }

    fn unlink_at(&mut self, dirfd: u32, path: &CStr, rmdir: bool) -> OsResult<()> {
        let (p, leaf) = self.parent(dirfd, path)?;
        let flags = if rmdir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: as in `mkdir_at`.
        check(unsafe { libc::unlinkat(p.as_raw_fd(), leaf.as_ptr(), flags) }.into()).map(drop)
    }

    fn rename_at(&mut self, old_dir: u32, old: &CStr, new_dir: u32, new: &CStr) -> OsResult<()> {
        let (op, ol) = self.parent(old_dir, old)?;
        let (np, nl) = self.parent(new_dir, new)?;
        // SAFETY: NUL-terminated names relative to fds we own.
        let r = unsafe { libc::renameat(op.as_raw_fd(), ol.as_ptr(), np.as_raw_fd(), nl.as_ptr()) };
        check(r.into()).map(drop)
    }

    fn link_at(
        &mut self,
        old_dir: u32,
        old: &CStr,
        new_dir: u32,
        new: &CStr,
        follow: bool,
    ) -> OsResult<()> {
        let (np, nl) = self.parent(new_dir, new)?;
        let r = if follow {
            let f = self.resolve(old_dir, old, true)?;
            let p = proc_path(&f);
            // SAFETY: NUL-terminated paths; fds we own.
            unsafe {
                libc::linkat(
                    libc::AT_FDCWD,
                    p.as_ptr(),
                    np.as_raw_fd(),
                    nl.as_ptr(),
                    libc::AT_SYMLINK_FOLLOW,
                )
            }
        } else {
            let (op, ol) = self.parent(old_dir, old)?;
            // SAFETY: as above.
            unsafe { libc::linkat(op.as_raw_fd(), ol.as_ptr(), np.as_raw_fd(), nl.as_ptr(), 0) }
        };
        check(r.into()).map(drop)
    }

    fn symlink_at(&mut self, target: &CStr, dirfd: u32, path: &CStr) -> OsResult<()> {
        let (p, leaf) = self.parent(dirfd, path)?;
        // SAFETY: NUL-terminated strings; an fd we own.
        let r = unsafe { libc::symlinkat(target.as_ptr(), p.as_raw_fd(), leaf.as_ptr()) };
        check(r.into()).map(drop)
    }

    fn readlink_at(&mut self, dirfd: u32, path: &CStr, buf: &mut [u8]) -> OsResult<usize> {
        let (p, leaf) = self.parent(dirfd, path)?;
        // SAFETY: `buf` is writable for its length; NUL-terminated name.
        let r = unsafe {
            libc::readlinkat(
                p.as_raw_fd(),
                leaf.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        check(r as libc::c_long).map(|n| n as usize)
    }

    fn read_dir(
        &mut self,
        fd: u32,
        cookie: u64,
        sink: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        check(unsafe { libc::lseek(h, cookie as i64, libc::SEEK_SET) })?;
        let mut buf = std::vec![0u8; 32 * 1024];
        loop {
            // SAFETY: `buf` is writable for its length.
            let n = check(unsafe {
                libc::syscall(libc::SYS_getdents64, h, buf.as_mut_ptr(), buf.len())
            })? as usize;
            if n == 0 {
                return Ok(());
            }
            let mut at = 0;
            // linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8,
            // d_name NUL-terminated.
            while at + 19 <= n {
                let rec = &buf[at..n];
                let u64_at =
                    |o: usize| u64::from_le_bytes(rec[o..o + 8].try_into().unwrap_or_default());
                let reclen = u16::from_le_bytes([rec[16], rec[17]]) as usize;
                if reclen < 19 || reclen > rec.len() {
                    return Err(crate::errno::linux::EIO);
                }
                let name = &rec[19..reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                let e = DirEntry {
                    ino: u64_at(0),
                    next: u64_at(8),
                    d_type: rec[18],
                    name,
                };
                if !sink(&e) {
                    return Ok(());
                }
                at += reclen;
            }
        }
    }

    fn clock_time(&mut self, clock: i32) -> OsResult<Timespec> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out pointer.
        check(unsafe { libc::clock_gettime(clock, &mut ts) }.into())?;
        Ok(Timespec {
            sec: ts.tv_sec,
            nsec: ts.tv_nsec as u32,
        })
    }

    fn clock_res(&mut self, clock: i32) -> OsResult<Timespec> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out pointer.
        check(unsafe { libc::clock_getres(clock, &mut ts) }.into())?;
        Ok(Timespec {
            sec: ts.tv_sec,
            nsec: ts.tv_nsec as u32,
        })
    }

    fn random(&mut self, buf: &mut [u8]) -> OsResult<()> {
        let mut done = 0;
        while done < buf.len() {
            let rest = &mut buf[done..];
            match check(
                // SAFETY: `rest` is writable for its length.
                unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) } as libc::c_long,
            ) {
                Ok(n) => done += n as usize,
                Err(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn sched_yield(&mut self) {
        // SAFETY: no arguments, no memory.
        unsafe { libc::sched_yield() };
    }

    fn poll(&mut self, fds: &mut [PollFd], timeout_ns: Option<u64>) -> OsResult<usize> {
        let mut host: Vec<libc::pollfd> = fds
            .iter()
            .map(|p| libc::pollfd {
                // An fd the guest does not have is ignored by ppoll (-1) and
                // reported POLLNVAL below.
                fd: self.host_fd(p.fd).unwrap_or(-1),
                events: p.events,
                revents: 0,
            })
            .collect();
        let bad = host.iter().filter(|p| p.fd < 0).count();
        let ts = match (bad, timeout_ns) {
            (0, None) => None,
            (0, Some(ns)) => Some(libc::timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as i64,
            }),
            _ => Some(libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }),
        };
        let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: `host` holds `host.len()` pollfds; `tsp` is null or valid.
        let r = unsafe { libc::ppoll(host.as_mut_ptr(), host.len() as _, tsp, std::ptr::null()) };
        check(r.into())?;
        let mut ready = 0;
        for (p, h) in fds.iter_mut().zip(&host) {
            p.revents = if h.fd < 0 {
                crate::os::poll::POLLNVAL
            } else {
                h.revents
            };
            if p.revents != 0 {
                ready += 1;
            }
        }
        Ok(ready)
    }

    fn nread(&mut self, fd: u32) -> OsResult<u64> {
        let h = self.host_fd(fd)?;
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int to the valid pointer.
        check(unsafe { libc::ioctl(h, libc::FIONREAD, &mut n) }.into())?;
        Ok(n.max(0) as u64)
    }

    fn accept(&mut self, fd: u32, nonblock: bool) -> OsResult<u32> {
        let h = self.host_fd(fd)?;
        let mut flags = libc::SOCK_CLOEXEC;
        if nonblock {
            flags |= libc::SOCK_NONBLOCK;
        }
        let r = check(
            // SAFETY: null address pointers are allowed.
            unsafe { libc::accept4(h, std::ptr::null_mut(), std::ptr::null_mut(), flags) }.into(),
        )?;
        // SAFETY: accept4 returned a new fd nothing else owns.
        Ok(self.push(unsafe { OwnedFd::from_raw_fd(r as RawFd) }))
    }

    fn recv(&mut self, fd: u32, bufs: &mut [&mut [u8]], flags: i32) -> OsResult<(usize, i32)> {
        let h = self.host_fd(fd)?;
        let mut iov = iovecs_mut(bufs);
        // SAFETY: an all-zero msghdr (no name, no control data) is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        // SAFETY: `msg` points at live iovecs over exclusively borrowed buffers.
        let r = check(unsafe { libc::recvmsg(h, &mut msg, flags) } as libc::c_long)?;
        Ok((r as usize, msg.msg_flags))
    }

    fn send(&mut self, fd: u32, bufs: &[&[u8]], flags: i32) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let mut iov = iovecs(bufs);
        // SAFETY: as in `recv`.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        // SAFETY: `msg` points at live iovecs; sendmsg only reads them.
        let r = check(unsafe { libc::sendmsg(h, &msg, flags) } as libc::c_long)?;
        Ok(r as usize)
    }

    fn shutdown(&mut self, fd: u32, how: i32) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call on an fd we own.
        check(unsafe { libc::shutdown(h, how) }.into()).map(drop)
    }

    fn raise(&mut self, sig: i32) -> OsResult<()> {
        if sig == 0 {
            Ok(())
        } else {
            Err(EOPNOTSUPP)
        }
    }
}

impl HostOs {
    /// Takes ownership of a new host fd from a libc call's result.
    fn new_fd(&mut self, r: libc::c_long) -> OsResult<u32> {
        let r = check(r)?;
        // SAFETY: the call returned a new fd nothing else owns.
        Ok(self.push(unsafe { OwnedFd::from_raw_fd(r as RawFd) }))
    }
}

fn addr_len(addr: &[u8]) -> libc::socklen_t {
    addr.len() as libc::socklen_t
}

impl NetOs for HostOs {
    fn socket(&mut self, domain: i32, ty: i32, protocol: i32) -> OsResult<u32> {
        // SAFETY: plain system call.
        let r = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) };
        self.new_fd(r.into())
    }

    fn bind(&mut self, fd: u32, addr: &[u8]) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: `addr` is valid for its length.
        check(unsafe { libc::bind(h, addr.as_ptr().cast(), addr_len(addr)) }.into()).map(drop)
    }

    fn listen(&mut self, fd: u32, backlog: i32) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: plain system call.
        check(unsafe { libc::listen(h, backlog) }.into()).map(drop)
    }

    fn connect(&mut self, fd: u32, addr: &[u8]) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        // SAFETY: `addr` is valid for its length.
        check(unsafe { libc::connect(h, addr.as_ptr().cast(), addr_len(addr)) }.into()).map(drop)
    }

    fn accept_from(&mut self, fd: u32, flags: i32, peer: &mut SockAddr) -> OsResult<u32> {
        let h = self.host_fd(fd)?;
        let mut len = SOCKADDR_MAX as libc::socklen_t;
        // SAFETY: `peer.bytes` holds `len` bytes.
        let r = unsafe {
            libc::accept4(
                h,
                peer.bytes.as_mut_ptr().cast(),
                &mut len,
                flags | libc::SOCK_CLOEXEC,
            )
        };
        let fd = self.new_fd(r.into())?;
        peer.len = len as usize;
        Ok(fd)
    }

    fn sock_name(&mut self, fd: u32, peer: bool, addr: &mut SockAddr) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        let mut len = SOCKADDR_MAX as libc::socklen_t;
        let p = addr.bytes.as_mut_ptr().cast();
        // SAFETY: `addr.bytes` holds `len` bytes.
        let r = unsafe {
            if peer {
                libc::getpeername(h, p, &mut len)
            } else {
                libc::getsockname(h, p, &mut len)
            }
        };
        check(r.into())?;
        addr.len = len as usize;
        Ok(())
    }

    fn set_opt(&mut self, fd: u32, level: i32, name: i32, value: &[u8]) -> OsResult<()> {
        let h = self.host_fd(fd)?;
        let len = value.len() as libc::socklen_t;
        // SAFETY: `value` is valid for its length.
        check(unsafe { libc::setsockopt(h, level, name, value.as_ptr().cast(), len) }.into())
            .map(drop)
    }

    fn get_opt(&mut self, fd: u32, level: i32, name: i32, value: &mut [u8]) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let mut len = value.len() as libc::socklen_t;
        // SAFETY: `value` is writable for `len` bytes.
        let r = unsafe { libc::getsockopt(h, level, name, value.as_mut_ptr().cast(), &mut len) };
        check(r.into())?;
        Ok(len as usize)
    }

    fn send_to(
        &mut self,
        fd: u32,
        bufs: &[&[u8]],
        flags: i32,
        addr: Option<&[u8]>,
    ) -> OsResult<usize> {
        let h = self.host_fd(fd)?;
        let mut iov = iovecs(bufs);
        // SAFETY: an all-zero msghdr (no name, no control data) is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        if let Some(a) = addr {
            msg.msg_name = a.as_ptr().cast_mut().cast();
            msg.msg_namelen = addr_len(a);
        }
        // SAFETY: `msg` points at live iovecs and address; sendmsg only reads them.
        let r = check(unsafe { libc::sendmsg(h, &msg, flags) } as libc::c_long)?;
        Ok(r as usize)
    }

    fn recv_from(
        &mut self,
        fd: u32,
        bufs: &mut [&mut [u8]],
        flags: i32,
        from: &mut SockAddr,
    ) -> OsResult<(usize, i32)> {
        let h = self.host_fd(fd)?;
        let mut iov = iovecs_mut(bufs);
        // SAFETY: as in `send_to`.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        msg.msg_name = from.bytes.as_mut_ptr().cast();
        msg.msg_namelen = SOCKADDR_MAX as libc::socklen_t;
        // SAFETY: `msg` points at live iovecs over exclusively borrowed buffers and at `from`.
        let r = check(unsafe { libc::recvmsg(h, &mut msg, flags) } as libc::c_long)?;
        from.len = msg.msg_namelen as usize;
        Ok((r as usize, msg.msg_flags))
    }

    fn epoll_create(&mut self, _flags: i32) -> OsResult<u32> {
        // SAFETY: plain system call.
        let r = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        self.new_fd(r.into())
    }

    fn epoll_ctl(
        &mut self,
        epfd: u32,
        op: i32,
        fd: u32,
        event: Option<EpollEvent>,
    ) -> OsResult<()> {
        let (ep, h) = (self.host_fd(epfd)?, self.host_fd(fd)?);
        let e = event.unwrap_or_default();
        let mut ev = libc::epoll_event {
            events: e.events,
            u64: e.data,
        };
        // SAFETY: `ev` is a valid epoll_event.
        check(unsafe { libc::epoll_ctl(ep, op, h, &mut ev) }.into()).map(drop)
    }

    fn epoll_wait(&mut self, epfd: u32, out: &mut [u8], timeout_ms: i32) -> OsResult<usize> {
        let ep = self.host_fd(epfd)?;
        let max = out.len() / 12;
        let mut evs = std::vec![libc::epoll_event { events: 0, u64: 0 }; max];
        // SAFETY: `evs` holds `max` events.
        let r = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), max as i32, timeout_ms) };
        let n = check(r.into())? as usize;
        for (o, e) in out.chunks_exact_mut(12).zip(&evs[..n]) {
            let (events, data) = (e.events, e.u64);
            o[..4].copy_from_slice(&events.to_le_bytes());
            o[4..].copy_from_slice(&data.to_le_bytes());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_the_last_component_slash_free() {
        let s = split;
        assert_eq!(s(b"a"), Ok((b".".to_vec(), b"a".to_vec())));
        assert_eq!(s(b"a/b"), Ok((b"a".to_vec(), b"b".to_vec())));
        assert_eq!(s(b"a/b/"), Ok((b"a".to_vec(), b"b/".to_vec())));
        assert_eq!(s(b"a//b"), Ok((b"a/".to_vec(), b"b".to_vec())));
        assert_eq!(s(b"a/.."), Ok((b"a/..".to_vec(), b".".to_vec())));
        assert_eq!(s(b".."), Ok((b"..".to_vec(), b".".to_vec())));
        assert_eq!(s(b"/etc"), Err(EPERM));
        assert_eq!(s(b"/"), Err(EPERM));
        assert_eq!(s(b""), Err(ENOENT));
    }
}
