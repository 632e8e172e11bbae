# Checker of "print any permutation of 1..n": many answers are right.
from executioner_checker import Checker

check = Checker()
n = check.input.int()
seen = [check.output.int(1, n) for _ in range(n)]
check.output.end()
if len(set(seen)) != n:
    check.wrong(f"{n} numbers but not all different")
check.accept(f"a permutation of {n}")
