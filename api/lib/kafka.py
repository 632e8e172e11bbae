"""Kafka plumbing shared by the API's background tasks: outage logging and patient client start-up."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaError


class _Client(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> Any: ...


ClientT = TypeVar("ClientT", bound=_Client)


class Outage:
    """Back-off for a dependency that keeps failing, logged once when an outage starts and once when it
    ends, not once per attempt (or per row)."""

    def __init__(
        self, log: logging.Logger, what: str, first_delay: float = 0.5, max_delay: float = 10.0
    ) -> None:
        self._log = log
        self._what = what
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._delay = first_delay
        self.failures = 0
        """Consecutive failures in the current outage (0 when healthy)."""

    def failed(self, exc: BaseException) -> float:
        """Record a failure; return how long to wait before the next attempt."""
        if self.failures == 0:
            self._log.warning(
                "%s unavailable (%s: %s); retrying with back-off", self._what, type(exc).__name__, exc
            )
        self.failures += 1
        delay = self._delay
        self._delay = min(self._delay * 2, self._max_delay)
        return delay

    def recovered(self) -> None:
        """Record a success, ending the outage if there was one."""
        if self.failures:
            self._log.info("%s available again after %d failed attempts", self._what, self.failures)
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
