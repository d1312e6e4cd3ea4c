;; Declares 30000 pages (1.8 GiB) of initial linear memory: more than the
;; test VM can map. exec must fail with ENOMEM, cleanly.
(module
  (memory 30000)
  (func (export "_start")))
