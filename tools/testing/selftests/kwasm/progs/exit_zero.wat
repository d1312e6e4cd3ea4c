;; SPDX-License-Identifier: GPL-2.0
;; Exits through proc_exit(0).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (i32.const 0))
    unreachable))
