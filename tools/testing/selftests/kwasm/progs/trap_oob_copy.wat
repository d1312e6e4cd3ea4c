;; SPDX-License-Identifier: GPL-2.0
;; A 40-byte memory.copy whose last 4 bytes lie past the end of the
;; memory. Copies of up to 64 bytes are compiled inline with no bounds
;; check of their own: the store that crosses the end faults in the guard.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (memory.copy (i32.const 65500) (i32.const 0) (i32.const 40))))
