"""Kafka plumbing shared by the API's background tasks: outage logging and patient client start-up."""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaError

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
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._delay = first_delay
        self._summary_every_s = summary_every_s
        self._clock = clock
        self._started = self._summarised = 0.0
        self.failures = 0
        """Consecutive failures in the current outage (0 when healthy)."""

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
        self.failures += 1
        delay = self._delay
        self._delay = min(self._delay * 2, self._max_delay)
        return delay

    def recovered(self) -> None:
        """Record a success, ending the outage if there was one."""
        if self.failures:
            self._log.info(
                "%s available again after %.0f s, %d failed attempts",
                self._what,
                self._clock() - self._started,
                self.failures,
            )
        self.failures = 0
        self._delay = self._first_delay


async def start_client(factory: Callable[[], ClientT], outage: Outage) -> ClientT:
    """Create and start a Kafka client, retrying (with a fresh client) until the broker answers."""
    while True:
        client = factory()
        try:
            await client.start()
        except KafkaError as exc:
            await client.stop()
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.recovered()
        return client
