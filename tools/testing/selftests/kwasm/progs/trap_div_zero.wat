;; SPDX-License-Identifier: GPL-2.0
;; Divides by a zero the compiler cannot see (read from memory): #DE.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (i32.div_u (i32.const 7) (i32.load (i32.const 0))))))
