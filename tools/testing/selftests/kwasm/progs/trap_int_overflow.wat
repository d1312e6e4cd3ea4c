;; SPDX-License-Identifier: GPL-2.0
;; INT_MIN / -1, with the operands read from memory so nothing is folded.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\00\00\80\ff\ff\ff\ff")
  (func (export "_start")
    (drop (i32.div_s (i32.load (i32.const 0)) (i32.load (i32.const 4))))))
