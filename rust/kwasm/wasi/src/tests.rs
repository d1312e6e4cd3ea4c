// SPDX-License-Identifier: GPL-2.0

//! Function-level tests on a fake OS: argument decoding, bounds, readdir
//! cookies and truncation, poll_oneoff layouts and deadlines, preopen
//! bookkeeping, rights enforcement, and the import table.

use alloc::vec;
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::errno::linux::{EBADF, ENOSYS};
use crate::layout::{Event, Subscription, SubscriptionKind};
use crate::os::{DirEntry, OpenHow, OsResult, PollFd, SetTime, Stat, Timespec, WasiOs};
use crate::{functions, lookup, Ctx, Errno, Exit, Strings, WasiState};

/// Directory entries, monotonic time, pollable fds, open fds (fd 1 a tty,
/// `files` regular files, `sockets` read-write stream sockets that accept
/// and send, the others directories; read-only unless in `modes`);
/// everything else is ENOSYS.
#[derive(Default)]
struct Fake {
    entries: Vec<(&'static [u8], u64, u8)>,
    open: Vec<u32>,
    files: Vec<u32>,
    sockets: Vec<u32>,
    modes: Vec<(u32, u64)>,
    mono: u64,
    ready: Vec<(u32, i16)>,
    polled: Option<(Vec<PollFd>, Option<u64>)>,
    renumbered: Option<(u32, u32)>,
    /// Seeks other than the `(0, SEEK_CUR)` probe.
    seeks: u32,
    truncated: Option<(u32, u64)>,
    opened: Option<OpenHow>,
}

impl Fake {
    /// Open regular files `fds`, read-write.
    fn with_files(fds: &[u32]) -> Self {
        Fake {
            open: fds.to_vec(),
            files: fds.to_vec(),
            modes: fds
                .iter()
                .map(|&fd| (fd, crate::os::oflag::O_RDWR))
                .collect(),
            ..Fake::default()
        }
    }
}

impl WasiOs for Fake {
    fn read(&mut self, _: u32, bufs: &mut [&mut [u8]]) -> OsResult<usize> {
        let mut n = 0;
        for b in bufs.iter_mut() {
            b.fill(b'r');
            n += b.len();
        }
        Ok(n)
    }
    fn pread(&mut self, _: u32, _: &mut [&mut [u8]], _: u64) -> OsResult<usize> {
        Err(ENOSYS)
    }
    fn write(&mut self, _: u32, bufs: &[&[u8]]) -> OsResult<usize> {
        Ok(bufs.iter().map(|b| b.len()).sum())
    }
    fn pwrite(&mut self, _: u32, _: &[&[u8]], _: u64) -> OsResult<usize> {
        Err(ENOSYS)
    }
    fn seek(&mut self, fd: u32, off: i64, whence: i32) -> OsResult<u64> {
        if (off, whence) != (0, crate::os::SEEK_CUR) {
            self.seeks += 1;
        }
        if fd == 1 || self.sockets.contains(&fd) {
            Err(crate::errno::linux::ESPIPE)
        } else {
            Ok(0)
        }
    }
    fn get_flags(&mut self, fd: u32) -> OsResult<u64> {
        if self.open.contains(&fd) {
            let m = self.modes.iter().find(|m| m.0 == fd);
            Ok(m.map_or(crate::os::oflag::O_RDONLY, |m| m.1))
        } else {
            Err(EBADF)
        }
    }
    fn set_flags(&mut self, _: u32, _: u64) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn stat(&mut self, fd: u32) -> OsResult<Stat> {
        if !self.open.contains(&fd) {
            return Err(EBADF);
        }
        let mode = if self.files.contains(&fd) {
            0o100644
        } else if self.sockets.contains(&fd) {
            0o140777
        } else if fd == 1 {
            0o020620
        } else {
            0o040755
        };
        Ok(Stat {
            mode,
            ..Stat::default()
        })
    }
    fn stat_at(&mut self, _: u32, _: &CStr, _: bool) -> OsResult<Stat> {
        Err(ENOSYS)
    }
    fn socket_type(&mut self, fd: u32) -> OsResult<i32> {
        if self.sockets.contains(&fd) {
            Ok(crate::os::SOCK_STREAM)
        } else {
            Err(crate::errno::linux::ENOTSOCK)
        }
    }
    fn truncate(&mut self, fd: u32, size: u64) -> OsResult<()> {
        self.truncated = Some((fd, size));
        Ok(())
    }
    fn set_times(&mut self, _: u32, _: SetTime, _: SetTime) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn set_times_at(&mut self, _: u32, _: &CStr, _: bool, _: SetTime, _: SetTime) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn advise(&mut self, _: u32, _: u64, _: u64, _: i32) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn allocate(&mut self, _: u32, _: u64, _: u64) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn sync(&mut self, _: u32) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn datasync(&mut self, _: u32) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn close(&mut self, fd: u32) -> OsResult<()> {
        let n = self.open.len();
        self.open.retain(|&f| f != fd);
        if self.open.len() == n {
            Err(EBADF)
        } else {
            Ok(())
        }
    }
    fn renumber(&mut self, from: u32, to: u32) -> OsResult<()> {
        // dup2 + close: `to` need not be open.
        if !self.open.contains(&from) {
            return Err(EBADF);
        }
        self.renumbered = Some((from, to));
        for list in [&mut self.open, &mut self.files] {
            let had = list.contains(&from);
            list.retain(|&f| f != from && f != to);
            if had {
                list.push(to);
            }
        }
        for m in &mut self.modes {
            if m.0 == from {
                m.0 = to;
            }
        }
        Ok(())
    }
    fn open_at(&mut self, dir: u32, _: &CStr, how: &OpenHow) -> OsResult<u32> {
        use crate::os::oflag::{O_ACCMODE, O_DIRECTORY};
        if !self.open.contains(&dir) {
            return Err(EBADF);
        }
        let fd = (0..).find(|f| !self.open.contains(f)).unwrap();
        self.open.push(fd);
        self.files.retain(|&f| f != fd);
        if how.flags & O_DIRECTORY == 0 {
            self.files.push(fd);
        }
        self.modes.retain(|m| m.0 != fd);
        self.modes.push((fd, how.flags & O_ACCMODE));
        self.opened = Some(*how);
        Ok(fd)
    }
    fn mkdir_at(&mut self, _: u32, _: &CStr, _: u32) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn unlink_at(&mut self, _: u32, _: &CStr, _: bool) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn rename_at(&mut self, _: u32, _: &CStr, _: u32, _: &CStr) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn link_at(&mut self, _: u32, _: &CStr, _: u32, _: &CStr, _: bool) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn symlink_at(&mut self, _: &CStr, _: u32, _: &CStr) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn readlink_at(&mut self, _: u32, _: &CStr, _: &mut [u8]) -> OsResult<usize> {
        Err(ENOSYS)
    }
    fn read_dir(
        &mut self,
        _: u32,
        cookie: u64,
        sink: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> OsResult<()> {
        // Cookie i resumes at entry i (0 is the start).
        for (i, &(name, ino, d_type)) in self.entries.iter().enumerate().skip(cookie as usize) {
            let e = DirEntry {
                ino,
                d_type,
                name,
                next: i as u64 + 1,
            };
            if !sink(&e) {
                break;
            }
        }
        Ok(())
    }
    fn clock_time(&mut self, clock: i32) -> OsResult<Timespec> {
        match clock {
            1 => Ok(Timespec::from_nanos(self.mono)),
            0 => Ok(Timespec { sec: -1, nsec: 0 }),
            _ => Err(crate::errno::linux::EINVAL),
        }
    }
    fn clock_res(&mut self, _: i32) -> OsResult<Timespec> {
        Ok(Timespec { sec: 0, nsec: 1 })
    }
    fn random(&mut self, buf: &mut [u8]) -> OsResult<()> {
        buf.fill(0x5a);
        Ok(())
    }
    fn sched_yield(&mut self) {}
    fn poll(&mut self, fds: &mut [PollFd], timeout_ns: Option<u64>) -> OsResult<usize> {
        let mut n = 0;
        for p in fds.iter_mut() {
            p.revents = self.ready.iter().find(|r| r.0 == p.fd).map_or(0, |r| r.1);
            n += usize::from(p.revents != 0);
        }
        self.polled = Some((fds.to_vec(), timeout_ns));
        if n == 0 {
            self.mono += timeout_ns.unwrap_or(0);
        }
        Ok(n)
    }
    fn nread(&mut self, _: u32) -> OsResult<u64> {
        Ok(42)
    }
    fn accept(&mut self, fd: u32, _: bool) -> OsResult<u32> {
        if !self.sockets.contains(&fd) {
            return Err(crate::errno::linux::ENOTSOCK);
        }
        let new = (0..).find(|f| !self.open.contains(f)).unwrap();
        self.open.push(new);
        self.sockets.push(new);
        self.modes.push((new, crate::os::oflag::O_RDWR));
        Ok(new)
    }
    fn recv(&mut self, _: u32, _: &mut [&mut [u8]], _: i32) -> OsResult<(usize, i32)> {
        Err(ENOSYS)
    }
    fn send(&mut self, _: u32, bufs: &[&[u8]], _: i32) -> OsResult<usize> {
        Ok(bufs.iter().map(|b| b.len()).sum())
    }
    fn shutdown(&mut self, _: u32, _: i32) -> OsResult<()> {
        Err(ENOSYS)
    }
    fn raise(&mut self, _: i32) -> OsResult<()> {
        Ok(())
    }
}

/// Calls `name` with `args` on `os`, `mem` and `state`.
fn call(
    os: &mut Fake,
    mem: &mut [u8],
    state: &mut WasiState,
    name: &str,
    args: &[u64],
) -> Result<Errno, Exit> {
    let f = lookup::<Fake>(crate::MODULE, name).unwrap();
    assert_eq!(f.params.len(), args.len(), "{name} arity");
    let mut cx = Ctx { os, mem, state };
    f.call(&mut cx, args)
}

fn u32_at(m: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(m[at..at + 4].try_into().unwrap())
}

fn rd64(m: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(m[at..at + 8].try_into().unwrap())
}

#[test]
fn table_has_every_preview1_function_once_with_errno_results() {
    let all = functions::<Fake>();
    assert_eq!(all.len(), 46);
    for (i, f) in all.iter().enumerate() {
        assert!(
            all[i + 1..].iter().all(|g| g.name != f.name),
            "{} twice",
            f.name
        );
        let want: &[kwasm_abi::ValType] = if f.name == "proc_exit" {
            &[]
        } else {
            &[kwasm_abi::ValType::I32]
        };
        assert_eq!(f.results, want, "{}", f.name);
        assert!(lookup::<Fake>(crate::MODULE, f.name).is_some());
    }
    assert!(lookup::<Fake>("wasi_unstable", "fd_write").is_none());
    assert!(lookup::<Fake>(crate::MODULE, "fd_nonsense").is_none());
}

#[test]
fn random_argument_slots_never_panic() {
    // A cheap xorshift: every function, random slots, small memory.
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Bias toward small values so pointers often land in memory.
        match x % 4 {
            0 => x % 64,
            1 => x % 70_000,
            2 => x as u32 as u64,
            _ => x,
        }
    };
    for f in functions::<Fake>() {
        if f.name == "proc_exit" {
            continue; // it only exits
        }
        for _ in 0..500 {
            let mut os = Fake {
                entries: vec![(b"a", 1, 8), (b"bb", 2, 4)],
                open: vec![0, 1, 3],
                ..Fake::default()
            };
            // Small words at the start, so iovec and subscription arrays
            // there point back into memory.
            let mut mem = vec![0u8; 65536];
            for w in mem[..4096].chunks_exact_mut(4) {
                w.copy_from_slice(&((next() % 70_000) as u32).to_le_bytes());
            }
            let mut state = WasiState::new(
                Strings::from_list([&b"prog"[..]]).unwrap(),
                Strings::default(),
            );
            state.add_preopen(3, b"/").unwrap();
            let args: Vec<u64> = (0..f.params.len()).map(|_| next()).collect();
            let mut cx = Ctx {
                os: &mut os,
                mem: &mut mem,
                state: &mut state,
            };
            let _ = f.call(&mut cx, &args);
        }
    }
}

#[test]
fn readdir_truncates_the_last_entry_and_resumes_by_cookie() {
    let mut os = Fake {
        entries: vec![(b"one", 11, 8), (b"three", 33, 4), (b"x", 44, 10)],
        open: vec![5],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 1024];
    // Room for entry 1 (24 + 3) and 10 bytes of entry 2's header.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_readdir",
        &[5, 100, 37, 0, 8],
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!(u32_at(&mem, 8), 37, "buffer full");
    assert_eq!(u64::from_le_bytes(mem[100..108].try_into().unwrap()), 1);
    assert_eq!(u64::from_le_bytes(mem[108..116].try_into().unwrap()), 11);
    assert_eq!(u32_at(&mem, 116), 3);
    assert_eq!(mem[120], crate::types::filetype::REGULAR_FILE);
    assert_eq!(&mem[124..127], b"one");
    assert_eq!(u64::from_le_bytes(mem[127..135].try_into().unwrap()), 2);
    assert_eq!(mem[137], 0, "nothing past the buffer");
    // Resume after the first entry with a large buffer: the rest, not full.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_readdir",
        &[5, 200, 400, 1, 8],
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!(u32_at(&mem, 8), 24 + 5 + 24 + 1);
    assert_eq!(&mem[224..229], b"three");
    assert_eq!(mem[220], crate::types::filetype::DIRECTORY);
    assert_eq!(mem[229 + 20], crate::types::filetype::SYMBOLIC_LINK);
    assert_eq!(mem[229 + 24], b'x');
    // Past the end: nothing.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_readdir",
        &[5, 200, 400, 3, 8],
    );
    assert_eq!((r, u32_at(&mem, 8)), (Ok(Errno::SUCCESS), 0));
    // A buffer past the end of memory is FAULT; a misaligned result INVAL.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_readdir",
        &[5, 1000, 100, 0, 8],
    );
    assert_eq!(r, Ok(Errno::FAULT));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_readdir",
        &[5, 100, 10, 0, 9],
    );
    assert_eq!(r, Ok(Errno::INVAL));
}

