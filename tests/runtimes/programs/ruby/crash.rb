Process.kill(:ABRT, Process.pid)
sleep
