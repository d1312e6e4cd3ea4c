;; SPDX-License-Identifier: GPL-2.0
;; Executes `unreachable` (a ud2 in compiled code).
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable))
