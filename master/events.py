"""Docker's event stream for one cluster's containers, turned into wake-ups of the reconcile loop.

The docker SDK's stream is a blocking iterator, so it is read on a thread of its own; each event is
handed to the asyncio loop through a queue. When the daemon goes away (a restart), the stream ends; the
watcher reconnects with back-off and then sends a wake-up, since events may have been missed meanwhile.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common.backoff import Backoff
from master.spec import cluster_filter

log = logging.getLogger(__name__)

RECONNECTED = "events stream (re)connected"
RECONNECT_FIRST_S = 0.5
RECONNECT_CAP_S = 10.0
"""After the stream ends, reconnect in 0.5 s; while the daemon is away, retry after 0.5 s, 1 s, 2 s ...
at most 10 s."""


def describe(event: dict[str, Any]) -> str:
    """A short text for one Docker event, e.g. ``die executioner-dev-python-1a2b3c exitCode=137``."""
    attributes = event.get("Actor", {}).get("Attributes", {})
    text = f"{event.get('Action', event.get('status', '?'))} {attributes.get('name', event.get('id', '?'))}"
    if "exitCode" in attributes:
        text += f" exitCode={attributes['exitCode']}"
    return text


class DockerEvents:
    """Puts a description of every container event of ``cluster`` on ``queue``, until cancelled."""

    def __init__(self, connect: Callable[[], Any], cluster: str, queue: asyncio.Queue[str]) -> None:
        self._connect = connect
        self._filters = {"type": "container", **cluster_filter(cluster)}
        self._queue = queue
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None

    async def run(self) -> None:
        """Read events on a dedicated thread; on cancellation, close the stream so the thread ends."""
        loop = asyncio.get_running_loop()
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docker-events")
        self._closing.clear()
        try:
            await loop.run_in_executor(thread, self._pump, loop)
        finally:
            self._close()
            thread.shutdown(wait=False)

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        backoff = Backoff(RECONNECT_FIRST_S, RECONNECT_CAP_S)
        while not self._closing.is_set():
            try:
                client = self._connect()
                stream = client.events(decode=True, filters=self._filters)
            except Exception as exc:
                delay = backoff.failed()
                log.warning("Docker events unavailable (%s); retrying in %.1fs", exc, delay)
                self._closing.wait(delay)
                continue
            with self._lock:
                self._stream = stream
            if self._closing.is_set():  # closed while we were connecting
                stream.close()
            backoff.succeeded()
            self._emit(loop, RECONNECTED)
            try:
                for event in stream:
                    self._emit(loop, describe(event))
            except Exception as exc:
                log.warning("Docker events stream broke: %s", exc)
            finally:
                client.close()
            if not self._closing.is_set():
                log.warning("Docker events stream ended (daemon restarting?); reconnecting")
                self._closing.wait(RECONNECT_FIRST_S)

    def _emit(self, loop: asyncio.AbstractEventLoop, text: str) -> None:
        try:
            loop.call_soon_threadsafe(self._queue.put_nowait, text)
        except RuntimeError:  # the loop has closed: we are shutting down
            self._closing.set()

    def _close(self) -> None:
        self._closing.set()
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
