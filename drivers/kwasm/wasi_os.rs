// SPDX-License-Identifier: GPL-2.0

//! [`KernelOs`]: kwasm-wasi's OS interface on the current task, through the
//! C functions of wasi_fs.c and wasi_sys.c. Guest buffers go to them as
//! kvecs over linear memory: no copies.

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};

use crate::ffi::{offsets, KwasmRun};
use kernel::bindings as nr;
use kwasm_wasi::guest::IOV_INLINE;
use kwasm_wasi::os::{DirEntry, OpenHow, OsResult, PollFd, SetTime, Stat, Timespec, WasiOs};

const EINTR: i32 = 4;
const EIO: i32 = 5;
const ENOMEM: i32 = 12;
const EINVAL: i32 = 22;
const CLOCK_MONOTONIC: c_int = 1;
const UTIME_NOW: c_long = (1 << 30) - 1;
const UTIME_OMIT: c_long = (1 << 30) - 2;
/// Offset of the name in `struct kwasm_dirent` (kwasm.h).
const DIRENT_NAME: usize = offsets::KWASM_DIRENT_NAME;
/// Bytes of directory entries fetched per call.
const DIRENT_BUF: usize = 4096;

#[repr(C)]
pub(crate) struct Kvec {
    base: *mut u8,
    len: usize,
}

impl Default for Kvec {
    fn default() -> Kvec {
        Kvec {
            base: core::ptr::null_mut(),
            len: 0,
        }
    }
}

#[repr(C)]
#[derive(Default)]
struct KwasmStat {
    dev: u64,
    ino: u64,
    nlink: u64,
    size: u64,
    atime_sec: i64,
    mtime_sec: i64,
    ctime_sec: i64,
    atime_nsec: u32,
    mtime_nsec: u32,
    ctime_nsec: u32,
    mode: u32,
}

// Layouts shared with C, checked against the numbers generated from
// kwasm.h (kwasm_offsets.c); `struct kvec` and `struct timespec64` are the
// kernel's bindgen types. kwasm-wasi's `PollFd` is `struct kwasm_pollfd`
// (a `struct pollfd`): poll hands its array to C as it is.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<KwasmStat>() == offsets::KWASM_STAT_SIZE);
    assert!(offset_of!(KwasmStat, dev) == offsets::KWASM_STAT_DEV);
    assert!(offset_of!(KwasmStat, ino) == offsets::KWASM_STAT_INO);
    assert!(offset_of!(KwasmStat, nlink) == offsets::KWASM_STAT_NLINK);
    assert!(offset_of!(KwasmStat, size) == offsets::KWASM_STAT_SIZE_FIELD);
    assert!(offset_of!(KwasmStat, atime_sec) == offsets::KWASM_STAT_ATIME_SEC);
    assert!(offset_of!(KwasmStat, mtime_sec) == offsets::KWASM_STAT_MTIME_SEC);
    assert!(offset_of!(KwasmStat, ctime_sec) == offsets::KWASM_STAT_CTIME_SEC);
    assert!(offset_of!(KwasmStat, atime_nsec) == offsets::KWASM_STAT_ATIME_NSEC);
    assert!(offset_of!(KwasmStat, mtime_nsec) == offsets::KWASM_STAT_MTIME_NSEC);
    assert!(offset_of!(KwasmStat, ctime_nsec) == offsets::KWASM_STAT_CTIME_NSEC);
    assert!(offset_of!(KwasmStat, mode) == offsets::KWASM_STAT_MODE);
    assert!(size_of::<PollFd>() == offsets::KWASM_POLLFD_SIZE);
    assert!(offset_of!(PollFd, fd) == offsets::KWASM_POLLFD_FD);
    assert!(offset_of!(PollFd, events) == offsets::KWASM_POLLFD_EVENTS);
    assert!(offset_of!(PollFd, revents) == offsets::KWASM_POLLFD_REVENTS);
    assert!(size_of::<Kvec>() == size_of::<kernel::bindings::kvec>());
    assert!(offset_of!(Kvec, len) == offset_of!(kernel::bindings::kvec, iov_len));
    assert!(size_of::<Timespec64>() == size_of::<kernel::bindings::timespec64>());
    assert!(offset_of!(Timespec64, nsec) == offset_of!(kernel::bindings::timespec64, tv_nsec));
};

