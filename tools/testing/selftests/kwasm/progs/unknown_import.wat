;; SPDX-License-Identifier: GPL-2.0
;; Imports a function no host provides: exec must fail with ENOEXEC.
(module
  (import "env" "no_such_function" (func $f))
  (memory (export "memory") 1)
  (func (export "_start") (call $f)))
