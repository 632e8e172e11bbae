while true do
  io.write("y\n")
end
