"""Output comparison and verdicts."""

import pytest

from schemas.jobs import CompareSpec, FloatCompare
from schemas.verdicts import Verdict
from worker.judge import (
    checker_verdict,
    compile_verdict,
    interaction_verdict,
    judge_test,
    outputs_match,
    overall_verdict,
    run_verdict,
)
from worker.limits import MIB, ProcessLimits
from worker.process import ProcessResult

pytestmark = pytest.mark.unit

LIMITS = ProcessLimits(cpu_ms=1000, wall_ms=3000, memory_bytes=256 * MIB, output_bytes=1024)


def result(**changes: object) -> ProcessResult:
    fields: dict[str, object] = {
        "exit_code": 0,
        "signal": None,
        "cpu_ms": 10,
        "wall_ms": 12,
        "peak_rss_kb": 9000,
        "stdout": b"",
        "stderr": b"",
        "stdout_truncated": False,
        "stderr_truncated": False,
        "wall_exceeded": False,
    }
    fields.update(changes)
    return ProcessResult(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actual", "expected", "matches"),
    [
        ("1 2\n", "1 2\n", True),
        ("1 2", "1 2\n", False),
        ("1 2 \n", "1 2\n", False),
        ("1 2\r\n", "1 2\n", False),
    ],
)
def test_exact_is_byte_for_byte(actual: str, expected: str, matches: bool) -> None:
    assert outputs_match(actual, expected, "exact") is matches


@pytest.mark.parametrize(
    ("actual", "expected", "matches"),
    [
        ("a b  \nc\t\n\n\n", "a b\nc", True),  # trailing spaces per line and trailing blank lines
        ("a\r\nb\r\n", "a\nb\n", True),  # CRLF line ends
        ("a\n\nb", "a\nb", False),  # a blank line in the middle matters
        (" a", "a", False),  # leading whitespace matters
        ("a b", "a  b", False),  # inner whitespace matters
        ("", "\n\n", True),
    ],
)
def test_trim_ignores_only_trailing_whitespace(actual: str, expected: str, matches: bool) -> None:
    assert outputs_match(actual, expected, "trim") is matches


@pytest.mark.parametrize(
    ("actual", "expected", "matches"),
    [
        ("1  2\n3", "1 2 3", True),
        ("  1\t2 3\n\n", "1 2 3", True),
        ("1 2", "1 2 3", False),
        ("1 2 3", "1 2 4", False),
    ],
)
def test_tokens_compares_whitespace_separated_tokens(actual: str, expected: str, matches: bool) -> None:
    assert outputs_match(actual, expected, "tokens") is matches


