#lang racket/base
(require ffi/unsafe)
((get-ffi-obj "abort" #f (_fun -> _void)))
