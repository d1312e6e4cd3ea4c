// SPDX-License-Identifier: GPL-2.0

//! `path_*`: operations on paths beneath a directory fd. Resolution rules
//! (beneath the directory, escapes are `PERM`) are the OS backend's; see
//! [`crate::os`]. Each call first checks the directory fd's `PATH_*` right
//! ([`crate::rights`]); on anything but a directory that is `NOTDIR`.

use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::funcs::{filestat, os, Args, WasiResult};
use crate::guest::{ptr, read_path, Guest, PathBuf};
use crate::layout::Filestat;
use crate::os::{oflag, resolve, OpenHow, WasiOs};
use crate::rights::{self as fdrights, need};
use crate::types::{
    decode_fdflags, decode_lookupflags, decode_oflags, decode_rights, decode_times, fdflags,
    filetype_of_mode, oflags, rights,
};

/// The path argument at slots `i` (pointer) and `i + 1` (length).
fn path_arg<O: ?Sized>(cx: &Ctx<'_, O>, a: &Args<'_>, i: usize) -> Result<PathBuf, Errno> {
    read_path(cx.mem, ptr(a.u64(i)), a.u32(i + 1))
}

/// `(fd, path, path_len)`.
pub(crate) fn path_create_directory<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let path = path_arg(cx, &a, 1)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_CREATE_DIRECTORY)?;
    os(cx.os.mkdir_at(a.u32(0), path.as_cstr(), 0o777))?;
    Ok(())
}

/// `(fd, flags, path, path_len, ret)`.
pub(crate) fn path_filestat_get<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let follow = decode_lookupflags(a.flags(1))?;
    let path = path_arg(cx, &a, 2)?;
    let out = Guest::new(cx.mem).out::<{ Filestat::SIZE }>(ptr(a.u64(4)), Filestat::ALIGN)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_FILESTAT_GET)?;
    let st = os(cx.os.stat_at(a.u32(0), path.as_cstr(), follow))?;
    // A socket found by path is not open: its type is unknown.
    let ft = filetype_of_mode(st.mode, None);
    Guest::new(cx.mem).put(out, filestat(&st, ft).encode());
    Ok(())
}

/// `(fd, flags, path, path_len, atim, mtim, fst_flags)`.
pub(crate) fn path_filestat_set_times<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let follow = decode_lookupflags(a.flags(1))?;
    let (atime, mtime) = decode_times(a.u64(4), a.u64(5), a.flags(6))?;
    let path = path_arg(cx, &a, 2)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_FILESTAT_SET_TIMES)?;
    os(cx
        .os
        .set_times_at(a.u32(0), path.as_cstr(), follow, atime, mtime))?;
    Ok(())
}

/// `(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len)`.
/// Following a symlink source works (wasmtime refuses it).
pub(crate) fn path_link<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let follow = decode_lookupflags(a.flags(1))?;
    let old = path_arg(cx, &a, 2)?;
    let new = path_arg(cx, &a, 5)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_LINK_SOURCE)?;
    need(cx.os, cx.state, a.u32(4), rights::PATH_LINK_TARGET)?;
    os(cx
        .os
        .link_at(a.u32(0), old.as_cstr(), a.u32(4), new.as_cstr(), follow))?;
    Ok(())
}

/// Linux open flags and resolution for a `path_open`.
pub(crate) fn open_how(follow: bool, oflags_: u16, rights_base: u64, fdflags_: u16) -> OpenHow {
    let write = rights_base & rights::FD_WRITE != 0;
    let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0;
    // Neither right (e.g. wasi-libc's O_SEARCH) still needs some mode; a
    // read-only open grants nothing the rights did not ask for that the
    // caller could not get by reopening.
    let mut flags = match (read, write) {
        (true, true) => oflag::O_RDWR,
        (false, true) => oflag::O_WRONLY,
        _ => oflag::O_RDONLY,
    };
    // No controlling terminals: WASI has no notion of one.
    flags |= oflag::O_NOCTTY;
    for (w, l) in [
        (oflags::CREAT, oflag::O_CREAT),
        (oflags::DIRECTORY, oflag::O_DIRECTORY),
        (oflags::EXCL, oflag::O_EXCL),
        (oflags::TRUNC, oflag::O_TRUNC),
    ] {
        if oflags_ & w != 0 {
            flags |= l;
        }
    }
    for (w, l) in [
        (fdflags::APPEND, oflag::O_APPEND),
        (fdflags::NONBLOCK, oflag::O_NONBLOCK),
        (fdflags::DSYNC, oflag::O_DSYNC),
        // Linux's O_RSYNC is O_SYNC.
        (fdflags::RSYNC, oflag::O_SYNC),
        (fdflags::SYNC, oflag::O_SYNC),
    ] {
        if fdflags_ & w != 0 {
            flags |= l;
        }
    }
    if !follow {
        flags |= oflag::O_NOFOLLOW;
    }
    OpenHow {
        flags,
        // openat2 insists on no mode unless creating.
        mode: if flags & oflag::O_CREAT != 0 {
            0o666
        } else {
            0
        },
        resolve: resolve::RESOLVE_BENEATH | resolve::RESOLVE_NO_MAGICLINKS,
    }
}

/// The base rights a directory needs to open with `oflags_` and
/// `fdflags_`, as the rights' definitions say.
fn open_needs(oflags_: u16, fdflags_: u16) -> u64 {
    let mut need_ = rights::PATH_OPEN;
    if oflags_ & oflags::CREAT != 0 {
        need_ |= rights::PATH_CREATE_FILE;
    }
    if oflags_ & oflags::TRUNC != 0 {
        need_ |= rights::PATH_FILESTAT_SET_SIZE;
    }
    if fdflags_ & (fdflags::RSYNC | fdflags::SYNC) != 0 {
        need_ |= rights::FD_SYNC;
    }
    need_
}

