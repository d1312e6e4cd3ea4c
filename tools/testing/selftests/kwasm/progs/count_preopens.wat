;; Exits with 10 + the first fd in 3..15 that is a preopened directory, or 0
;; if there is none: tells a test whether the program got preopens.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $prestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $fd i32)
    (local.set $fd (i32.const 3))
    (block $done
      (loop $next
        (if (i32.eqz (call $prestat (local.get $fd) (i32.const 0)))
          (then (call $exit (i32.add (i32.const 10) (local.get $fd)))))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $fd) (i32.const 16)))))
    (call $exit (i32.const 0))))
