;; SPDX-License-Identifier: GPL-2.0
;; call_indirect through an empty table slot.
(module
  (type $t (func))
  (table 4 funcref)
  (memory (export "memory") 1)
  (func (export "_start")
    (call_indirect (type $t) (i32.const 2))))
