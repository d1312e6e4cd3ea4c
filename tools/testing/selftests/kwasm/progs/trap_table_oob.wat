;; SPDX-License-Identifier: GPL-2.0
;; table.get past the end of a 4-element table (index read from memory).
(module
  (table 4 funcref)
  (memory (export "memory") 1)
  (data (i32.const 0) "\0a")
  (func (export "_start")
    (drop (table.get 0 (i32.load (i32.const 0))))))