/// Writes subscriptions at 0 in `mem`.
fn put_subs(mem: &mut [u8], subs: &[Subscription]) {
    for (i, s) in subs.iter().enumerate() {
        mem[i * 48..i * 48 + 48].copy_from_slice(&s.encode());
    }
}

#[test]
fn poll_waits_for_the_earliest_clock_and_reports_it() {
    let mut os = Fake {
        mono: 1_000,
        ..Fake::with_files(&[4])
    };
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 1024];
    let clock = |ud, id, timeout, flags| Subscription {
        userdata: ud,
        kind: SubscriptionKind::Clock {
            id,
            timeout,
            precision: 0,
            flags,
        },
    };
    put_subs(
        &mut mem,
        &[
            clock(1, 1, 5_000, 0),
            clock(2, 1, 3_000, 1), // absolute: 2_000 from now
            Subscription {
                userdata: 3,
                kind: SubscriptionKind::FdRead(4),
            },
        ],
    );
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 512, 3, 1000],
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    let (fds, timeout) = os.polled.clone().unwrap();
    assert_eq!(timeout, Some(2_000));
    assert_eq!(fds.len(), 1);
    assert_eq!((fds[0].fd, fds[0].events), (4, crate::os::poll::POLLIN));
    assert_eq!(u32_at(&mem, 1000), 1);
    let e = Event::decode(mem[512..544].try_into().unwrap());
    assert_eq!(
        (e.userdata, e.ty, e.error),
        (2, crate::types::eventtype::CLOCK, 0)
    );
}

