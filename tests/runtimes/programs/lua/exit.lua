print("partial")
os.exit(3)
