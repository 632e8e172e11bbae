;; Touches 600 MiB, one MiB at a time.
(defvar *blocks*
  (loop for i below 600
        collect (make-array 1048576 :element-type '(unsigned-byte 8) :initial-element (mod i 256))))
(format t "survived ~a~%" (length *blocks*))