/// `(fd, dirflags, path, path_len, oflags, rights_base, rights_inheriting,
/// fdflags, ret)`: the directory needs `PATH_OPEN` (and `PATH_CREATE_FILE`
/// to create, `PATH_FILESTAT_SET_SIZE` to truncate, `FD_DATASYNC` or
/// `FD_SYNC` for `DSYNC`, `FD_SYNC` for `RSYNC`/`SYNC`), and its inheriting
/// rights must include every right asked for (`NOTCAPABLE` otherwise). The
/// new fd gets the rights asked for, less those that do not apply to what
/// was opened (e.g. `FD_SEEK` on a directory).
pub(crate) fn path_open<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let follow = decode_lookupflags(a.flags(1))?;
    let of = decode_oflags(a.flags(4))?;
    let rb = decode_rights(a.u64(5))?;
    let ri = decode_rights(a.u64(6))?;
    let ff = decode_fdflags(a.flags(7))?;
    let path = path_arg(cx, &a, 2)?;
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(8)))?;
    let dirfd = a.u32(0);
    let dir = need(cx.os, cx.state, dirfd, open_needs(of, ff))?;
    let sync = rights::FD_DATASYNC | rights::FD_SYNC;
    if ff & fdflags::DSYNC != 0 && dir.base & sync == 0 {
        return Err(fdrights::denied(&dir, rights::FD_DATASYNC).into());
    }
    if (rb | ri) & !dir.inheriting != 0 {
        return Err(Errno::NOTCAPABLE.into());
    }
    // Before the open: the new fd's rights must be recorded.
    cx.state.fds.reserve()?;
    let how = open_how(follow, of, rb, ff);
    let fd = os(cx.os.open_at(dirfd, path.as_cstr(), &how))?;
    fdrights::opened(cx.os, cx.state, fd, Some(how.flags), rb, ri);
    g.put_u32(out, fd);
    Ok(())
}

/// `(fd, path, path_len, buf, buf_len, ret)`: truncates to the buffer, as
/// readlink(2) and wasmtime do.
pub(crate) fn path_readlink<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let path = path_arg(cx, &a, 1)?;
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(5)))?;
    let buf = g.bytes_mut(ptr(a.u64(3)), a.u32(4))?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_READLINK)?;
    let n = os(cx.os.readlink_at(a.u32(0), path.as_cstr(), buf))?;
    g.put_u32(out, n as u32);
    Ok(())
}

/// `(fd, path, path_len)`.
pub(crate) fn path_remove_directory<O: WasiOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
) -> WasiResult {
    let path = path_arg(cx, &a, 1)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_REMOVE_DIRECTORY)?;
    os(cx.os.unlink_at(a.u32(0), path.as_cstr(), true))?;
    Ok(())
}

/// `(old_fd, old_path, old_len, new_fd, new_path, new_len)`.
pub(crate) fn path_rename<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let old = path_arg(cx, &a, 1)?;
    let new = path_arg(cx, &a, 4)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_RENAME_SOURCE)?;
    need(cx.os, cx.state, a.u32(3), rights::PATH_RENAME_TARGET)?;
    os(cx
        .os
        .rename_at(a.u32(0), old.as_cstr(), a.u32(3), new.as_cstr()))?;
    Ok(())
}

/// `(target, target_len, fd, path, path_len)`: an absolute target could
/// never be followed beneath a directory; it is refused with `PERM`, like
/// other escapes.
pub(crate) fn path_symlink<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let target = path_arg(cx, &a, 0)?;
    if target.as_bytes().first() == Some(&b'/') {
        return Err(Errno::PERM.into());
    }
    let path = path_arg(cx, &a, 3)?;
    need(cx.os, cx.state, a.u32(2), rights::PATH_SYMLINK)?;
    os(cx.os.symlink_at(target.as_cstr(), a.u32(2), path.as_cstr()))?;
    Ok(())
}

/// `(fd, path, path_len)`.
pub(crate) fn path_unlink_file<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let path = path_arg(cx, &a, 1)?;
    need(cx.os, cx.state, a.u32(0), rights::PATH_UNLINK_FILE)?;
    os(cx.os.unlink_at(a.u32(0), path.as_cstr(), false))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_follow_rights_oflags_and_fdflags() {
        let h = open_how(true, 0, rights::FD_READ, 0);
        assert_eq!(h.flags, oflag::O_RDONLY | oflag::O_NOCTTY);
        assert_eq!(
            h.resolve,
            resolve::RESOLVE_BENEATH | resolve::RESOLVE_NO_MAGICLINKS
        );
        let h = open_how(
            false,
            oflags::CREAT | oflags::TRUNC | oflags::EXCL,
            rights::FD_WRITE,
            fdflags::APPEND,
        );
        assert_eq!(
            h.flags,
            oflag::O_WRONLY
                | oflag::O_NOCTTY
                | oflag::O_CREAT
                | oflag::O_TRUNC
                | oflag::O_EXCL
                | oflag::O_APPEND
                | oflag::O_NOFOLLOW
        );
        let h = open_how(
            true,
            oflags::DIRECTORY,
            rights::FD_READDIR | rights::FD_WRITE,
            0,
        );
        assert_eq!(
            h.flags,
            oflag::O_RDWR | oflag::O_NOCTTY | oflag::O_DIRECTORY
        );
        let h = open_how(true, 0, 0, fdflags::RSYNC | fdflags::NONBLOCK);
        assert_eq!(
            h.flags,
            oflag::O_RDONLY | oflag::O_NOCTTY | oflag::O_SYNC | oflag::O_NONBLOCK
        );
    }
}
