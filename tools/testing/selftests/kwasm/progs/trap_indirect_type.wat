;; SPDX-License-Identifier: GPL-2.0
;; call_indirect of a (func (param i32)) through the type (func).
(module
  (type $none (func))
  (table 1 funcref)
  (elem (i32.const 0) $takes_i32)
  (memory (export "memory") 1)
  (func $takes_i32 (param i32))
  (func (export "_start")
    (call_indirect (type $none) (i32.const 0))))
