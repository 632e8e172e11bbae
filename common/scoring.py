"""The score of a job with points (pure): each accepted test outside a group earns its points, each group
earns the sum of its tests' points only when all of its tests were accepted (IOI-style subtasks). A test
that did not run (``stop_on_first_failure``) counts as failed."""

from collections.abc import Sequence

from schemas.jobs import TestCase
from schemas.results import GroupScore, Outcome, TestReport
from schemas.verdicts import Verdict


def scored(outcome: Outcome, tests: Sequence[TestCase]) -> Outcome:
    """``outcome`` with ``score``, ``max_score`` and ``groups`` filled in when any of ``tests`` has points
    or a group; unchanged otherwise (and for outcomes without test reports, e.g. a compilation error,
    the score is 0)."""
    if not any(test.points is not None or test.group is not None for test in tests):
        return outcome
    accepted = {report.index for report in outcome.tests if report.verdict is Verdict.ACCEPTED}
    groups: dict[str, GroupScore] = {}
    score = max_score = 0
    for index, test in enumerate(tests):
        points = test.points or 0
        max_score += points
        passed = index in accepted
        if test.group is None:
            score += points if passed else 0
            continue
        group = groups.get(test.group) or GroupScore(group=test.group, points=0, score=0, passed=True)
        groups[test.group] = group.model_copy(
            update={"points": group.points + points, "passed": group.passed and passed}
        )
    finished = [g.model_copy(update={"score": g.points if g.passed else 0}) for g in groups.values()]
    score += sum(g.score for g in finished)
    return outcome.model_copy(update={"score": score, "max_score": max_score, "groups": finished or None})


def redacted(report: TestReport, test: TestCase) -> TestReport:
    """``report`` as it may leave the worker: a hidden test's output, error output and checker message
    removed."""
    if not test.hidden:
        return report
    return report.model_copy(
        update={
            "hidden": True,
            "stdout": "",
            "stderr": "",
            "stdout_b64": None,
            "stderr_b64": None,
            "checker_message": None,
        }
    )