#[repr(C)]
struct Timespec64 {
    sec: i64,
    nsec: c_long,
}

extern "C" {
    fn kwasm_fd_rw(
        run: *mut KwasmRun,
        fd: c_uint,
        write: bool,
        vec: *mut Kvec,
        n: usize,
        pos: i64,
    ) -> c_long;
    fn kwasm_fd_seek(fd: c_uint, off: i64, whence: c_int, newpos: *mut u64) -> c_long;
    fn kwasm_fd_get_flags(fd: c_uint) -> c_long;
    fn kwasm_fd_set_flags(fd: c_uint, flags: c_uint) -> c_long;
    fn kwasm_fd_stat(fd: c_uint, st: *mut KwasmStat) -> c_long;
    fn kwasm_path_stat(
        dirfd: c_uint,
        path: *const c_char,
        follow: bool,
        st: *mut KwasmStat,
    ) -> c_long;
    fn kwasm_fd_socket_type(fd: c_uint) -> c_long;
    fn kwasm_fd_truncate(fd: c_uint, size: u64) -> c_long;
    fn kwasm_set_times(
        fd: c_uint,
        path: *const c_char,
        follow: bool,
        times: *mut Timespec64,
    ) -> c_long;
    fn kwasm_fd_advise(fd: c_uint, off: u64, len: u64, advice: c_int) -> c_long;
    fn kwasm_fd_allocate(fd: c_uint, off: u64, len: u64) -> c_long;
    fn kwasm_fd_sync(fd: c_uint, datasync: bool) -> c_long;
    fn kwasm_fd_close(fd: c_uint) -> c_long;
    fn kwasm_fd_renumber(from: c_uint, to: c_uint) -> c_long;
    fn kwasm_path_open(
        dirfd: c_uint,
        path: *const c_char,
        flags: u64,
        mode: u64,
        resolve: u64,
    ) -> c_long;
    fn kwasm_open_dir(path: *const c_char) -> c_long;
    fn kwasm_path_mkdir(dirfd: c_uint, path: *const c_char, mode: u32) -> c_long;
    fn kwasm_path_unlink(dirfd: c_uint, path: *const c_char, rmdir: bool) -> c_long;
    fn kwasm_path_rename(
        old_dir: c_uint,
        old: *const c_char,
        new_dir: c_uint,
        new: *const c_char,
    ) -> c_long;
    fn kwasm_path_link(
        old_dir: c_uint,
        old: *const c_char,
        new_dir: c_uint,
        new: *const c_char,
        follow: bool,
    ) -> c_long;
    fn kwasm_path_symlink(target: *const c_char, dirfd: c_uint, path: *const c_char) -> c_long;
    fn kwasm_path_readlink(dirfd: c_uint, path: *const c_char, buf: *mut u8, len: usize) -> c_long;
    fn kwasm_fd_readdir(fd: c_uint, cookie: u64, buf: *mut c_void, len: usize) -> c_long;
    fn kwasm_fd_nread(fd: c_uint, n: *mut u64) -> c_long;
    fn kwasm_clock_get(clock: c_int, res: bool, sec: *mut i64, nsec: *mut u32) -> c_long;
    fn kwasm_random(buf: *mut u8, len: usize) -> c_long;
    fn kwasm_yield();
    fn kwasm_poll(fds: *mut PollFd, n: c_uint, deadline_ns: i64) -> c_long;
    fn kwasm_net_shutdown(fd: c_uint, how: c_int) -> c_long;
    fn kwasm_raise(sig: c_int) -> c_long;
    fn kwasm_syscall_enter(nr: c_int, args: *const u64, n: c_uint) -> c_long;
    fn kwasm_audit_exit(ret: c_long);
    static kwasm_ioctl_fionread: c_uint;
}

