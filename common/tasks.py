"""Named, guarded background tasks, restarted with back-off when they crash (the API's, the master's
and the worker's check server)."""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from common.backoff import Backoff

log = logging.getLogger(__name__)

RESTART_FIRST_S = 0.5
RESTART_CAP_S = 10.0
"""A crashed background task is restarted after 0.5 s, then 1 s, 2 s, ... at most 10 s."""


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
        backoff = Backoff(RESTART_FIRST_S, RESTART_CAP_S)  # never starts over: a task that keeps crashing
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
                await asyncio.sleep(backoff.failed())

    async def stop(self) -> None:
        """Cancel every task and wait until all have ended."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
