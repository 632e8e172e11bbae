"""One back-off policy for every retry in the cluster's processes and the grader: delays that double
from a first delay up to a cap, computed by tenacity.

A call retried until it succeeds (or gives up) runs under :func:`retrying` (tenacity's
``AsyncRetrying``). A loop that runs for the life of the process and counts its own failures (a Kafka
consumer, the outbox relay, a restarted background task, a stream a client follows) asks a
:class:`Backoff` how long to wait, and tells it when an attempt succeeded.
"""

from collections.abc import Awaitable, Callable

import tenacity

__all__ = ["Backoff", "doubling", "failure", "retrying"]


def doubling(first_s: float, cap_s: float) -> tenacity.wait.wait_base:
    """Wait ``first_s`` after the first failure, twice as long after each further one, never more
    than ``cap_s``."""
    return tenacity.wait_exponential(multiplier=first_s, min=first_s, max=cap_s)


class Backoff:
    """The delays of :func:`doubling` for a loop that keeps running: each failure lengthens the next
    delay, a success starts it over."""

    def __init__(self, first_s: float, cap_s: float) -> None:
        self._wait = doubling(first_s, cap_s)
        self.failures = 0
        """Failures since the last success."""

    def failed(self) -> float:
        """Count a failure; return how long to wait before the next attempt."""
        self.failures += 1
        state = tenacity.RetryCallState(_NO_RETRY, None, (), {})
        state.attempt_number = self.failures
        return float(self._wait(state))

    def succeeded(self) -> None:
        """An attempt succeeded: the next failure waits the first delay again."""
        self.failures = 0


_NO_RETRY = tenacity.AsyncRetrying()
"""tenacity's call state needs a retrying object; :class:`Backoff` only borrows its wait strategy."""


def retrying(
    *,
    on: type[BaseException] | tuple[type[BaseException], ...],
    wait: tenacity.wait.wait_base | Callable[[tenacity.RetryCallState], float],
    attempts: int | None = None,
    give_up_after_s: float | None = None,
    before_sleep: Callable[[tenacity.RetryCallState], Awaitable[None] | None] | None = None,
) -> tenacity.AsyncRetrying:
    """Retry a block (``async for attempt in retrying(...): with attempt: ...``) while it raises one of
    ``on``: at most ``attempts`` times, and not once the next delay would end past ``give_up_after_s``
    since the first attempt; then the last exception is raised as it was (no ``RetryError``).
    ``before_sleep`` sees each failure that will be retried (to log it)."""
    stop: tenacity.stop.stop_base = tenacity.stop_never
    if attempts is not None:
        stop = stop | tenacity.stop_after_attempt(attempts)
    if give_up_after_s is not None:
        stop = stop | tenacity.stop_before_delay(give_up_after_s)
    return tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception_type(on),
        wait=wait,
        stop=stop,
        before_sleep=before_sleep,
        reraise=True,
    )


def failure(state: tenacity.RetryCallState) -> BaseException:
    """The exception of the attempt ``state`` describes (for a ``wait`` or ``before_sleep`` that
    looks at it)."""
    exc = state.outcome.exception() if state.outcome is not None else None
    assert exc is not None, "tenacity calls wait and before_sleep only after a failed attempt"
    return exc