#[test]
fn poll_events_overwriting_the_subscriptions_change_nothing() {
    // Two fd subscriptions that fail at once (fd 9 is not open), with the
    // events array starting at subscription 1: event 0 overwrites it
    // (its tag byte becomes the event's errno). Both are decoded before
    // any event is written, as the guest passed them.
    let mut os = Fake::with_files(&[]);
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 1024];
    let fd_read = |ud| Subscription {
        userdata: ud,
        kind: SubscriptionKind::FdRead(9),
    };
    put_subs(&mut mem, &[fd_read(11), fd_read(12)]);
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 48, 2, 1000],
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!(u32_at(&mem, 1000), 2);
    for (i, want) in [11, 12].into_iter().enumerate() {
        let at = 48 + i * 32;
        let e = Event::decode(mem[at..at + 32].try_into().unwrap());
        assert_eq!(
            (e.userdata, e.ty, e.error),
            (want, crate::types::eventtype::FD_READ, Errno::BADF.0),
            "event {i}"
        );
    }
}

#[test]
fn poll_with_more_subscriptions_than_any_fd_table_is_inval_before_allocating() {
    let mut os = Fake::with_files(&[]);
    let mut state = WasiState::default();
    // Big enough that the arrays pass the guest bounds check: the cap, not
    // the memory size, must refuse it.
    let n = crate::funcs::poll::MAX_SUBSCRIPTIONS + 1;
    let mut mem = vec![0u8; n as usize * (48 + 32) + 64];
    let events = u64::from(n) * 48;
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, events, u64::from(n), events + u64::from(n) * 32],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    assert!(os.polled.is_none(), "the OS was asked to poll");
}

#[test]
fn poll_reports_ready_fds_with_nbytes_hangup_and_bad_fds() {
    use crate::os::poll::{POLLHUP, POLLIN, POLLNVAL, POLLOUT};
    // fd 6 is open here but the poll says POLLNVAL (as if closed meanwhile).
    let mut os = Fake {
        ready: vec![(4, POLLIN), (5, POLLOUT | POLLHUP), (6, POLLNVAL)],
        ..Fake::with_files(&[4, 5, 6, 7])
    };
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 1024];
    put_subs(
        &mut mem,
        &[
            Subscription {
                userdata: 10,
                kind: SubscriptionKind::FdRead(4),
            },
            Subscription {
                userdata: 11,
                kind: SubscriptionKind::FdWrite(5),
            },
            Subscription {
                userdata: 12,
                kind: SubscriptionKind::FdRead(6),
            },
            Subscription {
                userdata: 13,
                kind: SubscriptionKind::FdRead(7),
            },
        ],
    );
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 256, 4, 1000],
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!(os.polled.as_ref().unwrap().1, None, "no clock: no timeout");
    assert_eq!(u32_at(&mem, 1000), 3);
    let e: Vec<Event> = (0..3)
        .map(|i| Event::decode(mem[256 + 32 * i..288 + 32 * i].try_into().unwrap()))
        .collect();
    assert_eq!(
        (e[0].userdata, e[0].ty, e[0].nbytes, e[0].flags),
        (10, 1, 42, 0)
    );
    assert_eq!((e[1].userdata, e[1].ty, e[1].flags), (11, 2, 1));
    assert_eq!((e[2].userdata, e[2].error), (12, Errno::BADF.0));
}

#[test]
fn poll_rejects_empty_bad_tags_and_cpu_clocks_and_checks_arrays() {
    let mut os = Fake::default();
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 1024];
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 512, 0, 1000],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    mem[8] = 7;
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 512, 1, 1000],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    put_subs(
        &mut mem,
        &[Subscription {
            userdata: 0,
            kind: SubscriptionKind::Clock {
                id: 2,
                timeout: 1,
                precision: 0,
                flags: 0,
            },
        }],
    );
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 512, 1, 1000],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    // Events array running off the end of memory, misaligned subscriptions.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 1000, 1, 100],
    );
    assert_eq!(r, Ok(Errno::FAULT));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[4, 512, 1, 1000],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    assert!(os.polled.is_none(), "nothing waited");
}