/// The current task's file descriptors and clocks, for kwasm-wasi.
///
/// A call interrupted by a signal (`-ERESTART*`) fails with `EINTR` and sets
/// [`KernelOs::restart`]: the caller handles the signal once nothing of the
/// call is left on the stack, then runs the whole WASI function again, the
/// way the kernel restarts an interrupted system call.
pub(crate) struct KernelOs {
    pub(crate) restart: bool,
    /// The deadline (monotonic ns) of this host call's first timed wait:
    /// a wait restarted after a signal keeps it instead of starting its
    /// timeout over, as Linux restarts poll(2) (a program stopped and
    /// continued, or traced, now and then would otherwise never time out).
    wait_deadline: Option<i64>,
    /// An audit record of [`KernelOs::syscall`] is open.
    in_syscall: bool,
    /// The program's run (its scratch mapping, scratch.c); null only in
    /// [`open_dir`]'s, which moves no data.
    pub(crate) run: *mut KwasmRun,
}

impl KernelOs {
    pub(crate) fn new(run: *mut KwasmRun) -> Self {
        KernelOs {
            restart: false,
            wait_deadline: None,
            in_syscall: false,
            run,
        }
    }

    /// Turns a C result (>= 0 or -errno) into an [`OsResult`].
    pub(crate) fn sys(&mut self, r: c_long) -> OsResult<u64> {
        self.end_syscall(r);
        if r >= 0 {
            return Ok(r as u64);
        }
        let e = r.unsigned_abs().min(4095) as i32;
        // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK.
        if matches!(e, 512..=514 | 516) {
            self.restart = true;
            return Err(EINTR);
        }
        Err(e)
    }

    /// The host call starts the work of system call `nr` with `args` (Linux
    /// values, 0 for pointers into wasm memory, the rest 0), and the kernel's
    /// policies for system calls apply (policy.c): the task's seccomp filter
    /// decides first (an error is the errno it chose), then an audit record
    /// opens, which the next result ([`KernelOs::sys`]) closes.
    pub(crate) fn syscall(&mut self, nr: u32, args: &[u64]) -> OsResult<()> {
        self.end_syscall(0);
        // SAFETY: `args` holds the `args.len()` values the C side reads (it copies them only when a policy applies); process context, where a filter may sleep (user notification) or end the task; no audit record of ours is open (closed above).
        let r = unsafe { kwasm_syscall_enter(nr as c_int, args.as_ptr(), args.len() as c_uint) };
        if r < 0 {
            return self.unit(r);
        }
        self.in_syscall = r == 1;
        Ok(())
    }

    /// Closes the audit record [`KernelOs::syscall`] opened, if any, with
    /// the system call's result.
    fn end_syscall(&mut self, r: c_long) {
        if core::mem::take(&mut self.in_syscall) {
            // SAFETY: plain values; the record was opened by this host call.
            unsafe { kwasm_audit_exit(r) };
        }
    }

    pub(crate) fn unit(&mut self, r: c_long) -> OsResult<()> {
        self.sys(r).map(|_| ())
    }

    pub(crate) fn fd(&mut self, r: c_long) -> OsResult<u32> {
        self.sys(r).map(|v| v as u32)
    }
}

impl Drop for KernelOs {
    fn drop(&mut self) {
        // Every call that reaches the kernel reports its result through
        // `sys`; a record still open means the host call failed in between
        // (bad arguments, no memory), so audit logs a failure.
        self.end_syscall(EINVAL_RET);
    }
}

/// The result an audit record gets for a call that failed before reaching
/// the kernel.
const EINVAL_RET: c_long = -(EINVAL as c_long);

/// Calls `f` with the buffers as an array of kvecs (pointer, count). Up to
/// `IOV_INLINE` of them, the common case, are built in place on the stack
/// (a list returned by value cost a 1-byte write two memcpy calls, the
/// kernel's Rust having no vector registers to move it with); more are
/// allocated.
fn with_kvecs<R>(
    bufs: impl ExactSizeIterator<Item = (*mut u8, usize)>,
    f: impl FnOnce(*mut Kvec, usize) -> R,
) -> OsResult<R> {
    let n = bufs.len();
    let kvec = |(base, len)| Kvec { base, len };
    if n <= IOV_INLINE {
        let mut v: [Kvec; IOV_INLINE] = Default::default();
        for (k, b) in v.iter_mut().zip(bufs) {
            *k = kvec(b);
        }
        return Ok(f(v.as_mut_ptr(), n));
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| ENOMEM)?;
    v.extend(bufs.map(kvec));
    Ok(f(v.as_mut_ptr(), v.len()))
}

