// SPDX-License-Identifier: GPL-2.0

//! `poll_oneoff`: clock subscriptions become one ppoll timeout, fd
//! subscriptions become pollfds on the real fds.
//!
//! Every clock deadline is taken on the monotonic clock when the call
//! starts (a realtime absolute deadline is converted with the realtime
//! clock read at the same moment), so the wait is one ppoll with the
//! earliest deadline. Afterwards every clock subscription whose deadline
//! has passed fires, and every fd with returned events fires; a bad fd is
//! an event with error `BADF` (wasmtime fails the whole call instead).
//!
//! Subscribing to `FD_READ` (`FD_WRITE`) needs the rights `FD_READ`
//! (`FD_WRITE`) and `POLL_FD_READWRITE`; without them the subscription is
//! an event with that error at once, as is a bad fd.
//!
//! Up to [`POLL_INLINE`] subscriptions need no allocation: a server that
//! polls a few fds in its loop pays none per call.

use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::funcs::{os, Args, WasiResult};
use crate::guest::{ptr, Guest};
use crate::layout::{Event, Subscription, SubscriptionKind};
use crate::os::{poll, PollFd, WasiOs, POLL_INLINE};
use crate::rights::need;
use crate::small_list::SmallList;
use crate::types::{
    clockid, eventtype, rights, EVENT_FD_READWRITE_HANGUP, SUBSCRIPTION_CLOCK_ABSTIME,
};

/// Linux `CLOCK_MONOTONIC`.
const MONOTONIC: i32 = clockid::MONOTONIC as i32;

fn now<O: WasiOs + ?Sized>(os_: &mut O, clock: i32) -> Result<u64, Errno> {
    os(os_.clock_time(clock))?.to_nanos().ok_or(Errno::OVERFLOW)
}

/// Most subscriptions one call may have: Linux's `nr_open` default (1 << 20),
/// the most fds a poll(2) could ever name.
pub const MAX_SUBSCRIPTIONS: u32 = 1 << 20;

/// What a subscription waits for, decoded and checked.
#[derive(Clone, Copy)]
enum Wait {
    /// Fires at this monotonic time (ns).
    Clock(u64),
    /// Index into the pollfd array.
    Fd(usize),
    /// An fd subscription that fails with this error at once.
    Fail(Errno),
}

/// What the second pass needs of a subscription: the events it writes may
/// overlap the subscription array, so nothing is read from it again.
#[derive(Clone, Copy)]
struct Pending {
    userdata: u64,
    /// An `FD_READ` subscription (not `FD_WRITE` or a clock).
    read: bool,
    wait: Wait,
}

impl Default for Pending {
    /// Only a placeholder in a list not yet filled.
    fn default() -> Self {
        Pending {
            userdata: 0,
            read: false,
            wait: Wait::Fail(Errno::INVAL),
        }
    }
}

/// Subscription `i` of the array at `subs_ptr`, already bounds checked.
fn subscription(g: &Guest<'_>, subs_ptr: u32, i: usize) -> Result<Subscription, Errno> {
    let at = subs_ptr.wrapping_add((i * Subscription::SIZE) as u32);
    let bytes = g.bytes(at, Subscription::SIZE as u32)?;
    // A fixed-size copy (a few moves), not a slice copy (a memcpy call).
    let raw = <[u8; Subscription::SIZE]>::try_from(bytes).map_err(|_| Errno::FAULT)?;
    Subscription::decode(&raw)
}