@pytest.mark.parametrize(
    ("actual", "expected", "tolerance", "matches"),
    [
        ("3.1415927", "3.14159265", 1e-6, True),  # absolute
        ("3.15", "3.14159265", 1e-6, False),
        ("1000000.5", "1000000.0", 1e-6, True),  # relative: 0.5 <= 1e-6 * 1e6
        ("1000002", "1000000", 1e-6, False),
        ("1e-3 yes", "0.001 yes", 1e-9, True),  # words compare exactly
        ("0.001 no", "0.001 yes", 1e-3, False),
        ("1 2", "1 2 3", 1e-3, False),
        ("nan", "nan", 1e-6, True),  # equal tokens
        ("nan", "1.0", 1e-6, False),
        ("inf", "1e400", 1e-6, False),  # not finite: no tolerance applies
        ("1_000", "1000", 1e-6, False),  # Python's float() accepts this; a checker must not
        ("-0.0000001", "+0", 1e-6, True),
    ],
)
def test_float_compares_numbers_within_tolerance(
    actual: str, expected: str, tolerance: float, matches: bool
) -> None:
    assert outputs_match(actual, expected, FloatCompare(mode="float", tolerance=tolerance)) is matches


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({}, Verdict.ACCEPTED),
        ({"exit_code": 1}, Verdict.RUNTIME_ERROR),
        ({"exit_code": None, "signal": "SIGSEGV"}, Verdict.RUNTIME_ERROR),
        ({"exit_code": None, "signal": "SIGXCPU"}, Verdict.TIME_LIMIT_EXCEEDED),
        ({"cpu_ms": 1001}, Verdict.TIME_LIMIT_EXCEEDED),
        ({"exit_code": None, "signal": "SIGKILL", "wall_exceeded": True}, Verdict.TIME_LIMIT_EXCEEDED),
        ({"exit_code": None, "signal": "SIGKILL", "stdout_truncated": True}, Verdict.OUTPUT_LIMIT_EXCEEDED),
        ({"exit_code": None, "signal": "SIGKILL", "stderr_truncated": True}, Verdict.OUTPUT_LIMIT_EXCEEDED),
        ({"exit_code": None, "signal": "SIGXFSZ"}, Verdict.OUTPUT_LIMIT_EXCEEDED),
        ({"exit_code": 1, "stderr": b"Traceback ...\nMemoryError\n"}, Verdict.MEMORY_LIMIT_EXCEEDED),
        (
            {"exit_code": None, "signal": "SIGABRT", "stderr": b"std::bad_alloc"},
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),
        # A crash near the limit is a crash: memory is never guessed from the peak.
        ({"exit_code": None, "signal": "SIGSEGV", "peak_rss_kb": 250 * 1024}, Verdict.RUNTIME_ERROR),
        # The watchdog killed it: memory, whatever else the run looks like.
        ({"exit_code": None, "signal": "SIGKILL", "memory_exceeded": True}, Verdict.MEMORY_LIMIT_EXCEEDED),
        (
            {"exit_code": None, "signal": "SIGKILL", "memory_exceeded": True, "cpu_ms": 1500},
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),
        (
            {"exit_code": 3, "stderr": b"Terminating due to java.lang.OutOfMemoryError: Java heap space\n"},
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),
        (
            {"exit_code": None, "signal": "SIGABRT", "stderr": b"FATAL ERROR: JavaScript heap out of memory"},
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),
        ({"exit_code": 2, "stderr": b"fatal error: runtime: out of memory\n"}, Verdict.MEMORY_LIMIT_EXCEEDED),
        (
            {
                "exit_code": None,
                "signal": "SIGABRT",
                "stderr": b"memory allocation of 629145600 bytes failed\n",
            },
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),
        (
            {
                "exit_code": 1,
                "stderr": b"Heap exhausted (no more space for allocation).\n1048576 bytes available\n",
            },
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),  # SBCL
        (
            {"exit_code": 2, "stderr": b"ERROR: /tmp/main.pl:1: user:main Stack limit (0.2Gb) exceeded\n"},
            Verdict.MEMORY_LIMIT_EXCEEDED,
        ),  # SWI-Prolog
        # SBCL's control stack is no memory limit: deep recursion is a runtime error.
        (
            {
                "exit_code": 1,
                "stderr": b"Control stack exhausted (no more space for function call frames).\n",
            },
            Verdict.RUNTIME_ERROR,
        ),
        ({"exit_code": 0, "stderr": b"MemoryError"}, Verdict.ACCEPTED),  # it recovered: not a failure
    ],
)
def test_run_verdict(changes: dict[str, object], verdict: Verdict) -> None:
    assert run_verdict(result(**changes), LIMITS) is verdict


def test_compile_verdict() -> None:
    assert compile_verdict(result(), LIMITS) is Verdict.ACCEPTED
    assert compile_verdict(result(exit_code=1), LIMITS) is Verdict.COMPILATION_ERROR
    assert compile_verdict(result(wall_exceeded=True, exit_code=None, signal="SIGKILL"), LIMITS) is (
        Verdict.TIME_LIMIT_EXCEEDED
    )
    # A compiler's long output is cut, not an error.
    assert compile_verdict(result(stdout_truncated=True), LIMITS) is Verdict.ACCEPTED
    assert compile_verdict(result(memory_exceeded=True, exit_code=None, signal="SIGKILL"), LIMITS) is (
        Verdict.MEMORY_LIMIT_EXCEEDED
    )