/// [`with_kvecs`] over buffers the call may write.
pub(crate) fn with_kvecs_mut<R>(
    bufs: &mut [&mut [u8]],
    f: impl FnOnce(*mut Kvec, usize) -> R,
) -> OsResult<R> {
    with_kvecs(bufs.iter_mut().map(|b| (b.as_mut_ptr(), b.len())), f)
}

/// [`with_kvecs`] over buffers the call only reads (the C side takes them
/// as ITER_SOURCE).
pub(crate) fn with_kvecs_const<R>(
    bufs: &[&[u8]],
    f: impl FnOnce(*mut Kvec, usize) -> R,
) -> OsResult<R> {
    with_kvecs(bufs.iter().map(|b| (b.as_ptr().cast_mut(), b.len())), f)
}

fn ts(sec: i64, nsec: u32) -> Timespec {
    Timespec { sec, nsec }
}

impl From<KwasmStat> for Stat {
    fn from(s: KwasmStat) -> Stat {
        Stat {
            dev: s.dev,
            ino: s.ino,
            mode: s.mode,
            nlink: s.nlink,
            size: s.size,
            atime: ts(s.atime_sec, s.atime_nsec),
            mtime: ts(s.mtime_sec, s.mtime_nsec),
            ctime: ts(s.ctime_sec, s.ctime_nsec),
        }
    }
}

fn timespec64(t: SetTime) -> Timespec64 {
    match t {
        SetTime::Omit => Timespec64 {
            sec: 0,
            nsec: UTIME_OMIT,
        },
        SetTime::Now => Timespec64 {
            sec: 0,
            nsec: UTIME_NOW,
        },
        SetTime::At(t) => Timespec64 {
            sec: t.sec,
            nsec: t.nsec.into(),
        },
    }
}

/// Opens a host directory for a preopen; returns the new fd or an errno.
/// The program's seccomp filter sees it as an openat(), as it would see a
/// native program's loader open its libraries.
pub(crate) fn open_dir(path: &CStr) -> OsResult<u32> {
    let mut os = KernelOs::new(core::ptr::null_mut());
    let flags = u64::from(nr::O_DIRECTORY | nr::O_RDONLY);
    os.syscall(nr::__NR_openat, &[nr::AT_FDCWD as u64, 0, flags])?;
    // SAFETY: `path` is NUL-terminated.
    let r = unsafe { kwasm_open_dir(path.as_ptr()) };
    os.fd(r)
}

/// `AT_SYMLINK_NOFOLLOW` unless `follow`, for the filter's flags argument.
fn nofollow(follow: bool) -> u64 {
    if follow {
        0
    } else {
        nr::AT_SYMLINK_NOFOLLOW.into()
    }
}

/// The FIONREAD ioctl command (an ioctl macro, which bindgen cannot see).
fn fionread() -> u64 {
    // SAFETY: a constant initialised at build time, never written.
    u64::from(unsafe { kwasm_ioctl_fionread })
}

impl WasiOs for KernelOs {
    fn read(&mut self, fd: u32, bufs: &mut [&mut [u8]]) -> OsResult<usize> {
        self.syscall(nr::__NR_readv, &[fd.into(), 0, bufs.len() as u64])?;
        // SAFETY: the n kvecs at v are live, exclusively borrowed guest buffers; `run` is this program's run (scratch memory), used only by this task.
        let r = with_kvecs_mut(bufs, |v, n| unsafe {
            kwasm_fd_rw(self.run, fd, false, v, n, -1)
        })?;
        self.sys(r).map(|n| n as usize)
    }

