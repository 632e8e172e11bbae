"""Kafka plumbing shared by the API's background tasks: outage logging and patient client start-up."""

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaError

from common.backoff import Backoff, failure, retrying
from common.log_repeats import DEFAULT_WINDOW_S


class _Client(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> Any: ...


ClientT = TypeVar("ClientT", bound=_Client)


class Outage:
    """Back-off for a dependency that keeps failing, logged when an outage starts, then as a summary
    every ``summary_every_s`` while it lasts, and when it ends; not once per attempt (or per row)."""

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        first_delay: float = 0.5,
        max_delay: float = 10.0,
        summary_every_s: float = DEFAULT_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._what = what
        self._backoff = Backoff(first_delay, max_delay)
        self._summary_every_s = summary_every_s
        self._clock = clock
        self._started = self._summarised = 0.0

    @property
    def failures(self) -> int:
        """Consecutive failures in the current outage (0 when healthy)."""
        return self._backoff.failures

    def failed(self, exc: BaseException) -> float:
        """Record a failure; return how long to wait before the next attempt."""
        now = self._clock()
        if self.failures == 0:
            self._started = self._summarised = now
            self._log.warning(
                "%s unavailable (%s: %s); retrying with back-off", self._what, type(exc).__name__, exc
            )
        elif now - self._summarised >= self._summary_every_s:
            self._summarised = now
            self._log.warning(
                "%s still unavailable after %.0f s, %d failed attempts (last: %s: %s)",
                self._what,
                now - self._started,
                self.failures + 1,
                type(exc).__name__,
                exc,
            )
        return self._backoff.failed()

    def recovered(self) -> None:
        """Record a success, ending the outage if there was one."""
        if self.failures:
            self._log.info(
                "%s available again after %.0f s, %d failed attempts",
                self._what,
                self._clock() - self._started,
                self.failures,
            )
        self._backoff.succeeded()


async def start_client(factory: Callable[[], ClientT], outage: Outage) -> ClientT:
    """Create and start a Kafka client, retrying (with a fresh client) until the broker answers."""
    async for attempt in retrying(on=KafkaError, wait=lambda state: outage.failed(failure(state))):
        with attempt:
            client = factory()
            try:
                await client.start()
            except KafkaError:
                await client.stop()
                raise
    outage.recovered()
    return client
