"""The job of a submission against a stored problem (pure): its tests by reference to the test store,
hidden unless they are samples, with the version's limits, comparison and scoring."""

from uuid import UUID

from api.problems.model import Judging, StoredTest
from api.problems.stubs import compose
from schemas.jobs import JobMessage, ProblemRef, TestCase


def test_case(test: StoredTest) -> TestCase:
    """A stored test as a job carries it: hashes and sizes, no data."""
    return TestCase(
        expected_output="",
        input_sha256=test.input_sha256,
        input_size=test.input_size,
        output_sha256=test.output_sha256,
        output_size=test.output_size,
        hidden=None if test.sample else True,
        points=test.points,
        group=test.group,
    )


def problem_job(
    submission_id: UUID, problem: ProblemRef, judging: Judging, language: str, user_code: str
) -> JobMessage:
    """The job judging ``user_code`` (in runtime ``language``) against version ``problem`` of a problem."""
    return JobMessage(
        id=submission_id,
        language=language,
        source=compose(user_code, judging.stubs.get(language)),
        tests=[test_case(test) for test in judging.tests],
        limits=judging.limits,
        compare=judging.compare,
        checker=judging.checker,
        interactor=judging.interactor,
        problem=problem,
    )
