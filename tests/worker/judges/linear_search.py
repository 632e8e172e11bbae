# Asks about every number in turn: right, but over the query limit of the guessing game.
n = int(input())
for x in range(1, n + 1):
    print("?", x, flush=True)
    if input() == "=":
        print("!", x, flush=True)
        break
