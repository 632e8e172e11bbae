defmodule Flood do
  def loop do
    IO.write("y\n")
    loop()
  end
end

Flood.loop()
