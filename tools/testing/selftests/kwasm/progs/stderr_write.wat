;; SPDX-License-Identifier: GPL-2.0
;; Writes "to stderr\n" with fd_write on fd 2 and "to stdout\n" on fd 1.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "to stderr\n")
  (data (i32.const 200) "to stdout\n")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $write (i32.const 2) (i32.const 100) (i32.const 10))
    (call $write (i32.const 1) (i32.const 200) (i32.const 10))))