#[test]
fn args_and_environ_layouts() {
    let mut os = Fake::default();
    let mut state = WasiState::new(
        Strings::from_list([&b"prog"[..], b"x y"]).unwrap(),
        Strings::from_list([&b"A=1"[..]]).unwrap(),
    );
    let mut mem = vec![0u8; 256];
    let r = call(&mut os, &mut mem, &mut state, "args_sizes_get", &[0, 4]);
    assert_eq!(
        (r, u32_at(&mem, 0), u32_at(&mem, 4)),
        (Ok(Errno::SUCCESS), 2, 9)
    );
    let r = call(&mut os, &mut mem, &mut state, "args_get", &[16, 100]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!((u32_at(&mem, 16), u32_at(&mem, 20)), (100, 105));
    assert_eq!(&mem[100..109], b"prog\0x y\0");
    let r = call(&mut os, &mut mem, &mut state, "environ_get", &[32, 200]);
    assert_eq!((r, u32_at(&mem, 32)), (Ok(Errno::SUCCESS), 200));
    assert_eq!(&mem[200..204], b"A=1\0");
    // The string buffer must fit entirely; pointers must be aligned.
    let r = call(&mut os, &mut mem, &mut state, "args_get", &[16, 250]);
    assert_eq!(r, Ok(Errno::FAULT));
    let r = call(&mut os, &mut mem, &mut state, "args_get", &[17, 100]);
    assert_eq!(r, Ok(Errno::INVAL));
}

#[test]
fn clocks_convert_and_refuse_times_before_1970() {
    let mut os = Fake {
        mono: 5_000_000_123,
        ..Fake::default()
    };
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 64];
    let r = call(&mut os, &mut mem, &mut state, "clock_time_get", &[1, 0, 8]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!(
        u64::from_le_bytes(mem[8..16].try_into().unwrap()),
        5_000_000_123
    );
    let r = call(&mut os, &mut mem, &mut state, "clock_time_get", &[0, 0, 8]);
    assert_eq!(r, Ok(Errno::OVERFLOW));
    let r = call(&mut os, &mut mem, &mut state, "clock_time_get", &[4, 0, 8]);
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(&mut os, &mut mem, &mut state, "clock_res_get", &[1, 64]);
    assert_eq!(r, Ok(Errno::FAULT));
}

#[test]
fn read_scatters_into_iovecs_and_write_gathers() {
    let mut os = Fake::with_files(&[0, 1]);
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 256];
    for (i, (p, n)) in [(100u32, 3u32), (200, 2)].iter().enumerate() {
        mem[8 * i..8 * i + 4].copy_from_slice(&p.to_le_bytes());
        mem[8 * i + 4..8 * i + 8].copy_from_slice(&n.to_le_bytes());
    }
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[0, 0, 2, 16]);
    assert_eq!((r, u32_at(&mem, 16)), (Ok(Errno::SUCCESS), 5));
    assert_eq!(
        (&mem[100..104], &mem[200..203]),
        (&b"rrr\0"[..], &b"rr\0"[..])
    );
    let r = call(&mut os, &mut mem, &mut state, "fd_write", &[1, 0, 2, 16]);
    assert_eq!((r, u32_at(&mem, 16)), (Ok(Errno::SUCCESS), 5));
    // The result pointer is checked before anything is read.
    mem[100] = 0;
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[0, 0, 2, 256]);
    assert_eq!((r, mem[100]), (Ok(Errno::FAULT), 0));
}

#[test]
fn close_and_renumber_keep_preopens_and_prestat_consistent() {
    let mut os = Fake {
        open: vec![3, 5, 9],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b"/data").unwrap();
    let mut mem = vec![0u8; 64];
    let r = call(&mut os, &mut mem, &mut state, "fd_prestat_get", &[3, 8]);
    assert_eq!((r, mem[8], u32_at(&mem, 12)), (Ok(Errno::SUCCESS), 0, 5));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_prestat_dir_name",
        &[3, 32, 4],
    );
    assert_eq!(r, Ok(Errno::NAMETOOLONG));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_prestat_dir_name",
        &[3, 32, 5],
    );
    assert_eq!((r, &mem[32..37]), (Ok(Errno::SUCCESS), &b"/data"[..]));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_prestat_dir_name",
        &[5, 32, 5],
    );
    assert_eq!(r, Ok(Errno::NOTDIR));
    let r = call(&mut os, &mut mem, &mut state, "fd_prestat_get", &[5, 8]);
    assert_eq!(r, Ok(Errno::BADF));
    let r = call(&mut os, &mut mem, &mut state, "fd_renumber", &[3, 9]);
    assert_eq!((r, os.renumbered), (Ok(Errno::SUCCESS), Some((3, 9))));
    assert_eq!(
        state.preopen(9).map(|p| p.path.as_slice()),
        Some(&b"/data"[..])
    );
    let r = call(&mut os, &mut mem, &mut state, "fd_close", &[5]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let r = call(&mut os, &mut mem, &mut state, "fd_close", &[5]);
    assert_eq!(r, Ok(Errno::BADF));
    let r = call(&mut os, &mut mem, &mut state, "fd_renumber", &[6, 6]);
    assert_eq!(r, Ok(Errno::BADF));
}

#[test]
fn fdstat_rights_follow_the_fd_and_can_only_be_lowered() {
    use crate::types::rights;
    let mut os = Fake {
        open: vec![1, 3, 4],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b"/").unwrap();
    let mut mem = vec![0u8; 64];
    // fd 1: a non-seekable character device (a tty to wasi-libc).
    let r = call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[1, 8]);
    assert_eq!((r, mem[8]), (Ok(Errno::SUCCESS), 2));
    assert_eq!(rd64(&mem, 16) & (rights::FD_SEEK | rights::FD_TELL), 0);
    assert_eq!(rd64(&mem, 16) & rights::FD_WRITE, 0, "opened read-only");
    assert_ne!(rd64(&mem, 16) & rights::FD_READ, 0);
    // A preopen: every directory right (at least what wasmtime reports,
    // and truncation beneath it), and everything to pass on.
    let r = call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[3, 8]);
    assert_eq!(
        (r, rd64(&mem, 16), rd64(&mem, 24)),
        (Ok(Errno::SUCCESS), rights::DIRECTORY, rights::ALL)
    );
    assert_eq!(
        rights::DIRECTORY & rights::PREOPEN_BASE,
        rights::PREOPEN_BASE
    );
    assert_ne!(rd64(&mem, 16) & rights::PATH_FILESTAT_SET_SIZE, 0);
    // A read-only directory still lets files beneath it be written.
    let r = call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[4, 8]);
    assert_eq!((r, rd64(&mem, 24)), (Ok(Errno::SUCCESS), rights::ALL));
    let lower = [4, rights::FD_READDIR | rights::PATH_OPEN, 0];
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_fdstat_set_rights",
        &lower,
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[4, 8]).unwrap();
    assert_eq!(
        (rd64(&mem, 16), rd64(&mem, 24)),
        (rights::FD_READDIR | rights::PATH_OPEN, 0)
    );
    let raise = [4, rights::FD_READDIR | rights::PATH_CREATE_FILE, 0];
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_fdstat_set_rights",
        &raise,
    );
    assert_eq!(r, Ok(Errno::NOTCAPABLE));
    let r = call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[8, 8]);
    assert_eq!(r, Ok(Errno::BADF));
    let r = call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[4, 12]);
    assert_eq!(r, Ok(Errno::INVAL));
}

