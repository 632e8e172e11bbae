#lang racket/base
(let loop () (write-string "y\n") (loop))
