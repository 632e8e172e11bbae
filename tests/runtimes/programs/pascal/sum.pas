var a, b: Int64;
begin
  readln(a, b);
  writeln(a + b);
end.