#[test]
fn paths_are_validated_before_the_os_sees_them() {
    let mut os = Fake::default();
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 64];
    mem[0..3].copy_from_slice(b"a\xffb");
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_create_directory",
        &[3, 0, 3],
    );
    assert_eq!(r, Ok(Errno::ILSEQ));
    mem[0..3].copy_from_slice(b"a\0b");
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_unlink_file",
        &[3, 0, 3],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_unlink_file",
        &[3, 60, 5],
    );
    assert_eq!(r, Ok(Errno::FAULT));
    mem[0..4].copy_from_slice(b"/etc");
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_symlink",
        &[0, 4, 3, 10, 1],
    );
    assert_eq!(r, Ok(Errno::PERM));
    // Flags with undefined bits.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_open",
        &[3, 2, 0, 1, 0, 0, 0, 0, 40],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_open",
        &[3, 0, 0, 1, 16, 0, 0, 0, 40],
    );
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_open",
        &[3, 0, 0, 1, 0, 1 << 30, 0, 0, 40],
    );
    assert_eq!(r, Ok(Errno::INVAL));
}

#[test]
fn exit_raise_yield_random_and_sock_argument_checks() {
    let mut os = Fake {
        open: vec![3],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 64];
    let r = call(&mut os, &mut mem, &mut state, "proc_exit", &[300]);
    assert_eq!(r, Err(Exit(300)));
    let r = call(&mut os, &mut mem, &mut state, "proc_raise", &[31]);
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(&mut os, &mut mem, &mut state, "proc_raise", &[15]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let r = call(&mut os, &mut mem, &mut state, "sched_yield", &[]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let r = call(&mut os, &mut mem, &mut state, "random_get", &[8, 16]);
    assert_eq!(
        (r, mem[8], mem[23], mem[24]),
        (Ok(Errno::SUCCESS), 0x5a, 0x5a, 0)
    );
    let r = call(&mut os, &mut mem, &mut state, "random_get", &[60, 5]);
    assert_eq!(r, Ok(Errno::FAULT));
    let r = call(&mut os, &mut mem, &mut state, "sock_accept", &[3, 1, 0]);
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(&mut os, &mut mem, &mut state, "sock_accept", &[3, 4, 0]);
    assert_eq!(r, Ok(Errno::NOTSOCK));
    let r = call(&mut os, &mut mem, &mut state, "sock_send", &[3, 0, 0, 1, 0]);
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(&mut os, &mut mem, &mut state, "sock_shutdown", &[3, 0]);
    assert_eq!(r, Ok(Errno::INVAL));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "sock_recv",
        &[3, 0, 0, 4, 0, 4],
    );
    assert_eq!(r, Ok(Errno::INVAL));
}

/// Memory for the rights tests: the path "f" at 0, an iovec at 16 (4 bytes
/// at 100), fdstat at 32, result words at 64 and 72.
fn rights_mem() -> Vec<u8> {
    let mut mem = vec![0u8; 256];
    mem[0] = b'f';
    mem[16..20].copy_from_slice(&100u32.to_le_bytes());
    mem[20..24].copy_from_slice(&4u32.to_le_bytes());
    mem
}

/// The (base, inheriting) rights `fd_fdstat_get` reports, or its error.
fn fd_rights(os: &mut Fake, mem: &mut [u8], state: &mut WasiState, fd: u32) -> (u64, u64) {
    let r = call(os, mem, state, "fd_fdstat_get", &[fd.into(), 32]);
    assert_eq!(r, Ok(Errno::SUCCESS), "fd_fdstat_get({fd})");
    (rd64(mem, 40), rd64(mem, 48))
}

fn set_rights(os: &mut Fake, mem: &mut [u8], state: &mut WasiState, fd: u32, b: u64, i: u64) {
    let r = call(os, mem, state, "fd_fdstat_set_rights", &[fd.into(), b, i]);
    assert_eq!(r, Ok(Errno::SUCCESS), "fd_fdstat_set_rights({fd})");
}

/// `path_open(dir, "f", oflags, base, inheriting)`: the new fd or the error.
fn open_f(
    os: &mut Fake,
    mem: &mut [u8],
    state: &mut WasiState,
    dir: u32,
    oflags: u64,
    base: u64,
    inheriting: u64,
) -> Result<u32, Errno> {
    let args = [dir.into(), 0, 0, 1, oflags, base, inheriting, 0, 64];
    match call(os, mem, state, "path_open", &args) {
        Ok(Errno::SUCCESS) => Ok(u32_at(mem, 64)),
        Ok(e) => Err(e),
        Err(x) => panic!("path_open exited: {x:?}"),
    }
}

/// The errno of a one-iovec fd_read, fd_pread, fd_write and fd_pwrite.
fn rw_errnos(os: &mut Fake, mem: &mut [u8], state: &mut WasiState, fd: u32) -> [Errno; 4] {
    let fd = u64::from(fd);
    [
        call(os, mem, state, "fd_read", &[fd, 16, 1, 64]),
        call(os, mem, state, "fd_pread", &[fd, 16, 1, 0, 64]),
        call(os, mem, state, "fd_write", &[fd, 16, 1, 64]),
        call(os, mem, state, "fd_pwrite", &[fd, 16, 1, 0, 64]),
    ]
    .map(|r| r.unwrap())
}

#[test]
fn fd_read_without_read_right_is_notcapable() {
    use crate::types::rights;
    let mut os = Fake::with_files(&[5]);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[5, 16, 1, 64]);
    assert_eq!((r, u32_at(&mem, 64)), (Ok(Errno::SUCCESS), 4));
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 5);
    set_rights(
        &mut os,
        &mut mem,
        &mut state,
        5,
        base & !rights::FD_READ,
        inh,
    );
    mem[100] = 0;
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[5, 16, 1, 64]);
    assert_eq!((r, mem[100]), (Ok(Errno::NOTCAPABLE), 0), "nothing read");
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_pread",
        &[5, 16, 1, 0, 64],
    );
    assert_eq!(r, Ok(Errno::NOTCAPABLE));
    let r = call(&mut os, &mut mem, &mut state, "fd_write", &[5, 16, 1, 64]);
    assert_eq!(r, Ok(Errno::SUCCESS), "other rights stay");
    // fd_fdstat_get reports the reduced rights, and they stick.
    for _ in 0..3 {
        let (b, i) = fd_rights(&mut os, &mut mem, &mut state, 5);
        assert_eq!((b, i), (base & !rights::FD_READ, inh));
    }
}

