"""Scores (pure): each accepted test outside a group earns its points, a group earns its tests' points
only when all of them passed; a hidden test's report leaves the worker without output."""

import pytest

from common.scoring import redacted, scored
from schemas.jobs import Limits, TestCase
from schemas.results import Outcome, TestReport
from schemas.verdicts import Verdict

pytestmark = pytest.mark.unit

OK, WA = Verdict.ACCEPTED, Verdict.WRONG_ANSWER


def outcome(*verdicts: Verdict) -> Outcome:
    tests = [TestReport(index=i, verdict=v) for i, v in enumerate(verdicts)]
    return Outcome(verdict=OK, tests=tests, limits=Limits())


def test(points: int | None = None, group: str | None = None) -> TestCase:
    return TestCase(expected_output="", points=points, group=group)


test.__test__ = False  # type: ignore[attr-defined]


def test_groups_score_only_when_all_their_tests_pass() -> None:
    tests = [test(5), test(10, "a"), test(10, "a"), test(20, "b"), test(1)]
    result = scored(outcome(OK, OK, OK, OK, WA), tests)
    assert (result.score, result.max_score) == (45, 46)
    partial = scored(outcome(OK, OK, WA, OK, OK), tests)
    assert partial.score == 26  # 5 + group b's 20 + 1: group a lost both its tests' points
    assert partial.groups is not None
    assert [(g.group, g.points, g.score, g.passed) for g in partial.groups] == [
        ("a", 20, 0, False),
        ("b", 20, 20, True),
    ]


def test_tests_that_did_not_run_count_as_failed() -> None:
    result = scored(outcome(WA), [test(3), test(4, "g")])
    assert (result.score, result.max_score) == (0, 7)


def test_a_job_without_points_or_groups_has_no_score() -> None:
    result = scored(outcome(OK), [TestCase(expected_output="1")])
    assert (result.score, result.max_score, result.groups) == (None, None, None)


def test_a_hidden_tests_output_is_removed_and_a_samples_kept() -> None:
    report = TestReport(
        index=0,
        verdict=WA,
        stdout="secret",
        stderr="err",
        stdout_b64="c2VjcmV0",
        checker_message="expected 42",
    )
    hidden = redacted(report, TestCase(expected_output="", hidden=True))
    assert hidden.hidden is True
    assert (hidden.stdout, hidden.stderr, hidden.stdout_b64, hidden.checker_message) == ("", "", None, None)
    assert (hidden.verdict, hidden.time_ms) == (WA, report.time_ms)
    assert redacted(report, TestCase(expected_output="")) == report
