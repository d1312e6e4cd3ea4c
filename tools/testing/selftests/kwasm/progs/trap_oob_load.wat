;; SPDX-License-Identifier: GPL-2.0
;; Loads one page past the end of a one-page memory: a fault on an unmapped
;; page of the reservation.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (i32.load (i32.const 65536)))))
