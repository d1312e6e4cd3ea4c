;; SPDX-License-Identifier: GPL-2.0
;; branches.wat's functions run forever, so that kwasm_branch_test can
;; inspect the code the kernel placed for them (debugfs kwasm/images).
(module
  (type $t (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "branches\n")
  (table 3 funcref)
  (elem (i32.const 0) $add $mul_xor $sub_shl)
  (func $add (type $t) (i32.add (local.get 0) (local.get 1)))
  (func $mul_xor (type $t)
    (i32.xor (i32.mul (local.get 0) (i32.const 3)) (local.get 1)))
  (func $sub_shl (type $t)
    (i32.sub (local.get 0) (i32.shl (local.get 1) (i32.const 1))))
  (func $pick (param $i i32) (result i32)
    (block $d2
      (block $d1
        (block $d0
          (br_table
          0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0
          1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1
          2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2
          0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0
          1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1
          2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2
          0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0
          1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1
          2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2
          0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0 1 1 1 2 2 2 0 0 0
            2 (local.get $i)))
        (return (i32.const 0)))
      (return (i32.const 1)))
    (i32.const 2))
  (func (export "_start") (local $i i32) (local $acc i32)
    (loop $next
      (local.set $acc
        (call_indirect (type $t) (local.get $acc) (local.get $i)
          (call $pick (i32.rem_u (local.get $i) (i32.const 300)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
