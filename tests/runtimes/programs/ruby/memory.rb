# Touches 600 MiB, one MiB at a time.
blocks = Array.new(600) { |i| (i % 256).chr * (1 << 20) }
puts "survived #{blocks.size}"
