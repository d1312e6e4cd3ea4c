;; One table of 8,000,000 funcref elements: 64 MB of kernel memory charged
;; to the program's memory cgroup.
(module
  (table 8000000 funcref)
  (func (export "_start")))
