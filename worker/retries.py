"""The retry policy of a job we failed to run, as small hooks: which failures are ours (retried at once,
each time in a fresh pool process) and how many attempts a job gets; the caller says what the job gets
when we give up. There is no back-off to wait: a retry's fresh process is its remedy."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from schemas.jobs import JobMessage
from schemas.results import Outcome
from worker.errors import InternalError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` runs at most, while the failure is ours (:class:`InternalError`); anything else
    (a user's program failing is a verdict, not an exception) ends the job's run at once."""

    max_attempts: int

    def retryable(self, failure: BaseException) -> bool:
        """Whether another attempt may succeed: only our own failures are retried."""
        return isinstance(failure, InternalError)

    async def run(
        self,
        job: JobMessage,
        attempt: Callable[[], Awaitable[Outcome]],
        give_up: Callable[[BaseException | None], Outcome],
    ) -> tuple[Outcome, int]:
        """Await ``attempt()`` until it returns, or until the policy gives up: then the outcome is
        ``give_up(last failure)``. Returns the outcome and the number of attempts made. Failures that are
        not retryable propagate."""

        failure: BaseException | None = None
        for number in range(1, self.max_attempts + 1):
            try:
                return await attempt(), number
            except Exception as exc:  # cancellation is not a failure: it propagates
                if not self.retryable(exc):
                    raise
                failure = exc
                log.warning(
                    "job %s attempt %d/%d failed on our side: %s", job.id, number, self.max_attempts, exc
                )
        return give_up(failure), self.max_attempts
