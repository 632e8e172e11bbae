"""The retry policy of a job we failed to run, as small hooks over tenacity: which failures are ours
(retried, each time in a fresh pool process) and how many attempts a job gets; the caller says what the
job gets when we give up. The counting and the loop are tenacity's."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

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

        def failed(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome is not None else None
            log.warning(
                "job %s attempt %d/%d failed on our side: %s",
                job.id,
                state.attempt_number,
                self.max_attempts,
                failure,
            )

        def gave_up(state: RetryCallState) -> Outcome:
            return give_up(state.outcome.exception() if state.outcome is not None else None)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            retry=retry_if_exception(self.retryable),
            after=failed,
            retry_error_callback=gave_up,
        )

        async def once() -> Outcome:  # a coroutine function: tenacity awaits only those
            return await attempt()

        outcome: Outcome = await retrying(once)
        return outcome, int(retrying.statistics["attempt_number"])
