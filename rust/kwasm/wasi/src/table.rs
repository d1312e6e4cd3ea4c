// SPDX-License-Identifier: GPL-2.0

//! The `wasi_snapshot_preview1` import table: name, signature, and the
//! implementation of every function.

use kwasm_abi::ValType::{self, I32, I64};

use crate::ctx::{Ctx, Exit};
use crate::errno::Errno;
use crate::funcs::{args, clock, fd, path, poll, proc, random, sock, Args, Fail, WasiResult};
use crate::os::WasiOs;

/// The import module name.
pub const MODULE: &str = "wasi_snapshot_preview1";

type Impl<O> = fn(&mut Ctx<'_, O>, Args<'_>) -> WasiResult;

/// One WASI function.
pub struct WasiFunc<O: ?Sized> {
    /// Import name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types: `[I32]` (the errno), or none for `proc_exit`.
    pub results: &'static [ValType],
    imp: Impl<O>,
}

impl<O: ?Sized> core::fmt::Debug for WasiFunc<O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasiFunc")
            .field("name", &self.name)
            .finish()
    }
}

impl<O: ?Sized> WasiFunc<O> {
    /// A function returning an errno.
    pub(crate) const fn new(name: &'static str, params: &'static [ValType], imp: Impl<O>) -> Self {
        WasiFunc {
            name,
            params,
            results: &[I32],
            imp,
        }
    }
}

impl<O: WasiOs + ?Sized> WasiFunc<O> {
    /// Calls the function with its argument slots (one u64 per parameter,
    /// i32 values in the low half). Returns the errno to put in result slot
    /// 0, or the exit that ends the program. Never panics on guest input.
    pub fn call(&self, cx: &mut Ctx<'_, O>, slots: &[u64]) -> Result<Errno, Exit> {
        if slots.len() < self.params.len() {
            // A runtime bug, not a guest error; do nothing.
            return Ok(Errno::INVAL);
        }
        match (self.imp)(cx, Args(slots)) {
            Ok(()) => Ok(Errno::SUCCESS),
            Err(Fail::Errno(e)) => Ok(e),
            Err(Fail::Exit(x)) => Err(x),
        }
    }
}

const fn f<O: WasiOs + ?Sized>(
    name: &'static str,
    params: &'static [ValType],
    imp: Impl<O>,
) -> WasiFunc<O> {
    WasiFunc {
        name,
        params,
        results: &[I32],
        imp,
    }
}

struct Table<O: ?Sized>(core::marker::PhantomData<O>);

impl<O: WasiOs + ?Sized + 'static> Table<O> {
    const ALL: &'static [WasiFunc<O>] = &[
        f("args_get", &[I32, I32], args::args_get),
        f("args_sizes_get", &[I32, I32], args::args_sizes_get),
        f("environ_get", &[I32, I32], args::environ_get),
        f("environ_sizes_get", &[I32, I32], args::environ_sizes_get),
        f("clock_res_get", &[I32, I32], clock::clock_res_get),
        f("clock_time_get", &[I32, I64, I32], clock::clock_time_get),
        f("fd_advise", &[I32, I64, I64, I32], fd::fd_advise),
        f("fd_allocate", &[I32, I64, I64], fd::fd_allocate),
        f("fd_close", &[I32], fd::fd_close),
        f("fd_datasync", &[I32], fd::fd_datasync),
        f("fd_fdstat_get", &[I32, I32], fd::fd_fdstat_get),
        f("fd_fdstat_set_flags", &[I32, I32], fd::fd_fdstat_set_flags),
        f(
            "fd_fdstat_set_rights",
            &[I32, I64, I64],
            fd::fd_fdstat_set_rights,
        ),
        f("fd_filestat_get", &[I32, I32], fd::fd_filestat_get),
        f(
            "fd_filestat_set_size",
            &[I32, I64],
            fd::fd_filestat_set_size,
        ),
        f(
            "fd_filestat_set_times",
            &[I32, I64, I64, I32],
            fd::fd_filestat_set_times,
        ),
        f("fd_pread", &[I32, I32, I32, I64, I32], fd::fd_pread),
        f("fd_prestat_get", &[I32, I32], fd::fd_prestat_get),
        f(
            "fd_prestat_dir_name",
            &[I32, I32, I32],
            fd::fd_prestat_dir_name,
        ),
        f("fd_pwrite", &[I32, I32, I32, I64, I32], fd::fd_pwrite),
        f("fd_read", &[I32, I32, I32, I32], fd::fd_read),
        f("fd_readdir", &[I32, I32, I32, I64, I32], fd::fd_readdir),
        f("fd_renumber", &[I32, I32], fd::fd_renumber),
        f("fd_seek", &[I32, I64, I32, I32], fd::fd_seek),
        f("fd_sync", &[I32], fd::fd_sync),
        f("fd_tell", &[I32, I32], fd::fd_tell),
        f("fd_write", &[I32, I32, I32, I32], fd::fd_write),
        f(
            "path_create_directory",
            &[I32, I32, I32],
            path::path_create_directory,
        ),
        f(
            "path_filestat_get",
            &[I32, I32, I32, I32, I32],
            path::path_filestat_get,
        ),
        f(
            "path_filestat_set_times",
            &[I32, I32, I32, I32, I64, I64, I32],
            path::path_filestat_set_times,
        ),
        f(
            "path_link",
            &[I32, I32, I32, I32, I32, I32, I32],
            path::path_link,
        ),
        f(
            "path_open",
            &[I32, I32, I32, I32, I32, I64, I64, I32, I32],
            path::path_open,
        ),
        f(
            "path_readlink",
            &[I32, I32, I32, I32, I32, I32],
            path::path_readlink,
        ),
        f(
            "path_remove_directory",
            &[I32, I32, I32],
            path::path_remove_directory,
        ),
        f(
            "path_rename",
            &[I32, I32, I32, I32, I32, I32],
            path::path_rename,
        ),
        f(
            "path_symlink",
            &[I32, I32, I32, I32, I32],
            path::path_symlink,
        ),
        f("path_unlink_file", &[I32, I32, I32], path::path_unlink_file),
        f("poll_oneoff", &[I32, I32, I32, I32], poll::poll_oneoff),
        WasiFunc {
            name: "proc_exit",
            params: &[I32],
            results: &[],
            imp: proc::proc_exit,
        },
        f("proc_raise", &[I32], proc::proc_raise),
        f("random_get", &[I32, I32], random::random_get),
        f("sched_yield", &[], proc::sched_yield),
        f("sock_accept", &[I32, I32, I32], sock::sock_accept),
        f(
            "sock_recv",
            &[I32, I32, I32, I32, I32, I32],
            sock::sock_recv,
        ),
        f("sock_send", &[I32, I32, I32, I32, I32], sock::sock_send),
        f("sock_shutdown", &[I32, I32], sock::sock_shutdown),
    ];
}

/// Every wasi_snapshot_preview1 function.
pub fn functions<O: WasiOs + ?Sized + 'static>() -> &'static [WasiFunc<O>] {
    Table::<O>::ALL
}

/// The function imported as `module`.`name`, if WASI has it.
pub fn lookup<O: WasiOs + ?Sized + 'static>(
    module: &str,
    name: &str,
) -> Option<&'static WasiFunc<O>> {
    if module != MODULE {
        return None;
    }
    // Only at link time, over 46 entries: a linear search is fine.
    functions::<O>().iter().find(|f| f.name == name)
}