#[test]
fn fd_fdstat_set_rights_can_only_drop_rights() {
    use crate::types::rights;
    let mut os = Fake::with_files(&[5]);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 5);
    let rw = rights::FD_READ | rights::FD_WRITE;
    set_rights(&mut os, &mut mem, &mut state, 5, base & !rw, inh & !rw);
    for (b, i) in [(base, inh & !rw), (base & !rw, inh), (base | rw, inh | rw)] {
        let r = call(
            &mut os,
            &mut mem,
            &mut state,
            "fd_fdstat_set_rights",
            &[5, b, i],
        );
        assert_eq!(r, Ok(Errno::NOTCAPABLE), "adding rights");
    }
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_fdstat_set_rights",
        &[5, 1 << 30, 0],
    );
    assert_eq!(r, Ok(Errno::INVAL), "undefined bits");
    assert_eq!(
        fd_rights(&mut os, &mut mem, &mut state, 5),
        (base & !rw, inh & !rw)
    );
    assert_eq!(
        rw_errnos(&mut os, &mut mem, &mut state, 5),
        [Errno::NOTCAPABLE; 4]
    );
    // Dropping everything leaves an fd that can still be closed.
    set_rights(&mut os, &mut mem, &mut state, 5, 0, 0);
    let r = call(&mut os, &mut mem, &mut state, "fd_close", &[5]);
    assert_eq!(r, Ok(Errno::SUCCESS));
}

#[test]
fn dropped_rights_move_with_fd_renumber_and_end_with_fd_close() {
    use crate::types::rights;
    let mut os = Fake::with_files(&[5, 6]);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 5);
    set_rights(
        &mut os,
        &mut mem,
        &mut state,
        5,
        base & !rights::FD_READ,
        inh,
    );
    let r = call(&mut os, &mut mem, &mut state, "fd_renumber", &[5, 6]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[6, 16, 1, 64]);
    assert_eq!(r, Ok(Errno::NOTCAPABLE), "the rights moved to 6");
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[5, 16, 1, 64]);
    assert_eq!(r, Ok(Errno::BADF), "5 is closed");
    let r = call(&mut os, &mut mem, &mut state, "fd_close", &[6]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    // A new file at 6 has all of its rights.
    os.open.push(6);
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[6, 16, 1, 64]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    assert_eq!(fd_rights(&mut os, &mut mem, &mut state, 6), (base, inh));
}

#[test]
fn fd_renumber_to_closed_fd_is_badf() {
    let mut os = Fake::with_files(&[5]);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let r = call(&mut os, &mut mem, &mut state, "fd_renumber", &[5, 7]);
    assert_eq!((r, os.renumbered), (Ok(Errno::BADF), None));
    let r = call(&mut os, &mut mem, &mut state, "fd_read", &[5, 16, 1, 64]);
    assert_eq!(r, Ok(Errno::SUCCESS), "5 is still open");
    let r = call(&mut os, &mut mem, &mut state, "fd_renumber", &[7, 5]);
    assert_eq!(r, Ok(Errno::BADF), "from a closed fd");
}

#[test]
fn fd_filestat_set_size_without_right_is_notcapable() {
    use crate::types::rights;
    let mut os = Fake::with_files(&[5, 6]);
    os.modes.retain(|m| m.0 != 6);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_filestat_set_size",
        &[5, 9],
    );
    assert_eq!((r, os.truncated), (Ok(Errno::SUCCESS), Some((5, 9))));
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 5);
    let drop = rights::FD_FILESTAT_SET_SIZE;
    set_rights(&mut os, &mut mem, &mut state, 5, base & !drop, inh);
    os.truncated = None;
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_filestat_set_size",
        &[5, 1],
    );
    assert_eq!((r, os.truncated), (Ok(Errno::NOTCAPABLE), None));
    // A read-only file cannot be truncated at all: INVAL, as ftruncate says.
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_filestat_set_size",
        &[6, 1],
    );
    assert_eq!((r, os.truncated), (Ok(Errno::INVAL), None));
}

#[test]
fn path_open_with_trunc_needs_path_filestat_set_size() {
    use crate::types::{oflags, rights};
    let mut os = Fake {
        open: vec![3],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b".").unwrap();
    let mut mem = rights_mem();
    let (t, c) = (oflags::TRUNC.into(), oflags::CREAT.into());
    let fd = open_f(&mut os, &mut mem, &mut state, 3, t, 0, 0).unwrap();
    call(&mut os, &mut mem, &mut state, "fd_close", &[fd.into()]).unwrap();
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 3);
    let drop = rights::PATH_FILESTAT_SET_SIZE | rights::PATH_CREATE_FILE;
    set_rights(&mut os, &mut mem, &mut state, 3, base & !drop, inh);
    os.opened = None;
    for of in [t, c, t | c] {
        let r = open_f(&mut os, &mut mem, &mut state, 3, of, 0, 0);
        assert_eq!((r, os.opened), (Err(Errno::NOTCAPABLE), None), "{of}");
    }
    assert!(open_f(&mut os, &mut mem, &mut state, 3, 0, 0, 0).is_ok());
    // Without PATH_OPEN, nothing opens.
    set_rights(&mut os, &mut mem, &mut state, 3, rights::FD_READDIR, inh);
    let r = open_f(&mut os, &mut mem, &mut state, 3, 0, 0, 0);
    assert_eq!(r, Err(Errno::NOTCAPABLE));
}

