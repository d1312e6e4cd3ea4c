;; SPDX-License-Identifier: GPL-2.0
;; _start returns normally after a loop (safepoints at its header): status 0.
(module
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))))
