#lang racket/base
;; Touches 600 MiB, one MiB at a time.
(define blocks (for/list ([i 600]) (make-bytes 1048576 (modulo i 256))))
(printf "survived ~a\n" (length blocks))
