var n {.volatile.}: int = 0
while true:
  n = n + 1
