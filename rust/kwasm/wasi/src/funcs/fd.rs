// SPDX-License-Identifier: GPL-2.0

//! `fd_*`: operations on open file descriptors.
//!
//! WASI fds are the process's own file descriptors, so anything the process
//! inherited (stdio, pipes, sockets) works as it would natively. Every call
//! but `fd_close`, `fd_renumber`, `fd_fdstat_*` and `fd_prestat_*` first
//! checks the rights the fd holds ([`crate::rights`]), then the kernel makes
//! its usual checks.

use crate::ctx::{Ctx, WasiState};
use crate::errno::Errno;
use crate::funcs::{filestat, loff, os, Args, WasiResult};
use crate::guest::{ptr, Guest};
use crate::layout::{encode_prestat_dir, Dirent, Fdstat, Filestat, PRESTAT_ALIGN};
use crate::os::{oflag, WasiOs, SEEK_CUR};
use crate::rights::{self as fdrights, need};
use crate::types::{
    decode_advice, decode_fdflags, decode_rights, decode_times, decode_whence, fdflags,
    filetype_of_dtype, rights,
};

/// The `fdstat` of an open fd: its status flags, type and rights.
pub(crate) fn fdstat<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, fd: u32) -> Result<Fdstat, Errno> {
    let r = fdrights::get(cx.os, cx.state, fd)?;
    let fl = os(cx.os.get_flags(fd))?;
    let mut flags = 0;
    if fl & oflag::O_APPEND != 0 {
        flags |= fdflags::APPEND;
    }
    if fl & oflag::O_NONBLOCK != 0 {
        flags |= fdflags::NONBLOCK;
    }
    if fl & oflag::O_DSYNC != 0 {
        flags |= fdflags::DSYNC;
    }
    if fl & oflag::O_SYNC_ONLY != 0 {
        flags |= fdflags::SYNC;
    }
    Ok(Fdstat {
        filetype: r.filetype,
        flags,
        rights_base: r.base,
        rights_inheriting: r.inheriting,
    })
}

/// `(fd, ret)`.
pub(crate) fn fd_fdstat_get<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let out = Guest::new(cx.mem).out::<{ Fdstat::SIZE }>(ptr(a.u64(1)), Fdstat::ALIGN)?;
    let st = fdstat(cx, a.u32(0))?;
    Guest::new(cx.mem).put(out, st.encode());
    Ok(())
}

/// `(fd, flags)`: `APPEND` and `NONBLOCK` can change; Linux cannot change
/// the sync flags of an open file, so asking for them is `INVAL` (as in
/// wasmtime) rather than silently ignored. Works on any fd, including
/// sockets and pipes.
pub(crate) fn fd_fdstat_set_flags<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let fd = a.u32(0);
    let f = decode_fdflags(a.flags(1))?;
    need(cx.os, cx.state, fd, rights::FD_FDSTAT_SET_FLAGS)?;
    if f & (fdflags::DSYNC | fdflags::SYNC | fdflags::RSYNC) != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut fl = os(cx.os.get_flags(fd))? & !(oflag::O_APPEND | oflag::O_NONBLOCK);
    if f & fdflags::APPEND != 0 {
        fl |= oflag::O_APPEND;
    }
    if f & fdflags::NONBLOCK != 0 {
        fl |= oflag::O_NONBLOCK;
    }
    os(cx.os.set_flags(fd, fl))?;
    Ok(())
}

/// `(fd, base, inheriting)`: rights can only be dropped (`NOTCAPABLE`
/// otherwise); the fd keeps the new rights until it is closed, and
/// renumbering moves them.
pub(crate) fn fd_fdstat_set_rights<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let fd = a.u32(0);
    let base = decode_rights(a.u64(1))?;
    let inheriting = decode_rights(a.u64(2))?;
    let mut r = fdrights::get(cx.os, cx.state, fd)?;
    if base & !r.base != 0 || inheriting & !r.inheriting != 0 {
        return Err(Errno::NOTCAPABLE.into());
    }
    r.base = base;
    r.inheriting = inheriting;
    cx.state.fds.put(r)?;
    Ok(())
}

/// `(fd, ret)`: the real `st_dev`/`st_ino` (wasmtime reports dev 1 and a
/// hash), so they match `d_ino` from `fd_readdir`.
pub(crate) fn fd_filestat_get<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let fd = a.u32(0);
    let out = Guest::new(cx.mem).out::<{ Filestat::SIZE }>(ptr(a.u64(1)), Filestat::ALIGN)?;
    let r = need(cx.os, cx.state, fd, rights::FD_FILESTAT_GET)?;
    let st = os(cx.os.stat(fd))?;
    Guest::new(cx.mem).put(out, filestat(&st, r.filetype).encode());
    Ok(())
}

