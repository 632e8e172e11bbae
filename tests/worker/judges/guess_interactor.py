# Guessing game: the input holds n, the secret and the most queries allowed. The program gets n, asks
# "? x" (answered "<", ">" or "=") and ends with "! x".
from executioner_checker import Interactor

talk = Interactor()
n, secret, most = talk.input.int(), talk.input.int(), talk.input.int()
talk.send(n)
queries = 0
while True:
    said = talk.receive()
    kind = said.token()
    value = said.int(1, n)
    if kind == "!":
        if value != secret:
            talk.wrong(f"guessed {value}, the number was {secret}")
        talk.accept(f"found in {queries} queries")
    if kind != "?":
        talk.wrong(f"unknown request {kind!r}")
    queries += 1
    if queries > most:
        talk.wrong(f"more than {most} queries")
    talk.send("<" if secret < value else ">" if secret > value else "=")
