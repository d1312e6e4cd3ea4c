;; SPDX-License-Identifier: GPL-2.0
;; A 33-byte memory.fill 3 bytes below 4 GiB: inline (up to 64 bytes), its
;; stores reach past the 4 GiB reservation into the guard.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (memory.fill (i32.const -3) (i32.const 1) (i32.const 33))))
