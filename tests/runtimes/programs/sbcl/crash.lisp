;; SBCL handles SIGABRT and SIGSEGV itself (and exits 1): SIGKILL is what it cannot catch.
(require :sb-posix)
(sb-posix:kill (sb-posix:getpid) sb-posix:sigkill)
(sleep 10)
