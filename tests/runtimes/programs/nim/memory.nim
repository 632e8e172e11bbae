# Touches 600 MiB, one MiB at a time.
import strutils

var blocks: seq[string]
for i in 0 ..< 600:
  blocks.add(repeat(char(i mod 256), 1 shl 20))
echo "survived ", blocks.len
