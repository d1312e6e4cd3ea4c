;; SPDX-License-Identifier: GPL-2.0
;; Grows an unbounded memory by 64 MiB (1024 pages), then by 4 MiB. Exits
;; with 10 + 1 for each grow that succeeded and 10 + 2 * that, so the test
;; can tell which were refused: 10 none, 11 the first only, 12 the second
;; only, 13 both.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $r i32)
    (local.set $r (i32.const 10))
    (if (i32.ne (memory.grow (i32.const 1024)) (i32.const -1))
      (then (local.set $r (i32.add (local.get $r) (i32.const 1)))))
    (if (i32.ne (memory.grow (i32.const 64)) (i32.const -1))
      (then (local.set $r (i32.add (local.get $r) (i32.const 2)))))
    (call $exit (local.get $r))))