    fn pread(&mut self, fd: u32, bufs: &mut [&mut [u8]], offset: u64) -> OsResult<usize> {
        self.syscall(nr::__NR_preadv, &[fd.into(), 0, bufs.len() as u64, offset])?;
        let pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: the n kvecs at v are live, exclusively borrowed guest buffers; `run` is this program's run (scratch memory), used only by this task.
        let r = with_kvecs_mut(bufs, |v, n| unsafe {
            kwasm_fd_rw(self.run, fd, false, v, n, pos)
        })?;
        self.sys(r).map(|n| n as usize)
    }

    fn write(&mut self, fd: u32, bufs: &[&[u8]]) -> OsResult<usize> {
        self.syscall(nr::__NR_writev, &[fd.into(), 0, bufs.len() as u64])?;
        // SAFETY: the n kvecs at v are live guest buffers, only read for a write; `run` is this program's run (scratch memory), used only by this task.
        let r = with_kvecs_const(bufs, |v, n| unsafe {
            kwasm_fd_rw(self.run, fd, true, v, n, -1)
        })?;
        self.sys(r).map(|n| n as usize)
    }

    fn pwrite(&mut self, fd: u32, bufs: &[&[u8]], offset: u64) -> OsResult<usize> {
        self.syscall(nr::__NR_pwritev, &[fd.into(), 0, bufs.len() as u64, offset])?;
        let pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: the n kvecs at v are live guest buffers, only read for a write; `run` is this program's run (scratch memory), used only by this task.
        let r = with_kvecs_const(bufs, |v, n| unsafe {
            kwasm_fd_rw(self.run, fd, true, v, n, pos)
        })?;
        self.sys(r).map(|n| n as usize)
    }

    fn seek(&mut self, fd: u32, offset: i64, whence: i32) -> OsResult<u64> {
        self.syscall(nr::__NR_lseek, &[fd.into(), offset as u64, whence as u64])?;
        let mut pos = 0;
        // SAFETY: `pos` is a valid out pointer.
        let r = unsafe { kwasm_fd_seek(fd, offset, whence, &mut pos) };
        self.unit(r).map(|_| pos)
    }

