"""Explicit lifecycles for long-running async processes: named, guarded background tasks and a stop
signal set by SIGTERM/SIGINT."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from common.log_repeats import RepeatLimiter
from common.settings import BaseProcessSettings

log = logging.getLogger(__name__)


class TaskGroup:
    """Owns named background tasks. A task that crashes is logged and, if ``restart`` was asked,
    restarted after a back-off; :meth:`stop` cancels all of them and waits."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(
        self, name: str, factory: Callable[[], Coroutine[Any, Any, None]], *, restart: bool = True
    ) -> asyncio.Task[None]:
        """Run ``factory()`` as the task ``name``."""
        task = asyncio.create_task(self._guard(name, factory, restart), name=name)
        self._tasks[name] = task
        return task

    async def _guard(
        self, name: str, factory: Callable[[], Coroutine[Any, Any, None]], restart: bool
    ) -> None:
        delay = 0.5
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %r crashed", name)
                if not restart:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def stop(self) -> None:
        """Cancel every task and wait until all have ended."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


def install_stop_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT (the process then drains instead of dying mid-job)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def wait_or_stop(awaitable: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Wait for ``awaitable`` unless ``stop`` is set first; True when it completed."""
    fut = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({fut, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (fut, stopper):
        if pending not in done:
            pending.cancel()
    return fut in done


def configure_logging(settings: BaseProcessSettings) -> None:
    """One log format for every process, and repeats held back (:mod:`common.log_repeats`)."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    limiter = RepeatLimiter(settings.log_repeat_window_s)
    for handler in logging.getLogger().handlers:
        handler.addFilter(limiter)
