(loop (write-line "y"))