    fn get_flags(&mut self, fd: u32) -> OsResult<u64> {
        self.syscall(nr::__NR_fcntl, &[fd.into(), nr::F_GETFL.into()])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_get_flags(fd) };
        self.sys(r)
    }

    fn set_flags(&mut self, fd: u32, flags: u64) -> OsResult<()> {
        self.syscall(nr::__NR_fcntl, &[fd.into(), nr::F_SETFL.into(), flags])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_set_flags(fd, flags as c_uint) };
        self.unit(r)
    }

    fn stat(&mut self, fd: u32) -> OsResult<Stat> {
        self.syscall(nr::__NR_fstat, &[fd.into()])?;
        let mut st = KwasmStat::default();
        // SAFETY: `st` is a valid out pointer.
        let r = unsafe { kwasm_fd_stat(fd, &mut st) };
        self.unit(r).map(|_| st.into())
    }

    fn stat_at(&mut self, dirfd: u32, path: &CStr, follow: bool) -> OsResult<Stat> {
        self.syscall(nr::__NR_newfstatat, &[dirfd.into(), 0, 0, nofollow(follow)])?;
        let mut st = KwasmStat::default();
        // SAFETY: `path` is NUL-terminated; `st` is a valid out pointer.
        let r = unsafe { kwasm_path_stat(dirfd, path.as_ptr(), follow, &mut st) };
        self.unit(r).map(|_| st.into())
    }

    fn socket_type(&mut self, fd: u32) -> OsResult<i32> {
        self.syscall(
            nr::__NR_getsockopt,
            &[fd.into(), nr::SOL_SOCKET.into(), nr::SO_TYPE.into()],
        )?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_socket_type(fd) };
        self.sys(r).map(|t| t as i32)
    }

    fn truncate(&mut self, fd: u32, size: u64) -> OsResult<()> {
        self.syscall(nr::__NR_ftruncate, &[fd.into(), size])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_truncate(fd, size) };
        self.unit(r)
    }

    fn set_times(&mut self, fd: u32, atime: SetTime, mtime: SetTime) -> OsResult<()> {
        self.syscall(nr::__NR_utimensat, &[fd.into()])?;
        let mut t = [timespec64(atime), timespec64(mtime)];
        // SAFETY: `t` holds the two timespecs; a null path means the fd itself.
        let r = unsafe { kwasm_set_times(fd, core::ptr::null(), false, t.as_mut_ptr()) };
        self.unit(r)
    }

    fn set_times_at(
        &mut self,
        dirfd: u32,
        path: &CStr,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> OsResult<()> {
        self.syscall(nr::__NR_utimensat, &[dirfd.into(), 0, 0, nofollow(follow)])?;
        let mut t = [timespec64(atime), timespec64(mtime)];
        // SAFETY: `path` is NUL-terminated; `t` holds the two timespecs.
        let r = unsafe { kwasm_set_times(dirfd, path.as_ptr(), follow, t.as_mut_ptr()) };
        self.unit(r)
    }

    fn advise(&mut self, fd: u32, offset: u64, len: u64, advice: i32) -> OsResult<()> {
        self.syscall(nr::__NR_fadvise64, &[fd.into(), offset, len, advice as u64])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_advise(fd, offset, len, advice) };
        self.unit(r)
    }

    fn allocate(&mut self, fd: u32, offset: u64, len: u64) -> OsResult<()> {
        self.syscall(nr::__NR_fallocate, &[fd.into(), 0, offset, len])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_allocate(fd, offset, len) };
        self.unit(r)
    }

    fn sync(&mut self, fd: u32) -> OsResult<()> {
        self.syscall(nr::__NR_fsync, &[fd.into()])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_sync(fd, false) };
        self.unit(r)
    }

    fn datasync(&mut self, fd: u32) -> OsResult<()> {
        self.syscall(nr::__NR_fdatasync, &[fd.into()])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_sync(fd, true) };
        self.unit(r)
    }

    fn close(&mut self, fd: u32) -> OsResult<()> {
        self.syscall(nr::__NR_close, &[fd.into()])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_close(fd) };
        self.unit(r)
    }

    fn renumber(&mut self, from: u32, to: u32) -> OsResult<()> {
        self.syscall(nr::__NR_dup2, &[from.into(), to.into()])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_fd_renumber(from, to) };
        self.unit(r)
    }

    fn open_at(&mut self, dirfd: u32, path: &CStr, how: &OpenHow) -> OsResult<u32> {
        self.syscall(nr::__NR_openat, &[dirfd.into(), 0, how.flags, how.mode])?;
        // SAFETY: `path` is NUL-terminated.
        let r = unsafe { kwasm_path_open(dirfd, path.as_ptr(), how.flags, how.mode, how.resolve) };
        self.fd(r)
    }

    fn mkdir_at(&mut self, dirfd: u32, path: &CStr, mode: u32) -> OsResult<()> {
        self.syscall(nr::__NR_mkdirat, &[dirfd.into(), 0, mode.into()])?;
        // SAFETY: `path` is NUL-terminated.
        let r = unsafe { kwasm_path_mkdir(dirfd, path.as_ptr(), mode) };
        self.unit(r)
    }

    fn unlink_at(&mut self, dirfd: u32, path: &CStr, rmdir: bool) -> OsResult<()> {
        self.syscall(
            nr::__NR_unlinkat,
            &[
                dirfd.into(),
                0,
                if rmdir { nr::AT_REMOVEDIR.into() } else { 0 },
            ],
        )?;
        // SAFETY: `path` is NUL-terminated.
        let r = unsafe { kwasm_path_unlink(dirfd, path.as_ptr(), rmdir) };
        self.unit(r)
    }

    fn rename_at(&mut self, old_dir: u32, old: &CStr, new_dir: u32, new: &CStr) -> OsResult<()> {
        self.syscall(nr::__NR_renameat, &[old_dir.into(), 0, new_dir.into()])?;
        // SAFETY: both paths are NUL-terminated.
        let r = unsafe { kwasm_path_rename(old_dir, old.as_ptr(), new_dir, new.as_ptr()) };
        self.unit(r)
    }

    fn link_at(
        &mut self,
        old_dir: u32,
        old: &CStr,
        new_dir: u32,
        new: &CStr,
        follow: bool,
    ) -> OsResult<()> {
        self.syscall(
            nr::__NR_linkat,
            &[
                old_dir.into(),
                0,
                new_dir.into(),
                0,
                if follow {
                    nr::AT_SYMLINK_FOLLOW.into()
                } else {
                    0
                },
            ],
        )?;
        // SAFETY: both paths are NUL-terminated.
        let r = unsafe { kwasm_path_link(old_dir, old.as_ptr(), new_dir, new.as_ptr(), follow) };
        self.unit(r)
    }

    fn symlink_at(&mut self, target: &CStr, dirfd: u32, path: &CStr) -> OsResult<()> {
        self.syscall(nr::__NR_symlinkat, &[0, dirfd.into()])?;
        // SAFETY: both strings are NUL-terminated.
        let r = unsafe { kwasm_path_symlink(target.as_ptr(), dirfd, path.as_ptr()) };
        self.unit(r)
    }

    fn readlink_at(&mut self, dirfd: u32, path: &CStr, buf: &mut [u8]) -> OsResult<usize> {
        self.syscall(nr::__NR_readlinkat, &[dirfd.into(), 0, 0, buf.len() as u64])?;
        // SAFETY: `path` is NUL-terminated (a copy: it may not overlap `buf`); `buf` is writable for its length.
        let r = unsafe { kwasm_path_readlink(dirfd, path.as_ptr(), buf.as_mut_ptr(), buf.len()) };
        self.sys(r).map(|n| n as usize)
    }

    fn read_dir(
        &mut self,
        fd: u32,
        mut cookie: u64,
        sink: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> OsResult<()> {
        self.syscall(nr::__NR_getdents64, &[fd.into(), 0, DIRENT_BUF as u64])?;
        // u64 elements: the C side stores 8-byte aligned records.
        let mut buf: Vec<u64> = Vec::new();
        buf.try_reserve_exact(DIRENT_BUF / 8).map_err(|_| ENOMEM)?;
        buf.resize(DIRENT_BUF / 8, 0);
        loop {
            // SAFETY: `buf` is writable for DIRENT_BUF bytes.
            let r = unsafe { kwasm_fd_readdir(fd, cookie, buf.as_mut_ptr().cast(), DIRENT_BUF) };
            // Never past the buffer, whatever the C side reports.
            let used = (self.sys(r)? as usize).min(DIRENT_BUF);
            if used == 0 {
                return Ok(());
            }
            // SAFETY: a u64 buffer viewed as its bytes; `used` <= DIRENT_BUF.
            let bytes = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), used) };
            // A chunk that yields no entry, or does not move the position,
            // would make this loop spin: a file system bug, an I/O error.
            if used < DIRENT_NAME {
                return Err(EIO);
            }
            let start = cookie;
            let mut off = 0;
            while off + DIRENT_NAME <= used {
                let rec = &bytes[off..];
                let word = |i: usize| {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&rec[i..i + 8]);
                    u64::from_ne_bytes(w)
                };
                let nl = offsets::KWASM_DIRENT_NAMELEN;
                let namelen = usize::from(u16::from_ne_bytes([rec[nl], rec[nl + 1]]));
                let Some(name) = rec.get(DIRENT_NAME..DIRENT_NAME + namelen) else {
                    return Err(EINVAL);
                };
                let entry = DirEntry {
                    ino: word(offsets::KWASM_DIRENT_INO),
                    next: word(offsets::KWASM_DIRENT_NEXT),
                    d_type: rec[offsets::KWASM_DIRENT_TYPE],
                    name,
                };
                if !sink(&entry) {
                    return Ok(());
                }
                cookie = entry.next;
                off += (DIRENT_NAME + namelen + 7) & !7;
            }
            if cookie == start {
                return Err(EIO);
            }
        }
    }

    fn clock_time(&mut self, clock: i32) -> OsResult<Timespec> {
        self.syscall(nr::__NR_clock_gettime, &[clock as u64])?;
        let (mut sec, mut nsec) = (0, 0);
        // SAFETY: valid out pointers.
        let r = unsafe { kwasm_clock_get(clock, false, &mut sec, &mut nsec) };
        self.unit(r).map(|_| ts(sec, nsec))
    }

    fn clock_res(&mut self, clock: i32) -> OsResult<Timespec> {
        self.syscall(nr::__NR_clock_getres, &[clock as u64])?;
        let (mut sec, mut nsec) = (0, 0);
        // SAFETY: valid out pointers.
        let r = unsafe { kwasm_clock_get(clock, true, &mut sec, &mut nsec) };
        self.unit(r).map(|_| ts(sec, nsec))
    }

    fn random(&mut self, buf: &mut [u8]) -> OsResult<()> {
        self.syscall(nr::__NR_getrandom, &[0, buf.len() as u64])?;
        // SAFETY: `buf` is writable for its length.
        let r = unsafe { kwasm_random(buf.as_mut_ptr(), buf.len()) };
        self.unit(r)
    }

    fn sched_yield(&mut self) {
        if self.syscall(nr::__NR_sched_yield, &[]).is_err() {
            return;
        }
        // SAFETY: no arguments; called outside any FPU section.
        unsafe { kwasm_yield() };
        self.end_syscall(0);
    }

    fn poll(&mut self, fds: &mut [PollFd], timeout_ns: Option<u64>) -> OsResult<usize> {
        self.syscall(nr::__NR_ppoll, &[0, fds.len() as u64])?;
        let n = c_uint::try_from(fds.len()).map_err(|_| EINVAL)?;
        let deadline = match timeout_ns {
            // One pass, no clock read (kwasm_poll's deadline 0).
            Some(0) => 0,
            Some(t) => match self.wait_deadline {
                Some(d) => d,
                None => {
                    // The clock of the wait itself, not a clock_gettime of
                    // the program's: no policy check or audit record of its own.
                    let (mut sec, mut nsec) = (0, 0);
                    // SAFETY: valid out pointers.
                    let r = unsafe { kwasm_clock_get(CLOCK_MONOTONIC, false, &mut sec, &mut nsec) };
                    if r < 0 {
                        return self.unit(r).map(|_| 0);
                    }
                    let d = ts(sec, nsec)
                        .to_nanos()
                        .and_then(|n| n.checked_add(t))
                        .and_then(|d| i64::try_from(d).ok())
                        .map_or(-1, |d| d.max(1));
                    *self.wait_deadline.insert(d)
                }
            },
            None => -1,
        };
        for p in fds.iter_mut() {
            p.revents = 0;
        }
        // SAFETY: `fds` is `n` pollfds in C's layout (checked above), only used by this call.
        let r = unsafe { kwasm_poll(fds.as_mut_ptr(), n, deadline) };
        self.sys(r).map(|count| count as usize)
    }

    fn nread(&mut self, fd: u32) -> OsResult<u64> {
        self.syscall(nr::__NR_ioctl, &[fd.into(), fionread()])?;
        let mut n = 0;
        // SAFETY: `n` is a valid out pointer.
        let r = unsafe { kwasm_fd_nread(fd, &mut n) };
        self.unit(r).map(|_| n)
    }

    // WASI's sock_* calls are kwasm_net's with no address (net_os.rs).
    fn accept(&mut self, fd: u32, nonblock: bool) -> OsResult<u32> {
        // SOCK_NONBLOCK.
        let flags = if nonblock { 0o4000 } else { 0 };
        self.accept_peer(fd, flags, None)
    }

    fn recv(&mut self, fd: u32, bufs: &mut [&mut [u8]], flags: i32) -> OsResult<(usize, i32)> {
        self.recv_peer(fd, bufs, flags, None)
    }

    fn send(&mut self, fd: u32, bufs: &[&[u8]], flags: i32) -> OsResult<usize> {
        kwasm_wasi::net::NetOs::send_to(self, fd, bufs, flags, None)
    }

    fn shutdown(&mut self, fd: u32, how: i32) -> OsResult<()> {
        self.syscall(nr::__NR_shutdown, &[fd.into(), how as u64])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_net_shutdown(fd, how) };
        self.unit(r)
    }

    fn raise(&mut self, sig: i32) -> OsResult<()> {
        self.syscall(nr::__NR_tgkill, &[0, 0, sig as u64])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_raise(sig) };
        self.unit(r)
    }
}
