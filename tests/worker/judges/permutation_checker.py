# Checker of "print any permutation of 1..n on one line": many answers are right.
import sys

from executioner_checker import Checker

check = Checker()
n = check.input.int()
seen = [check.output.int(1, n) for _ in range(n)]
check.output.end()
if len(set(seen)) != n:
    check.wrong(f"{n} numbers but not all different")
with open(sys.argv[2]) as output:
    if len(output.read().strip().splitlines()) > 1:
        check.presentation("the right numbers, but not on one line")
check.accept(f"a permutation of {n}")
