;; SPDX-License-Identifier: GPL-2.0
;; memory.grow up to the declared maximum (4 pages) and past it. Exits 0 if
;; every result is right, else with the number of the step that was wrong.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 4)
  (func $expect (param $got i32) (param $want i32) (param $step i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (call $exit (local.get $step)))))
  (func (export "_start")
    (call $expect (memory.grow (i32.const 1)) (i32.const 1) (i32.const 1))
    (call $expect (memory.grow (i32.const 2)) (i32.const 2) (i32.const 2))
    (call $expect (memory.grow (i32.const 1)) (i32.const -1) (i32.const 3))
    (call $expect (memory.size) (i32.const 4) (i32.const 4))
    ;; The new pages are zeroed and usable up to the last byte.
    (call $expect (i32.load (i32.const 262140)) (i32.const 0) (i32.const 5))
    (i32.store (i32.const 262140) (i32.const 7))
    (call $expect (i32.load (i32.const 262140)) (i32.const 7) (i32.const 6))
    (call $expect (memory.grow (i32.const 0)) (i32.const 4) (i32.const 7))
    (call $exit (i32.const 0))))
