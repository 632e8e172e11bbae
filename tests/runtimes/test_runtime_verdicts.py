"""Every language, the same table (cases.py): each kind of program gets its verdict from the real worker
image, through Kafka: accepted, wrong answer, the compare modes, time, memory (600 MiB under 256 MiB, and
a hello world under 64 MiB), runtime errors by exit status and by signal, compilation errors and output
limits."""

from collections.abc import Mapping

import pytest

from tests.runtimes.cases import CASES, LANGUAGES, Case
from tests.runtimes.harness import Ran, WorkerFailed

TABLE_TIMEOUT_S = 300 + 180 * len(LANGUAGES)
"""The first test also waits for the whole table (one batch of every language, two at a time): a guard
against a hung run, not a speed target, so it grows with the languages of the run."""


@pytest.mark.timeout(TABLE_TIMEOUT_S)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_verdict(case: Case, finished_cases: Mapping[str, Ran]) -> None:
    finished = finished_cases[case.name]
    if isinstance(finished, WorkerFailed):
        pytest.fail(f"the {finished.language} worker failed:\n{finished.logs}")
    outcome = finished.outcome
    report = outcome.run or (outcome.tests[-1] if outcome.tests else outcome.compile)
    assert outcome.verdict is case.verdict, report
    if case.test_verdicts is not None:
        assert [test.verdict for test in outcome.tests] == list(case.test_verdicts)
        # Each test was streamed as it finished, the same reports as in the outcome.
        assert finished.tests == outcome.tests
    for check in case.checks:
        check(outcome)