#[test]
fn path_open_gives_the_rights_asked_for_less_what_does_not_apply() {
    use crate::types::{filetype, oflags, rights};
    let mut os = Fake {
        open: vec![3],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b".").unwrap();
    let mut mem = rights_mem();
    // A directory asked to seek: opens, without FD_SEEK (wasi-testsuite's
    // directory_seek).
    let want = rights::FD_SEEK | rights::FD_READDIR | rights::PATH_OPEN;
    let inh = rights::FD_READ | rights::FD_SEEK;
    let d = open_f(
        &mut os,
        &mut mem,
        &mut state,
        3,
        oflags::DIRECTORY.into(),
        want,
        inh,
    );
    let d = d.unwrap();
    assert_eq!(
        fd_rights(&mut os, &mut mem, &mut state, d),
        (rights::FD_READDIR | rights::PATH_OPEN, inh)
    );
    assert_eq!(mem[32], filetype::DIRECTORY);
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_seek",
        &[d.into(), 0, 1, 64],
    );
    assert_eq!((r, os.seeks), (Ok(Errno::BADF), 0));
    // Beneath it, only what its inheriting rights allow.
    let f = open_f(&mut os, &mut mem, &mut state, d, 0, rights::FD_READ, 0).unwrap();
    assert_eq!(
        fd_rights(&mut os, &mut mem, &mut state, f),
        (rights::FD_READ, 0)
    );
    let r = open_f(&mut os, &mut mem, &mut state, d, 0, rights::FD_WRITE, 0);
    assert_eq!(r, Err(Errno::NOTCAPABLE), "FD_WRITE is not inherited");
    let r = open_f(&mut os, &mut mem, &mut state, d, 0, 0, rights::FD_TELL);
    assert_eq!(r, Err(Errno::NOTCAPABLE), "neither is FD_TELL");
    // A file: FD_SEEK implies telling; rights not asked for are missing;
    // rights its read-only open excludes fail as Linux would.
    let want = rights::FD_READ | rights::FD_SEEK;
    let f = open_f(&mut os, &mut mem, &mut state, 3, 0, want, 0).unwrap();
    assert_eq!(
        os.opened.map(|h| h.flags & crate::os::oflag::O_ACCMODE),
        Some(crate::os::oflag::O_RDONLY)
    );
    assert_eq!(fd_rights(&mut os, &mut mem, &mut state, f), (want, 0));
    let r = call(&mut os, &mut mem, &mut state, "fd_tell", &[f.into(), 64]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_filestat_get",
        &[f.into(), 64],
    );
    assert_eq!(r, Ok(Errno::NOTCAPABLE));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_write",
        &[f.into(), 16, 1, 64],
    );
    assert_eq!(r, Ok(Errno::BADF), "not open for writing");
}

#[test]
fn fd_seek_and_tell_need_their_rights() {
    use crate::types::rights;
    let mut os = Fake::with_files(&[5]);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    set_rights(&mut os, &mut mem, &mut state, 5, rights::FD_TELL, 0);
    let r = call(&mut os, &mut mem, &mut state, "fd_tell", &[5, 64]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let r = call(&mut os, &mut mem, &mut state, "fd_seek", &[5, 0, 1, 64]);
    assert_eq!(r, Ok(Errno::SUCCESS), "seek(0, CUR) only tells");
    for (off, whence) in [(1, 1), (0, 0), (0, 2)] {
        let r = call(
            &mut os,
            &mut mem,
            &mut state,
            "fd_seek",
            &[5, off, whence, 64],
        );
        assert_eq!(r, Ok(Errno::NOTCAPABLE));
    }
    assert_eq!(os.seeks, 0);
    set_rights(&mut os, &mut mem, &mut state, 5, 0, 0);
    let r = call(&mut os, &mut mem, &mut state, "fd_tell", &[5, 64]);
    assert_eq!(r, Ok(Errno::NOTCAPABLE));
}

#[test]
fn directory_fds_cannot_read_write_or_seek() {
    use crate::types::rights;
    let mut os = Fake {
        open: vec![3],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b".").unwrap();
    let mut mem = rights_mem();
    let (base, _) = fd_rights(&mut os, &mut mem, &mut state, 3);
    let file_only = rights::FD_READ
        | rights::FD_WRITE
        | rights::FD_SEEK
        | rights::FD_TELL
        | rights::FD_ALLOCATE
        | rights::FD_FILESTAT_SET_SIZE;
    assert_eq!(base & file_only, 0);
    // BADF as in wasmtime; wasi-testsuite's dir_fd_op_failures accepts it.
    assert_eq!(
        rw_errnos(&mut os, &mut mem, &mut state, 3),
        [Errno::BADF; 4]
    );
    for (name, args) in [
        ("fd_seek", &[3, 0, 1, 64][..]),
        ("fd_seek", &[3, 0, 0, 64]),
        ("fd_seek", &[3, 0, 2, 64]),
        ("fd_tell", &[3, 64]),
        ("fd_allocate", &[3, 0, 1]),
        ("fd_filestat_set_size", &[3, 0]),
    ] {
        let r = call(&mut os, &mut mem, &mut state, name, args);
        assert_eq!(r, Ok(Errno::BADF), "{name}");
    }
    assert_eq!((os.seeks, os.truncated), (0, None));
}

#[test]
fn calls_on_the_wrong_kind_of_fd_fail_as_on_linux() {
    use crate::types::rights;
    let mut os = Fake::with_files(&[5, 6]);
    os.modes.retain(|m| m.0 != 6);
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let r = open_f(&mut os, &mut mem, &mut state, 5, 0, 0, 0);
    assert_eq!(r, Err(Errno::NOTDIR), "path_open beneath a file");
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "path_create_directory",
        &[5, 0, 1],
    );
    assert_eq!(r, Ok(Errno::NOTDIR));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "fd_readdir",
        &[5, 128, 64, 0, 64],
    );
    assert_eq!(r, Ok(Errno::NOTDIR));
    let r = call(&mut os, &mut mem, &mut state, "sock_shutdown", &[5, 2]);
    assert_eq!(r, Ok(Errno::NOTSOCK));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "sock_send",
        &[5, 16, 1, 0, 64],
    );
    assert_eq!(r, Ok(Errno::NOTSOCK));
    // Read-only: writing is BADF (as write(2)), reading works.
    let e = rw_errnos(&mut os, &mut mem, &mut state, 6);
    assert_eq!(e[2..], [Errno::BADF; 2]);
    assert_eq!(e[0], Errno::SUCCESS);
    // A dropped right that would otherwise apply is NOTCAPABLE.
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 5);
    set_rights(
        &mut os,
        &mut mem,
        &mut state,
        5,
        base & !rights::FD_WRITE,
        inh,
    );
    let e = rw_errnos(&mut os, &mut mem, &mut state, 5);
    assert_eq!(e[2..], [Errno::NOTCAPABLE; 2]);
}

