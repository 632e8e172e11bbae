# Touches 600 MiB, one MiB at a time.
blocks = [bytearray([i % 256]) * (1 << 20) for i in range(600)]
print("survived", len(blocks))
