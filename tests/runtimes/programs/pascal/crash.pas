uses BaseUnix;
begin
  fpKill(fpGetPid, SIGABRT);
  fpSleep(10);
end.
