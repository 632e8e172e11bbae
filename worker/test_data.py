"""The one place the worker reads a test's data: its input and its expected answer, as bytes. Tests carry
them inline today; data fetched by reference (issue 18, the problems side) comes in here."""

from dataclasses import dataclass

from schemas.jobs import TestCase


@dataclass(frozen=True, slots=True)
class TestData:
    """One test's input (the program's stdin) and expected answer."""

    __test__ = False  # not a pytest class

    input: bytes
    answer: bytes


def test_data(test: TestCase) -> TestData:
    """``test``'s input and answer."""
    return TestData(test.stdin_bytes(), test.expected_bytes())


test_data.__test__ = False  # type: ignore[attr-defined]