/// `(fd, size)`.
pub(crate) fn fd_filestat_set_size<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let size = loff(a.u64(1))?;
    need(cx.os, cx.state, a.u32(0), rights::FD_FILESTAT_SET_SIZE)?;
    os(cx.os.truncate(a.u32(0), size))?;
    Ok(())
}

/// `(fd, atim, mtim, fst_flags)`.
pub(crate) fn fd_filestat_set_times<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let (atime, mtime) = decode_times(a.u64(1), a.u64(2), a.flags(3))?;
    need(cx.os, cx.state, a.u32(0), rights::FD_FILESTAT_SET_TIMES)?;
    os(cx.os.set_times(a.u32(0), atime, mtime))?;
    Ok(())
}

/// `(fd, offset, len, advice)`.
pub(crate) fn fd_advise<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let advice = decode_advice(a.flags(3))?;
    let (offset, len) = (loff(a.u64(1))?, loff(a.u64(2))?);
    need(cx.os, cx.state, a.u32(0), rights::FD_ADVISE)?;
    os(cx.os.advise(a.u32(0), offset, len, advice))?;
    Ok(())
}

/// `(fd, offset, len)`: really allocates (wasmtime returns `NOTSUP`); a
/// filesystem without fallocate says `NOTSUP` itself.
pub(crate) fn fd_allocate<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (offset, len) = (loff(a.u64(1))?, loff(a.u64(2))?);
    if offset
        .checked_add(len)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return Err(Errno::FBIG.into());
    }
    need(cx.os, cx.state, a.u32(0), rights::FD_ALLOCATE)?;
    os(cx.os.allocate(a.u32(0), offset, len))?;
    Ok(())
}

/// `(fd)`.
pub(crate) fn fd_close<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let fd = a.u32(0);
    let r = cx.os.close(fd);
    // Linux releases the fd even when close reports an I/O error.
    if r != Err(crate::errno::linux::EBADF) {
        cx.state.closed(fd);
    }
    os(r)?;
    Ok(())
}

/// `(fd)`.
pub(crate) fn fd_datasync<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    need(cx.os, cx.state, a.u32(0), rights::FD_DATASYNC)?;
    os(cx.os.datasync(a.u32(0)))?;
    Ok(())
}

/// `(fd)`.
pub(crate) fn fd_sync<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    need(cx.os, cx.state, a.u32(0), rights::FD_SYNC)?;
    os(cx.os.sync(a.u32(0)))?;
    Ok(())
}

/// `(fd, iovs, iovs_len, ret)`.
pub(crate) fn fd_read<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(3)))?;
    let fd = a.u32(0);
    let n = g.with_iovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        need(cx.os, cx.state, fd, rights::FD_READ)?;
        os(cx.os.read(fd, bufs))
    })??;
    g.put_u32(out, n as u32);
    Ok(())
}

/// `(fd, iovs, iovs_len, offset, ret)`: needs `FD_SEEK` besides `FD_READ`.
pub(crate) fn fd_pread<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(4)))?;
    let offset = loff(a.u64(3))?;
    let fd = a.u32(0);
    let n = g.with_iovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        need(cx.os, cx.state, fd, rights::FD_READ | rights::FD_SEEK)?;
        os(cx.os.pread(fd, bufs, offset))
    })??;
    g.put_u32(out, n as u32);
    Ok(())
}

/// `(fd, iovs, iovs_len, ret)`.
pub(crate) fn fd_write<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(3)))?;
    let fd = a.u32(0);
    let n = g.with_ciovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        need(cx.os, cx.state, fd, rights::FD_WRITE)?;
        os(cx.os.write(fd, bufs))
    })??;
    g.put_u32(out, n as u32);
    Ok(())
}

/// `(fd, iovs, iovs_len, offset, ret)`: needs `FD_SEEK` besides `FD_WRITE`.
pub(crate) fn fd_pwrite<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(4)))?;
    let offset = loff(a.u64(3))?;
    let fd = a.u32(0);
    let n = g.with_ciovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        need(cx.os, cx.state, fd, rights::FD_WRITE | rights::FD_SEEK)?;
        os(cx.os.pwrite(fd, bufs, offset))
    })??;
    g.put_u32(out, n as u32);
    Ok(())
}

/// Checks the right to move (`FD_SEEK`) or only read (`FD_TELL`, which
/// `FD_SEEK` implies) the file offset of `fd`.
fn need_seek<O: WasiOs + ?Sized>(
    os_: &mut O,
    state: &mut WasiState,
    fd: u32,
    moves: bool,
) -> Result<(), Errno> {
    let r = fdrights::get(os_, state, fd)?;
    let missing = match (moves, r.base & rights::FD_SEEK != 0) {
        (_, true) => 0,
        (true, false) => rights::FD_SEEK,
        (false, false) => rights::FD_TELL & !r.base,
    };
    if missing != 0 {
        return Err(fdrights::denied(&r, missing));
    }
    Ok(())
}