@pytest.mark.parametrize("compare", ["exact", "trim", "tokens"])
def test_a_failed_run_keeps_its_verdict(compare: CompareSpec) -> None:
    assert judge_test(Verdict.TIME_LIMIT_EXCEEDED, "42\n", "42\n", compare) is Verdict.TIME_LIMIT_EXCEEDED
    assert judge_test(Verdict.ACCEPTED, "42\n", "42\n", compare) is Verdict.ACCEPTED
    assert judge_test(Verdict.ACCEPTED, "41\n", "42\n", compare) is Verdict.WRONG_ANSWER


def test_overall_verdict_is_the_first_failure() -> None:
    assert overall_verdict([]) is Verdict.ACCEPTED
    assert overall_verdict([Verdict.ACCEPTED, Verdict.ACCEPTED]) is Verdict.ACCEPTED
    verdicts = [Verdict.ACCEPTED, Verdict.WRONG_ANSWER, Verdict.TIME_LIMIT_EXCEEDED]
    assert overall_verdict(verdicts) is Verdict.WRONG_ANSWER


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({"exit_code": 0}, Verdict.ACCEPTED),
        ({"exit_code": 1}, Verdict.WRONG_ANSWER),
        ({"exit_code": 2}, Verdict.PRESENTATION_ERROR),
        ({"exit_code": 3}, Verdict.INTERNAL_ERROR),  # testlib's "fail": the checker cannot judge
        ({"exit_code": 7}, Verdict.INTERNAL_ERROR),
        ({"exit_code": None, "signal": "SIGSEGV"}, Verdict.INTERNAL_ERROR),
        ({"exit_code": 0, "wall_exceeded": True}, Verdict.INTERNAL_ERROR),
        ({"exit_code": 1, "memory_exceeded": True}, Verdict.INTERNAL_ERROR),
        ({"exit_code": 0, "cpu_ms": 1001}, Verdict.INTERNAL_ERROR),
        ({"exit_code": 1, "stderr": b"out of memory? no: wrong answer"}, Verdict.WRONG_ANSWER),
        ({"exit_code": 0, "stderr_truncated": True}, Verdict.ACCEPTED),  # a long message is no failure
    ],
)
def test_checker_exit_codes(changes: dict[str, object], verdict: Verdict) -> None:
    assert checker_verdict(result(**changes), LIMITS) is verdict


@pytest.mark.parametrize(
    ("program", "program_first", "interactor", "verdict"),
    [
        (Verdict.ACCEPTED, True, Verdict.ACCEPTED, Verdict.ACCEPTED),
        (Verdict.ACCEPTED, True, Verdict.WRONG_ANSWER, Verdict.WRONG_ANSWER),
        (Verdict.ACCEPTED, False, Verdict.INTERNAL_ERROR, Verdict.INTERNAL_ERROR),
        # The program failed first: its own verdict, whatever the interactor made of the broken pipe.
        (Verdict.TIME_LIMIT_EXCEEDED, True, Verdict.WRONG_ANSWER, Verdict.TIME_LIMIT_EXCEEDED),
        (Verdict.RUNTIME_ERROR, True, Verdict.INTERNAL_ERROR, Verdict.RUNTIME_ERROR),
        # The interactor said "wrong answer" first; the program died afterwards on the closed pipe.
        (Verdict.RUNTIME_ERROR, False, Verdict.WRONG_ANSWER, Verdict.WRONG_ANSWER),
        # The interactor accepted, yet the program then failed: a program must end cleanly too.
        (Verdict.RUNTIME_ERROR, False, Verdict.ACCEPTED, Verdict.RUNTIME_ERROR),
    ],
)
def test_interaction_verdict(
    program: Verdict, program_first: bool, interactor: Verdict, verdict: Verdict
) -> None:
    assert interaction_verdict(program, program_first, interactor) is verdict
