:os.cmd(String.to_charlist("kill -ABRT #{System.pid()}"))
Process.sleep(10_000)
