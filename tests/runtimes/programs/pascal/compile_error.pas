begin
  writeln(undeclared);
end.
