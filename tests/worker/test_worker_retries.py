"""The retry policy: our own failures are retried up to ``max_attempts``, then the job gets the caller's
give-up outcome; anything else propagates at once (pure, no pool)."""

import uuid

import pytest

from schemas.jobs import JobMessage
from schemas.results import Outcome
from schemas.verdicts import Verdict
from worker.errors import InternalError, PoolProcessLost
from worker.retries import RetryPolicy

pytestmark = pytest.mark.unit

JOB = JobMessage(id=uuid.uuid4(), language="python", source="print(1)")


def outcome(verdict: Verdict, message: str | None = None) -> Outcome:
    return Outcome(verdict=verdict, limits=JOB.limits.effective(), message=message)


def give_up(failure: BaseException | None) -> Outcome:
    return outcome(Verdict.INTERNAL_ERROR, f"gave up: {failure}")


class Attempts:
    """Fails with the given exceptions in turn, then succeeds."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.made = 0

    async def __call__(self) -> Outcome:
        self.made += 1
        if self.failures:
            raise self.failures.pop(0)
        return outcome(Verdict.ACCEPTED)


async def test_our_failure_is_retried_and_the_next_attempt_counts() -> None:
    attempts = Attempts(PoolProcessLost("died"))
    result, made = await RetryPolicy(3).run(JOB, attempts, give_up)
    assert (result.verdict, made, attempts.made) == (Verdict.ACCEPTED, 2, 2)


async def test_after_the_last_attempt_the_job_gets_the_give_up_outcome() -> None:
    attempts = Attempts(*(InternalError(f"failure {n}") for n in range(1, 4)))
    result, made = await RetryPolicy(3).run(JOB, attempts, give_up)
    assert (result.verdict, result.message) == (Verdict.INTERNAL_ERROR, "gave up: failure 3")
    assert (made, attempts.made) == (3, 3)


async def test_a_failure_that_is_not_ours_is_not_retried() -> None:
    attempts = Attempts(ConnectionError("Kafka refused a test event"))
    with pytest.raises(ConnectionError):
        await RetryPolicy(3).run(JOB, attempts, give_up)
    assert attempts.made == 1
