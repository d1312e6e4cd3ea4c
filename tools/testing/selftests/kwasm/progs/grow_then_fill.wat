;; SPDX-License-Identifier: GPL-2.0
;; Grows its memory by 12000 pages (750 MiB) in one memory.grow, then fills
;; all of it with one memory.fill after another, forever. It writes "grow\n"
;; before the grow, "fill\n" after it and "." after every fill, so that a
;; test can kill it in the middle of either. Exits with 2 if the grow is
;; refused.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (data (i32.const 64) "grow\nfill\n.")
  ;; Writes len bytes at offset 64 + at to stdout (iovec at 0, count at 8).
  (func $say (param $at i32) (param $len i32)
    (i32.store (i32.const 0) (i32.add (i32.const 64) (local.get $at)))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start") (local $v i32)
    (call $say (i32.const 0) (i32.const 5))
    (if (i32.eq (memory.grow (i32.const 12000)) (i32.const -1))
      (then (call $exit (i32.const 2))))
    (call $say (i32.const 5) (i32.const 5))
    (loop $again
      ;; Leave the first page alone: it holds the strings and the iovec.
      (memory.fill (i32.const 65536) (local.get $v) (i32.const 786432000))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (call $say (i32.const 10) (i32.const 1))
      (br $again))))
