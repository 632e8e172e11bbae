{ Touches 600 MiB, one MiB at a time. }
var i: Integer; p: Pointer;
begin
  for i := 1 to 600 do
  begin
    GetMem(p, 1 shl 20);
    FillChar(p^, 1 shl 20, i mod 256);
  end;
  writeln('survived');
end.
