low, high = 1, int(input())
while True:
    middle = (low + high) // 2
    print("?", middle, flush=True)
    reply = input()
    if reply == "=":
        print("!", middle, flush=True)
        break
    low, high = (low, middle - 1) if reply == "<" else (middle + 1, high)
