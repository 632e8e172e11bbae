print("partial")
raise SystemExit(3)
