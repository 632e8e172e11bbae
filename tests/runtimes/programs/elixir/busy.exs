defmodule Busy do
  def loop(n), do: loop(n + 1)
end

Busy.loop(0)