#[test]
fn path_calls_need_their_rights_on_the_directory() {
    use crate::types::rights;
    let mut os = Fake {
        open: vec![3],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b".").unwrap();
    let mut mem = rights_mem();
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 3);
    // ENOSYS from the fake OS: the rights check passed.
    let calls: [(&str, &[u64], u64); 10] = [
        (
            "path_create_directory",
            &[3, 0, 1],
            rights::PATH_CREATE_DIRECTORY,
        ),
        (
            "path_filestat_get",
            &[3, 0, 0, 1, 64],
            rights::PATH_FILESTAT_GET,
        ),
        (
            "path_filestat_set_times",
            &[3, 0, 0, 1, 0, 0, 0],
            rights::PATH_FILESTAT_SET_TIMES,
        ),
        (
            "path_link",
            &[3, 0, 0, 1, 3, 0, 1],
            rights::PATH_LINK_SOURCE,
        ),
        (
            "path_link",
            &[3, 0, 0, 1, 3, 0, 1],
            rights::PATH_LINK_TARGET,
        ),
        (
            "path_readlink",
            &[3, 0, 1, 128, 8, 64],
            rights::PATH_READLINK,
        ),
        (
            "path_remove_directory",
            &[3, 0, 1],
            rights::PATH_REMOVE_DIRECTORY,
        ),
        (
            "path_rename",
            &[3, 0, 1, 3, 0, 1],
            rights::PATH_RENAME_TARGET,
        ),
        ("path_symlink", &[0, 1, 3, 0, 1], rights::PATH_SYMLINK),
        ("path_unlink_file", &[3, 0, 1], rights::PATH_UNLINK_FILE),
    ];
    for (name, args, right) in calls {
        let r = call(&mut os, &mut mem, &mut state, name, args);
        assert_eq!(r, Ok(Errno::NOSYS), "{name} with every right");
        set_rights(&mut os, &mut mem, &mut state, 3, base & !right, inh);
        let r = call(&mut os, &mut mem, &mut state, name, args);
        assert_eq!(r, Ok(Errno::NOTCAPABLE), "{name} without {right:#x}");
        // Put the right back: a fresh fd 3.
        call(&mut os, &mut mem, &mut state, "fd_close", &[3]).unwrap();
        os.open.push(3);
    }
}

#[test]
fn poll_subscription_without_its_rights_is_an_event_at_once() {
    use crate::os::poll::POLLIN;
    use crate::types::{eventtype, rights};
    let mut os = Fake {
        mono: 1_000,
        ready: vec![(5, POLLIN)],
        ..Fake::with_files(&[5, 6])
    };
    os.modes.retain(|m| m.0 != 6);
    let mut state = WasiState::default();
    let mut mem = vec![0u8; 1024];
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 5);
    set_rights(
        &mut os,
        &mut mem,
        &mut state,
        5,
        base & !rights::POLL_FD_READWRITE,
        inh,
    );
    put_subs(
        &mut mem,
        &[
            Subscription {
                userdata: 1,
                kind: SubscriptionKind::FdRead(5),
            },
            Subscription {
                userdata: 2,
                kind: SubscriptionKind::FdWrite(6),
            },
            Subscription {
                userdata: 3,
                kind: SubscriptionKind::Clock {
                    id: 1,
                    timeout: 5_000,
                    precision: 0,
                    flags: 0,
                },
            },
        ],
    );
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "poll_oneoff",
        &[0, 512, 3, 1000],
    );
    assert_eq!(r, Ok(Errno::SUCCESS));
    let (fds, timeout) = os.polled.clone().unwrap();
    assert_eq!((fds.len(), timeout), (0, Some(0)), "nothing waited for");
    assert_eq!(u32_at(&mem, 1000), 2, "the clock is not due");
    let e: Vec<Event> = (0..2)
        .map(|i| Event::decode(mem[512 + 32 * i..544 + 32 * i].try_into().unwrap()))
        .collect();
    assert_eq!(
        (e[0].userdata, e[0].ty, e[0].error),
        (1, eventtype::FD_READ, Errno::NOTCAPABLE.0)
    );
    assert_eq!(
        (e[1].userdata, e[1].ty, e[1].error),
        (2, eventtype::FD_WRITE, Errno::BADF.0),
        "read-only"
    );
}

#[test]
fn rights_table_holds_at_most_one_entry_per_open_fd() {
    let mut os = Fake {
        open: vec![0, 3],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    state.add_preopen(3, b".").unwrap();
    let mut mem = rights_mem();
    for _ in 0..100 {
        let fd = open_f(&mut os, &mut mem, &mut state, 3, 0, 0, 0).unwrap();
        call(&mut os, &mut mem, &mut state, "fd_fdstat_get", &[0, 32]).unwrap();
        let r = call(&mut os, &mut mem, &mut state, "fd_close", &[fd.into()]);
        assert_eq!(r, Ok(Errno::SUCCESS));
        assert!(state.fds.len() <= os.open.len());
    }
    // Calls on fds that are not open leave nothing behind.
    for fd in 10..20 {
        let r = call(&mut os, &mut mem, &mut state, "fd_read", &[fd, 16, 1, 64]);
        assert_eq!(r, Ok(Errno::BADF));
    }
    assert_eq!(state.fds.len(), 2, "fds 0 and 3");
}

#[test]
fn sock_accept_gives_the_listeners_inheriting_rights() {
    use crate::types::rights;
    let mut os = Fake {
        open: vec![7],
        sockets: vec![7],
        modes: vec![(7, crate::os::oflag::O_RDWR)],
        ..Fake::default()
    };
    let mut state = WasiState::default();
    let mut mem = rights_mem();
    let (base, inh) = fd_rights(&mut os, &mut mem, &mut state, 7);
    assert_eq!(mem[32], crate::types::filetype::SOCKET_STREAM);
    assert_eq!(base & rights::SOCK_ALL, rights::SOCK_ALL);
    assert_eq!(base & (rights::FD_SEEK | rights::FD_TELL), 0, "no seeking");
    set_rights(
        &mut os,
        &mut mem,
        &mut state,
        7,
        base,
        inh & !rights::FD_WRITE,
    );
    let r = call(&mut os, &mut mem, &mut state, "sock_accept", &[7, 0, 64]);
    assert_eq!(r, Ok(Errno::SUCCESS));
    let fd = u32_at(&mem, 64);
    assert_eq!(
        fd_rights(&mut os, &mut mem, &mut state, fd),
        (inh & !rights::FD_WRITE, inh & !rights::FD_WRITE)
    );
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "sock_send",
        &[fd.into(), 16, 1, 0, 64],
    );
    assert_eq!(r, Ok(Errno::NOTCAPABLE));
    let r = call(
        &mut os,
        &mut mem,
        &mut state,
        "sock_send",
        &[7, 16, 1, 0, 64],
    );
    assert_eq!(r, Ok(Errno::SUCCESS), "the listener keeps FD_WRITE");
    set_rights(
        &mut os,
        &mut mem,
        &mut state,
        7,
        base & !rights::SOCK_ACCEPT,
        0,
    );
    let r = call(&mut os, &mut mem, &mut state, "sock_accept", &[7, 0, 64]);
    assert_eq!(r, Ok(Errno::NOTCAPABLE));
}
