"""Executioner's helper for checkers and interactors written in Python (docs/checkers.md). The worker puts
this file beside a Python checker's source unless the checker brings its own ``executioner_checker.py``.

A checker is called ``checker input output answer`` and says its verdict by exit code: 0 accepted,
1 wrong answer, 2 presentation error, 3 the checker itself failed (an ``internal_error`` for the
submission). Its message (stderr) is shown in the test's result::

    from executioner_checker import Checker

    check = Checker()
    n = check.input.int()
    numbers = [check.output.int(1, n) for _ in range(n)]  # a bad token is a wrong answer
    check.output.end()
    if sorted(numbers) != list(range(1, n + 1)):
        check.wrong("not a permutation")
    check.accept(f"{n} numbers")

An interactor (``interactor input output answer``) talks to the submission over stdin and stdout::

    from executioner_checker import Interactor

    talk = Interactor()
    secret = talk.input.int()
    talk.send(talk.input.int())           # a line to the program, flushed
    guess = talk.receive().int()          # the program's next token; its end is a wrong answer
"""

import math
import sys
from typing import NoReturn

ACCEPTED, WRONG_ANSWER, PRESENTATION_ERROR, FAILED = 0, 1, 2, 3


def _quit(code: int, message: str) -> NoReturn:
    if message:
        sys.stderr.write(message + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


def accept(message: str = "") -> NoReturn:
    """The answer is right."""
    _quit(ACCEPTED, message)


def wrong(message: str) -> NoReturn:
    """The answer is wrong, because ``message``."""
    _quit(WRONG_ANSWER, message)


def presentation(message: str) -> NoReturn:
    """The answer is malformed (``presentation_error``): right in substance, wrong in layout."""
    _quit(PRESENTATION_ERROR, message)


def fail(message: str) -> NoReturn:
    """The checker cannot judge (bad test data, a bug): the submission gets ``internal_error``."""
    _quit(FAILED, message)


class Tokens:
    """The whitespace-separated tokens of one stream. A bad token of the program's output is a wrong
    answer; one of the input or the answer file is the checker's failure (the test data is wrong)."""

    def __init__(self, data: str, name: str, *, blame_program: bool) -> None:
        self._tokens = data.split()
        self._next = 0
        self.name = name
        self._bad = wrong if blame_program else fail

    def _token(self) -> str | None:
        if self._next >= len(self._tokens):
            return None
        self._next += 1
        return self._tokens[self._next - 1]

    def token(self) -> str:
        """The next token; the end of the stream is an error."""
        token = self._token()
        if token is None:
            self._bad(f"{self.name}: unexpected end of data")
        return token

    def int(self, low: int | None = None, high: int | None = None) -> int:
        """The next token as an integer, within ``[low, high]`` when given."""
        token = self.token()
        try:
            value = int(token)
        except ValueError:
            self._bad(f"{self.name}: expected an integer, found {token[:40]!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            self._bad(f"{self.name}: {value} is outside [{low}, {high}]")
        return value

    def float(self) -> float:
        """The next token as a finite number."""
        token = self.token()
        try:
            value = float(token)
        except ValueError:
            self._bad(f"{self.name}: expected a number, found {token[:40]!r}")
        if not math.isfinite(value):
            self._bad(f"{self.name}: {token[:40]!r} is not a finite number")
        return value

    def rest(self) -> list[str]:
        """Every token not read yet."""
        rest, self._next = self._tokens[self._next :], len(self._tokens)
        return rest

    def end(self) -> None:
        """Require that every token was read."""
        if self._next < len(self._tokens):
            self._bad(f"{self.name}: extra data after the answer ({self._tokens[self._next][:40]!r}...)")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError as exc:
        fail(f"cannot read {path}: {exc}")


def floats_close(actual: float, expected: float, tolerance: float) -> bool:
    """Within ``tolerance``, absolute or relative to ``expected``."""
    return abs(actual - expected) <= tolerance * max(1.0, abs(expected))


class _Judge:
    """The verdicts, as methods too."""

    accept = staticmethod(accept)
    wrong = staticmethod(wrong)
    presentation = staticmethod(presentation)
    fail = staticmethod(fail)


class Checker(_Judge):
    """``input``, ``output`` (the program's) and ``answer`` (the expected one) of the test being judged."""

    def __init__(self, argv: list[str] | None = None) -> None:
        args = sys.argv if argv is None else argv
        if len(args) < 4:
            fail("usage: checker input output answer")
        self.input = Tokens(_read(args[1]), "input", blame_program=False)
        self.output = Tokens(_read(args[2]), "output", blame_program=True)
        self.answer = Tokens(_read(args[3]), "answer", blame_program=False)

    def same_tokens(self) -> NoReturn:
        """Judge by equal tokens of the output and the answer."""
        expected, actual = self.answer.rest(), self.output.rest()
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            if want != got:
                wrong(f"token {index + 1}: expected {want[:40]!r}, found {got[:40]!r}")
        if len(actual) != len(expected):
            wrong(f"expected {len(expected)} tokens, found {len(actual)}")
        accept(f"{len(expected)} tokens")

    def close_numbers(self, tolerance: float = 1e-6) -> NoReturn:
        """Judge numbers of the output against the answer's within ``tolerance`` (absolute or relative)."""
        expected = self.answer.rest()
        for index in range(len(expected)):
            want, got = float(expected[index]), self.output.float()
            if not floats_close(got, want, tolerance):
                wrong(f"number {index + 1}: expected {want!r}, found {got!r}")
        self.output.end()
        accept(f"{len(expected)} numbers")


class Interactor(_Judge):
    """``input`` and ``answer`` of the test, and the conversation with the program (stdin, stdout)."""

    def __init__(self, argv: list[str] | None = None) -> None:
        args = sys.argv if argv is None else argv
        if len(args) < 2:
            fail("usage: interactor input [output [answer]]")
        self.input = Tokens(_read(args[1]), "input", blame_program=False)
        self.answer = Tokens(_read(args[3]) if len(args) > 3 else "", "answer", blame_program=False)

    def send(self, *values: object) -> None:
        """One line to the program, flushed at once."""
        try:
            print(*values, flush=True)
        except BrokenPipeError:
            wrong("the program stopped reading")

    def receive(self) -> Tokens:
        """The program's next line as tokens; its end of output is a wrong answer."""
        line = sys.stdin.readline()
        if not line:
            wrong("the program ended its output too early")
        return Tokens(line, "program", blame_program=True)
