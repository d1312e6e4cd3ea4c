;; SPDX-License-Identifier: GPL-2.0
;;
;; Prints "random\n", then fills 64 MiB of its memory with random_get
;; over and over, printing "." after each fill: one host call that is
;; seconds of kernel work under emulation, for kwasm_hostile_test to kill
;; in the middle of.
(module
  (import "wasi_snapshot_preview1" "random_get"
    (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $write (param i32 i32 i32 i32) (result i32)))
  ;; 64 MiB from 64 KiB on, after the page of text and iovecs.
  (memory 1025)
  (data (i32.const 0) "random\n.")
  ;; Writes the one iovec at $iov to stdout.
  (func $print (param $iov i32)
    (drop (call $write (i32.const 1) (local.get $iov) (i32.const 1) (i32.const 32))))
  (func (export "_start")
    ;; iovec 16: "random\n"; iovec 24: ".".
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 7))
    (i32.store (i32.const 24) (i32.const 7))
    (i32.store (i32.const 28) (i32.const 1))
    (call $print (i32.const 16))
    (loop $fill
      (drop (call $random (i32.const 65536) (i32.const 67108864)))
      (call $print (i32.const 24))
      (br $fill))))
