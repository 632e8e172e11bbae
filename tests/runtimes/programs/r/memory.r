# Touches 600 MiB, one MiB at a time.
blocks <- lapply(1:600, function(i) rep(as.raw(i %% 256), 1048576))
cat("survived", length(blocks), "\n")
