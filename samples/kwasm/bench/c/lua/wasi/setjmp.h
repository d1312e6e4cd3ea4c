/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wasi-libc has no setjmp.h (no setjmp without wasm exceptions), and
 * Lua's ldo.c includes it unconditionally. The build replaces Lua's
 * longjmp-based error handling on the command line (build.conf), so
 * nothing from this header is used.
 */
