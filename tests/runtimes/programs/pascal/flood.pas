begin
  while true do writeln('y');
end.