/// `(fd, offset, whence, ret)`: a directory has no offset to seek
/// (wasmtime: `BADF`), unlike with lseek(2).
pub(crate) fn fd_seek<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let whence = decode_whence(a.flags(2))?;
    let out = g.out_u64(ptr(a.u64(3)))?;
    let (fd, offset) = (a.u32(0), a.u64(1) as i64);
    need_seek(cx.os, cx.state, fd, offset != 0 || whence != SEEK_CUR)?;
    let pos = os(cx.os.seek(fd, offset, whence))?;
    g.put_u64(out, pos);
    Ok(())
}

/// `(fd, ret)`.
pub(crate) fn fd_tell<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out_u64(ptr(a.u64(1)))?;
    need_seek(cx.os, cx.state, a.u32(0), false)?;
    let pos = os(cx.os.seek(a.u32(0), 0, SEEK_CUR))?;
    g.put_u64(out, pos);
    Ok(())
}

/// `(from, to)`: `to` must be open (`BADF` otherwise, as in wasmtime and
/// wasi-testsuite); what it was is closed. A preopen and the rights move
/// with the fd.
pub(crate) fn fd_renumber<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (from, to) = (a.u32(0), a.u32(1));
    if from == to {
        os(cx.os.get_flags(from))?;
        return Ok(());
    }
    os(cx.os.get_flags(to))?;
    os(cx.os.renumber(from, to))?;
    cx.state.renumbered(from, to);
    Ok(())
}

/// Writes directory entries into `dst` in the `fd_readdir` format: each a
/// `dirent` header and the name, the last one cut off where `dst` ends.
/// Returns the bytes used; `dst.len()` means "full, more may follow", and
/// the reader continues from the last complete entry's `d_next`.
pub(crate) fn fill_dirents<O: WasiOs + ?Sized>(
    os_: &mut O,
    fd: u32,
    cookie: u64,
    dst: &mut [u8],
) -> Result<usize, Errno> {
    let mut used = 0usize;
    let put = |dst: &mut [u8], used: &mut usize, bytes: &[u8]| {
        let room = dst.len() - *used;
        let n = room.min(bytes.len());
        dst[*used..*used + n].copy_from_slice(&bytes[..n]);
        *used += n;
    };
    let r = os_.read_dir(fd, cookie, &mut |e| {
        if used == dst.len() {
            return false;
        }
        let hdr = Dirent {
            next: e.next,
            ino: e.ino,
            namlen: e.name.len() as u32,
            d_type: filetype_of_dtype(e.d_type),
        };
        put(dst, &mut used, &hdr.encode());
        put(dst, &mut used, e.name);
        used < dst.len()
    });
    match r {
        // Like getdents: entries already delivered win over a later error.
        Err(e) if used == 0 => Err(crate::errno::from_linux(e)),
        _ => Ok(used),
    }
}

/// `(fd, buf, buf_len, cookie, ret)`.
pub(crate) fn fd_readdir<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(4)))?;
    let dst = g.bytes_mut(ptr(a.u64(1)), a.u32(2))?;
    // Also reports a bad fd or a non-directory when nothing fits.
    need(cx.os, cx.state, a.u32(0), rights::FD_READDIR)?;
    let used = if dst.is_empty() {
        0
    } else {
        fill_dirents(cx.os, a.u32(0), a.u64(3), dst)?
    };
    g.put_u32(out, used as u32);
    Ok(())
}

/// `(fd, ret)`: `BADF` for anything but a preopen, which is how wasi-libc
/// knows the list has ended.
pub(crate) fn fd_prestat_get<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = g.out::<8>(ptr(a.u64(1)), PRESTAT_ALIGN)?;
    let p = cx.state.preopen(a.u32(0)).ok_or(Errno::BADF)?;
    let len = u32::try_from(p.path.len()).map_err(|_| Errno::OVERFLOW)?;
    g.put(out, encode_prestat_dir(len));
    Ok(())
}

/// `(fd, path, path_len)`: `NAMETOOLONG` if the name does not fit; `NOTDIR`
/// for an open fd that is not a preopen (both as wasmtime).
pub(crate) fn fd_prestat_dir_name<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let fd = a.u32(0);
    let Some(p) = cx.state.preopen(fd) else {
        os(cx.os.get_flags(fd))?;
        return Err(Errno::NOTDIR.into());
    };
    let name = p.path.as_slice();
    let len = u32::try_from(name.len()).map_err(|_| Errno::OVERFLOW)?;
    if len > a.u32(2) {
        return Err(Errno::NAMETOOLONG.into());
    }
    Guest::new(cx.mem)
        .bytes_mut(ptr(a.u64(1)), len)?
        .copy_from_slice(name);
    Ok(())
}
