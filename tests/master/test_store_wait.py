"""The master waits for MySQL with a doubling back-off (0.5 s, 1 s, ... at most ``max_delay_s``), saying
how long it waits, and gives up as soon as it is told to stop, mid-wait included. MySQL here is a port
nothing listens on, so the test needs no service."""

import asyncio
import logging
import re

import pytest

from devstack.processes import free_port
from master.store import Store

pytestmark = pytest.mark.unit

WAITS_BEFORE_STOP = 4


class _StopAfterWaits(logging.Handler):
    """Records each announced wait; sets ``stop`` at the ``WAITS_BEFORE_STOP``-th, before its sleep."""

    def __init__(self, stop: asyncio.Event) -> None:
        super().__init__()
        self.stop = stop
        self.delays: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = re.search(r"retrying in ([0-9.]+)s", record.getMessage())
        if found:
            self.delays.append(float(found.group(1)))
            if len(self.delays) == WAITS_BEFORE_STOP:
                self.stop.set()


async def test_waits_with_a_doubling_capped_back_off_until_stopped() -> None:
    stop = asyncio.Event()
    waits = _StopAfterWaits(stop)
    logger = logging.getLogger("master.store")
    logger.addHandler(waits)
    store = Store(f"mysql+asyncmy://nobody:nothing@127.0.0.1:{free_port()}/none")
    try:
        async with asyncio.timeout(30):
            assert await store.wait_ready(stop, max_delay_s=1.0) is False
    finally:
        logger.removeHandler(waits)
        await store.close()
    # No attempt followed the stop (it would have failed and announced a fifth wait).
    assert waits.delays == [0.5, 1.0, 1.0, 1.0]


async def test_a_stop_before_the_first_attempt_returns_at_once() -> None:
    stop = asyncio.Event()
    stop.set()
    store = Store(f"mysql+asyncmy://nobody:nothing@127.0.0.1:{free_port()}/none")
    try:
        async with asyncio.timeout(30):
            assert await store.wait_ready(stop) is False
    finally:
        await store.close()
