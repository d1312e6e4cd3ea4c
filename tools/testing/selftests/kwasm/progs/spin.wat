;; SPDX-License-Identifier: GPL-2.0
;; Loops forever; only a signal ends it. The loop header is a safepoint.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l (br $l))))
