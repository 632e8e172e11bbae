-- Touches 600 MiB, one MiB at a time.
local blocks = {}
for i = 1, 600 do
  blocks[i] = string.rep(string.char(i % 256), 1 << 20)
end
print("survived")
