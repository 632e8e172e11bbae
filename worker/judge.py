"""Verdicts (pure): how a run ended, whether its output matches, and the verdict of a whole job."""

import math
import re
from collections.abc import Iterable

from schemas.jobs import CompareSpec, FloatCompare
from schemas.verdicts import Verdict
from worker.limits import ProcessLimits
from worker.process import ProcessResult

# How runtimes say an allocation failed before they die: under RLIMIT_AS (runtime.toml
# `address_space_limit`) or their own heap limit (the JVM's -Xmx, V8's --max-old-space-size), the program
# fails before the memory is touched, so the watchdog never sees it; these lines are how we know.
OUT_OF_MEMORY_MARKERS = (
    b"MemoryError",  # Python
    b"std::bad_alloc",  # C++: "terminate called after throwing an instance of 'std::bad_alloc'"
    b"java.lang.OutOfMemoryError",  # JVM (with -XX:+ExitOnOutOfMemoryError it exits at the first one)
    b"insufficient memory for the Java Runtime Environment",  # the JVM's own native allocations
    b"JavaScript heap out of memory",  # V8: "FATAL ERROR: Reached heap limit ..."
    b"out of memory",  # Go: "fatal error: runtime: out of memory"
    b"memory allocation of",  # Rust: "memory allocation of N bytes failed"
    b"Cannot allocate memory",  # ENOMEM from libc
    b"Heap exhausted",  # SBCL, its dynamic space full: "Heap exhausted (no more space for allocation)."
    b"Stack limit (",  # SWI-Prolog, its stacks over --stack-limit: "Stack limit (0.2Gb) exceeded"
)
MARKER_WINDOW = 4096
"""Only the end of stderr is searched: that is where a dying runtime writes."""

# Possessive quantifiers: a run of digits is taken whole and never split between two alternatives, so a
# match or a failure costs one pass over the token. (The old greedy ``\d+\.?\d*`` tried every split of
# a digit run: 60,000 digits and an ``x`` took 14 s, outside every limit of the job.)
_NUMBER = re.compile(r"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")


def run_verdict(result: ProcessResult, limits: ProcessLimits) -> Verdict:
    """The verdict of one run before its output is compared: ``accepted`` means it ended normally.

    Memory: the watchdog killed it (its process tree went over the limit), or it ended abnormally after
    its runtime reported a failed allocation. A crash is never guessed to be memory from its peak alone.
    """
    if result.memory_exceeded:
        return Verdict.MEMORY_LIMIT_EXCEEDED
    if result.wall_exceeded or result.signal == "SIGXCPU" or result.cpu_ms > limits.cpu_ms:
        return Verdict.TIME_LIMIT_EXCEEDED
    if result.output_exceeded or result.signal == "SIGXFSZ":
        return Verdict.OUTPUT_LIMIT_EXCEEDED
    if result.ended_normally:
        return Verdict.ACCEPTED
    if _reported_out_of_memory(result):
        return Verdict.MEMORY_LIMIT_EXCEEDED
    return Verdict.RUNTIME_ERROR


def compile_verdict(result: ProcessResult, limits: ProcessLimits) -> Verdict:
    """The compiler's verdict: ``accepted`` when it succeeded, else why it did not."""
    if result.memory_exceeded:
        return Verdict.MEMORY_LIMIT_EXCEEDED
    if result.wall_exceeded or result.signal == "SIGXCPU" or result.cpu_ms > limits.cpu_ms:
        return Verdict.TIME_LIMIT_EXCEEDED
    return Verdict.ACCEPTED if result.ended_normally else Verdict.COMPILATION_ERROR


def _reported_out_of_memory(result: ProcessResult) -> bool:
    tail = result.stderr[-MARKER_WINDOW:]
    return any(marker in tail for marker in OUT_OF_MEMORY_MARKERS)


def _trimmed_lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _numbers_match(actual: str, expected: str, tolerance: float) -> bool:
    if actual == expected:
        return True
    if not (_NUMBER.fullmatch(actual) and _NUMBER.fullmatch(expected)):
        return False
    a, e = float(actual), float(expected)
    if not (math.isfinite(a) and math.isfinite(e)):
        return False
    return abs(a - e) <= tolerance or abs(a - e) <= tolerance * abs(e)


def outputs_match(actual: str, expected: str, compare: CompareSpec) -> bool:
    """Whether the program's output ``actual`` matches ``expected`` under ``compare``.

    * ``exact``: byte for byte.
    * ``trim``: trailing whitespace of each line and trailing blank lines are ignored (so are CRLF line ends).
    * ``tokens``: the whitespace-separated tokens are equal.
    * ``float``: tokens are equal, or both are numbers within the absolute or relative tolerance.
    """
    if isinstance(compare, FloatCompare):
        got, want = actual.split(), expected.split()
        return len(got) == len(want) and all(
            _numbers_match(a, e, compare.tolerance) for a, e in zip(got, want, strict=True)
        )
    if compare == "exact":
        return actual == expected
    if compare == "tokens":
        return actual.split() == expected.split()
    return _trimmed_lines(actual) == _trimmed_lines(expected)


def judge_test(run: Verdict, actual: str, expected: str, compare: CompareSpec) -> Verdict:
    """A test's verdict: the run's own verdict if it failed, else whether its output matches."""
    if run is not Verdict.ACCEPTED:
        return run
    return Verdict.ACCEPTED if outputs_match(actual, expected, compare) else Verdict.WRONG_ANSWER


def overall_verdict(verdicts: Iterable[Verdict]) -> Verdict:
    """The first verdict that is not ``accepted``; ``accepted`` when all are (or there are none)."""
    return next((v for v in verdicts if v is not Verdict.ACCEPTED), Verdict.ACCEPTED)


CHECKER_VERDICTS = {0: Verdict.ACCEPTED, 1: Verdict.WRONG_ANSWER, 2: Verdict.PRESENTATION_ERROR}
"""A testlib checker's (or interactor's) exit codes: 0 ok, 1 wrong answer, 2 presentation error.
Anything else is the checker failing."""


def checker_verdict(result: ProcessResult, limits: ProcessLimits) -> Verdict:
    """What a checker or interactor run says about the test: its exit code, when it ended by itself
    within its limits; otherwise (a crash, a limit, exit 3 "fail" or any other code) ``internal_error``:
    the judge failed, not the submission."""
    ended_by_itself = result.signal is None and result.exit_code is not None
    within_limits = not (result.memory_exceeded or result.wall_exceeded or result.cpu_ms > limits.cpu_ms)
    if ended_by_itself and within_limits:
        return CHECKER_VERDICTS.get(result.exit_code or 0, Verdict.INTERNAL_ERROR)
    return Verdict.INTERNAL_ERROR


def interaction_verdict(program: Verdict, program_failed_first: bool, interactor: Verdict) -> Verdict:
    """An interactive test's verdict. The program's own failure (a limit, a crash) counts when it came
    first, or when the interactor accepted; otherwise the interactor's verdict decides (a program that
    dies after the interactor said "wrong answer", on the closed pipe, got a wrong answer)."""
    if program is not Verdict.ACCEPTED and (program_failed_first or interactor is Verdict.ACCEPTED):
        return program
    return interactor
