(write-line "partial")
(finish-output)
(sb-ext:exit :code 3)
