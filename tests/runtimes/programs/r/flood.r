repeat cat("y\n")