/// `(in, out, nsubscriptions, ret)`.
pub(crate) fn poll_oneoff<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (subs_ptr, events_ptr, n) = (ptr(a.u64(0)), ptr(a.u64(1)), a.u32(2));
    let mut g = Guest::new(cx.mem);
    // Waiting for nothing would block forever; preview1 says INVAL. More
    // subscriptions than poll(2) takes fds (RLIMIT_NOFILE's hard ceiling)
    // would only make the kernel allocate for them.
    if n == 0 || n > MAX_SUBSCRIPTIONS {
        return Err(Errno::INVAL.into());
    }
    g.check_array(subs_ptr, n, Subscription::SIZE as u32, Subscription::ALIGN)?;
    g.check_array(events_ptr, n, Event::SIZE as u32, Event::ALIGN)?;
    let nevents = g.out_u32(ptr(a.u64(3)))?;

    let count = n as usize;
    let mut pending: SmallList<Pending, POLL_INLINE> = SmallList::new();
    pending.reserve(count)?;
    let mut fds: SmallList<PollFd, POLL_INLINE> = SmallList::new();
    let mut mono_now = None;
    let mut earliest: Option<u64> = None;
    let mut failed = false;
    for i in 0..count {
        let sub = subscription(&g, subs_ptr, i)?;
        let wait = match sub.kind {
            SubscriptionKind::Clock {
                id, timeout, flags, ..
            } => {
                if flags & !SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                    return Err(Errno::INVAL.into());
                }
                let start = match mono_now {
                    Some(t) => t,
                    None => *mono_now.insert(now(cx.os, MONOTONIC)?),
                };
                let abs = flags & SUBSCRIPTION_CLOCK_ABSTIME != 0;
                let rel = match (id, abs) {
                    (clockid::MONOTONIC | clockid::REALTIME, false) => timeout,
                    (clockid::MONOTONIC, true) => timeout.saturating_sub(start),
                    (clockid::REALTIME, true) => {
                        timeout.saturating_sub(now(cx.os, clockid::REALTIME as i32)?)
                    }
                    // Timers on CPU-time clocks are not offered (as in
                    // wasmtime).
                    _ => return Err(Errno::INVAL.into()),
                };
                let deadline = start.saturating_add(rel);
                earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
                Wait::Clock(deadline)
            }
            SubscriptionKind::FdRead(fd) | SubscriptionKind::FdWrite(fd) => {
                let (events, right) = if matches!(sub.kind, SubscriptionKind::FdRead(_)) {
                    (poll::POLLIN, rights::FD_READ)
                } else {
                    (poll::POLLOUT, rights::FD_WRITE)
                };
                match need(cx.os, cx.state, fd, right | rights::POLL_FD_READWRITE) {
                    Ok(_) => {
                        fds.push(PollFd {
                            fd,
                            events,
                            revents: 0,
                        })?;
                        Wait::Fd(fds.len() - 1)
                    }
                    Err(e) => {
                        failed = true;
                        Wait::Fail(e)
                    }
                }
            }
        };
        pending.push(Pending {
            userdata: sub.userdata,
            read: matches!(sub.kind, SubscriptionKind::FdRead(_)),
            wait,
        })?;
    }

    let timeout = match (earliest, mono_now) {
        // Failed subscriptions are events already: do not wait.
        _ if failed => Some(0),
        (Some(d), Some(t)) => Some(d.saturating_sub(t)),
        _ => None,
    };
    let ready = os(cx.os.poll(&mut fds, timeout))?;
    let after = match earliest {
        Some(_) => now(cx.os, MONOTONIC)?,
        None => 0,
    };

    let mut written = 0usize;
    for p in pending.iter() {
        let ev = match p.wait {
            Wait::Clock(deadline) => {
                // A timed-out poll means the earliest deadline passed even if
                // the clock read back is a hair early (not so when it did
                // not wait, for failed subscriptions).
                let due =
                    deadline <= after || (ready == 0 && !failed && Some(deadline) == earliest);
                if !due {
                    continue;
                }
                Event {
                    userdata: p.userdata,
                    ty: eventtype::CLOCK,
                    ..Event::default()
                }
            }
            Wait::Fail(e) => Event {
                userdata: p.userdata,
                ty: if p.read {
                    eventtype::FD_READ
                } else {
                    eventtype::FD_WRITE
                },
                error: e.0,
                ..Event::default()
            },
            Wait::Fd(i) => {
                let Some(pfd) = fds.get(i).copied() else {
                    continue;
                };
                if pfd.revents == 0 {
                    continue;
                }
                let read = p.read;
                let mut ev = Event {
                    userdata: p.userdata,
                    ty: if read {
                        eventtype::FD_READ
                    } else {
                        eventtype::FD_WRITE
                    },
                    ..Event::default()
                };
                if pfd.revents & poll::POLLNVAL != 0 {
                    ev.error = Errno::BADF.0;
                } else if pfd.revents & poll::POLLERR != 0 && pfd.revents & poll::POLLHUP == 0 {
                    ev.error = Errno::IO.0;
                } else {
                    if pfd.revents & poll::POLLHUP != 0 {
                        ev.flags = EVENT_FD_READWRITE_HANGUP;
                    }
                    // Bytes available to read; the writable amount is not
                    // knowable in general and stays 0.
                    if read {
                        ev.nbytes = cx.os.nread(pfd.fd).unwrap_or(0);
                    }
                }
                ev
            }
        };
        let out = g.out::<{ Event::SIZE }>(
            // Inside the array checked above.
            events_ptr.wrapping_add((written * Event::SIZE) as u32),
            Event::ALIGN,
        )?;
        g.put(out, ev.encode());
        written += 1;
    }
    g.put_u32(nevents, written as u32);
    Ok(())
}
