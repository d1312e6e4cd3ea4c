// SPDX-License-Identifier: GPL-2.0

//! WASI preview1 (`wasi_snapshot_preview1`) for kwasm, in one place.
//!
//! This crate holds everything about WASI that is not kernel work: argument
//! decoding, guest pointer and length checks against the current memory
//! size, iovecs, the struct layouts, flags and rights, and the errno
//! mapping. It is written against [`WasiOs`], a small set of operations on
//! the current process's real file descriptors that the kernel implements
//! with VFS and socket calls and the `std` feature's [`host::HostOs`]
//! implements with libc.
//!
//! A runtime:
//!
//! 1. builds a [`WasiState`] (arguments, environment, preopened directories
//!    at fds 3, 4, ...);
//! 2. resolves each import with [`lookup`] (module [`MODULE`]) and checks
//!    the signature against [`WasiFunc::params`]/[`WasiFunc::results`];
//! 3. on a call, builds a [`Ctx`] from its OS, the guest memory as a slice of
//!    exactly the current size, and the state, and calls [`WasiFunc::call`]
//!    with the argument slots; it writes the returned errno to result slot 0,
//!    or ends the program on [`Exit`].
//!
//! No guest input can make this crate panic: every access to guest memory
//! and every argument is checked, and allocations are fallible (`NOMEM`).

#![no_std]
#![cfg_attr(not(feature = "std"), forbid(unsafe_code))]
#![cfg_attr(feature = "std", deny(unsafe_code))]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod ctx;
pub mod errno;
mod funcs;
pub mod guest;
#[cfg(feature = "std")]
pub mod host;
pub mod layout;
pub mod net;
pub mod os;
mod rights;
mod small_list;
mod table;
pub mod types;

pub use ctx::{Ctx, Exit, Preopen, Strings, WasiState};
pub use errno::Errno;
pub use os::WasiOs;
pub use table::{functions, lookup, WasiFunc, MODULE};

#[cfg(test)]
mod tests;
