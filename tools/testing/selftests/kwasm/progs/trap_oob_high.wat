;; SPDX-License-Identifier: GPL-2.0
;; Stores at the top of the 32-bit address space with a large static offset:
;; beyond the 4 GiB reservation, into the guard (or past it, checked
;; explicitly by compiled code).
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (i64.store offset=0x7fffffff (i32.const -1) (i64.const 1))))
