"""Explicit lifecycles for long-running async processes: a stop signal set by SIGTERM/SIGINT, and
:func:`first_of`, the one way to wait for whichever of several things happens first (background tasks
are :mod:`common.tasks`). Every process imports this module, the worker too: it needs nothing beyond the
core dependencies."""

import asyncio
import logging
import signal
from collections.abc import Awaitable
from typing import Any

from common.log_context import ContextFields, formatter
from common.log_repeats import RepeatLimiter
from common.settings import BaseProcessSettings

log = logging.getLogger(__name__)


def install_stop_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT (the process then drains instead of dying mid-job)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def first_of(*awaitables: Awaitable[Any], within_s: float | None = None) -> int | None:
    """Wait until the first of ``awaitables`` finishes and return its position (the lowest one when
    several finished together), or None when ``within_s`` seconds passed first.

    Every other one is cancelled, and has ended, when this returns; so is every one of them when the
    caller is cancelled. A task passed in is cancelled too: pass ``asyncio.shield(task)`` to keep it
    running. When the first one raised, its exception is raised here. For example::

        if await first_of(queue.get(), stop.wait(), within_s=5.0) is None: ...  # neither within 5 s
    """
    futures = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        done, _ = await asyncio.wait(futures, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in futures:
            future.cancel()  # no-op on the finished ones
        await asyncio.gather(*futures, return_exceptions=True)
    if not done:
        return None
    first = min(index for index, future in enumerate(futures) if future in done)
    futures[first].result()  # raises its exception, if it had one
    return first


async def wait_or_stop(awaitable: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Wait for ``awaitable`` unless ``stop`` is set first; True when it completed."""
    return await first_of(awaitable, stop.wait()) == 0


async def sleep_or_stop(seconds: float, stop: asyncio.Event) -> bool:
    """Sleep ``seconds``, or less when ``stop`` is set meanwhile; True when it slept the whole time."""
    return await first_of(stop.wait(), within_s=seconds) is None


def configure_logging(settings: BaseProcessSettings) -> None:
    """One log format for every process (``settings.log_format``, with the ids of :mod:`common.log_context`),
    and repeats held back (:mod:`common.log_repeats`)."""
    logging.basicConfig(level=settings.log_level.upper())
    logging.captureWarnings(True)  # a library's warning is a record in the same format, not a stray line
    limiter = RepeatLimiter(settings.log_repeat_window_s)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter(settings.log_format))
        handler.addFilter(limiter)
        handler.addFilter(ContextFields())
