;; SPDX-License-Identifier: GPL-2.0
;; Host calls while the kernel's allocations fail. Run with KWASM_DIRS=
;; /proc/thread-self and failslab/fail_page_alloc set to fail every
;; allocation of a task with make-it-fail (kwasm_failnth_test.c), it writes
;; 1 to its make-it-fail and makes:
;;  - an fd_write of 3 iovecs ("lists: "): kwasm's small allocations fall
;;    back to ones that cannot fail, so it must succeed;
;;  - an fd_write and an fd_read of 1024 iovecs and a poll_oneoff of 256
;;    subscriptions, whose lists take more than a page: each must fail with
;;    ENOMEM (48);
;;  - an fd_read of make-it-fail into one 128 KiB buffer: procfs's ->read
;;    takes only user buffers, and one over 64 KiB needs a user mapping of
;;    its own, which cannot be made: ENOMEM;
;; then writes 0 to make-it-fail, and the same long write ("large ok\n")
;; and poll must succeed, and an fd_pread of make-it-fail must read "0\n"
;; (99 if it read something else; procfs's ->read and ->write take only
;; user buffers). Last it prints each call's WASI errno:
;;   small=00 write=48 read=48 poll=48 bigread=48 reset=00 after=00 poll2=00 readback=00
;; Exit status 2: make-it-fail could not be opened or written.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread"
    (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))
  (memory (export "memory") 3)
  (data (i32.const 100) "lists: ")
  (data (i32.const 120) "large ok\n")
  (data (i32.const 140) "make-it-fail")
  (data (i32.const 160) "10")
  (data (i32.const 500) "small=00 write=00 read=00 poll=00 bigread=00 reset=00 after=00 poll2=00 readback=00\n")

  ;; Layout: 64: one iovec; 80: result words; 200: 3 iovecs; 4096: 1024
  ;; write iovecs; 12288: 1024 read iovecs into 60000; 20480: 256
  ;; subscriptions (48 bytes); 36864: 256 events (32 bytes); 65536: a
  ;; 128 KiB read buffer.

  ;; Two decimal digits of $v at $p.
  (func $put2 (param $p i32) (param $v i32)
    (i32.store8 (local.get $p)
      (i32.add (i32.const 48) (i32.div_u (local.get $v) (i32.const 10))))
    (i32.store8 offset=1 (local.get $p)
      (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10)))))

  ;; fd_write of $len bytes at $p to $fd, one iovec; exits 2 unless all went.
  (func $write1 (param $fd i32) (param $p i32) (param $len i32)
    (i32.store (i32.const 64) (local.get $p))
    (i32.store (i32.const 68) (local.get $len))
    (if (i32.or
          (call $fd_write (local.get $fd) (i32.const 64) (i32.const 1) (i32.const 80))
          (i32.ne (i32.load (i32.const 80)) (local.get $len)))
      (then (call $proc_exit (i32.const 2)))))

  ;; 1024 iovecs at $at: the first $n of 1 byte each from $p on, the rest empty.
  (func $iovecs (param $at i32) (param $p i32) (param $n i32)
    (local $i i32)
    (loop $next
      (i32.store (local.get $at) (i32.add (local.get $p) (local.get $i)))
      (i32.store offset=4 (local.get $at)
        (i32.lt_u (local.get $i) (local.get $n)))
      (local.set $at (i32.add (local.get $at) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 1024)))))

  ;; 256 subscriptions: even ones a clock that has expired, odd ones
  ;; fd_write on stdout.
  (func $subs
    (local $i i32)
    (local $p i32)
    (local.set $p (i32.const 20480))
    (loop $next
      (i64.store (local.get $p) (i64.extend_i32_u (local.get $i)))
      (if (i32.and (local.get $i) (i32.const 1))
        (then
          (i32.store8 offset=8 (local.get $p) (i32.const 2))
          (i32.store offset=16 (local.get $p) (i32.const 1)))
        (else
          (i32.store8 offset=8 (local.get $p) (i32.const 0))
          (i32.store offset=16 (local.get $p) (i32.const 1))
          (i64.store offset=24 (local.get $p) (i64.const 0))
          (i64.store offset=32 (local.get $p) (i64.const 0))
          (i32.store16 offset=40 (local.get $p) (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 48)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 256)))))

  (func $poll (result i32)
    (call $poll_oneoff (i32.const 20480) (i32.const 36864) (i32.const 256) (i32.const 80)))

  (func (export "_start")
    (local $dir i32)
    (local $fail i32)
    (local $err i32)
    ;; The preopen: the first fd from 3 on that fd_prestat_get knows.
    (local.set $dir (i32.const 3))
    (block $found
      (loop $next
        (br_if $found
          (i32.eqz (call $fd_prestat_get (local.get $dir) (i32.const 80))))
        (local.set $dir (i32.add (local.get $dir) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $dir) (i32.const 1024)))
        (call $proc_exit (i32.const 2))))
    ;; make-it-fail, for reading and writing (rights FD_READ | FD_SEEK | FD_WRITE).
    (if (call $path_open (local.get $dir) (i32.const 1) (i32.const 140) (i32.const 12)
          (i32.const 0) (i64.const 70) (i64.const 0) (i32.const 0) (i32.const 84))
      (then (call $proc_exit (i32.const 2))))
    (local.set $fail (i32.load (i32.const 84)))
    (call $iovecs (i32.const 4096) (i32.const 120) (i32.const 9))
    (call $iovecs (i32.const 12288) (i32.const 60000) (i32.const 2))
    (call $subs)

    (call $write1 (local.get $fail) (i32.const 160) (i32.const 1))
    ;; "lists: " from 3 iovecs.
    (i32.store (i32.const 200) (i32.const 100))
    (i32.store (i32.const 204) (i32.const 2))
    (i32.store (i32.const 208) (i32.const 102))
    (i32.store (i32.const 212) (i32.const 3))
    (i32.store (i32.const 216) (i32.const 105))
    (i32.store (i32.const 220) (i32.const 2))
    (call $put2 (i32.const 506)
      (call $fd_write (i32.const 1) (i32.const 200) (i32.const 3) (i32.const 80)))
    (call $put2 (i32.const 515)
      (call $fd_write (i32.const 1) (i32.const 4096) (i32.const 1024) (i32.const 80)))
    (call $put2 (i32.const 523)
      (call $fd_read (local.get $fail) (i32.const 12288) (i32.const 1024) (i32.const 80)))
    (call $put2 (i32.const 531) (call $poll))
    (i32.store (i32.const 64) (i32.const 65536))
    (i32.store (i32.const 68) (i32.const 131072))
    (call $put2 (i32.const 542)
      (call $fd_read (local.get $fail) (i32.const 64) (i32.const 1) (i32.const 80)))

    ;; make-it-fail back to 0: the same calls work again.
    (i32.store (i32.const 64) (i32.const 161))
    (i32.store (i32.const 68) (i32.const 1))
    (call $put2 (i32.const 551)
      (call $fd_write (local.get $fail) (i32.const 64) (i32.const 1) (i32.const 80)))
    (call $put2 (i32.const 560)
      (call $fd_write (i32.const 1) (i32.const 4096) (i32.const 1024) (i32.const 80)))
    (call $put2 (i32.const 569) (call $poll))
    (i32.store (i32.const 64) (i32.const 60000))
    (i32.store (i32.const 68) (i32.const 4))
    (local.set $err
      (call $fd_pread (local.get $fail) (i32.const 64) (i32.const 1) (i64.const 0) (i32.const 80)))
    (if (i32.eqz (local.get $err))
      (then (if (i32.or (i32.ne (i32.load (i32.const 80)) (i32.const 2))
                        (i32.ne (i32.load16_u (i32.const 60000)) (i32.const 0x0a30)))
        (then (local.set $err (i32.const 99))))))
    (call $put2 (i32.const 581) (local.get $err))
    (call $write1 (i32.const 1) (i32.const 500) (i32.const 84))))
