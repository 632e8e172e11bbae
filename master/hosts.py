"""The Docker engines of the cluster: one client per host, and whether each one answers.

The ``hosts`` rows (seeded from ``EXECUTIONER_DOCKER_HOSTS``, edited by admins) say which engines there
are and what an admin asked of each (``up`` or ``draining``). :class:`Hosts` keeps a
:class:`~master.docker_adapter.DockerAdapter` per host and pings every engine each ``host_ping_s``;
one that has not answered for ``host_down_s`` is *down* (its workers are placed elsewhere), one that
failed more recently is *unreachable* (its workers still count). Every change wakes the reconcile loop.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from common.lifecycle import wait_or_stop
from master.docker_adapter import DockerAdapter, connect
from master.events import DockerEvents
from master.model import ObservedContainer
from master.placement import DOWN, UNREACHABLE
from master.settings import MasterSettings
from master.store import HostRow

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Engine:
    """One host: its row, its client (while connected), and what the master knows of it."""

    name: str
    url: str
    wanted: str
    """What an admin asked: ``up`` or ``draining``."""
    adapter: DockerAdapter | None = None
    pinger: Any = None
    """A client with a short timeout, only for pings."""
    cpus: float | None = None
    memory_mb: int | None = None
    failing_since: datetime | None = None
    down: bool = False
    last_error: str | None = None
    containers: list[ObservedContainer] = field(default_factory=list)
    """Our containers there as last observed."""
    recovered: bool = False
    """Back from down: its leftovers are reconciled in the next pass (then this is cleared)."""

    def state(self) -> str:
        """The host's state for placement: ``down``, ``unreachable``, or what the admin asked."""
        if self.down:
            return DOWN
        if self.failing_since is not None or self.adapter is None:
            return UNREACHABLE
        return self.wanted


class Hosts:
    """The engines, their clients and their health."""

    def __init__(self, settings: MasterSettings, wakeups: asyncio.Queue[str]) -> None:
        self._settings = settings
        self._wakeups = wakeups
        self.engines: dict[str, Engine] = {}
        self._events: dict[str, asyncio.Task[None]] = {}
        """Each connected engine's events watcher (master/events.py), by host name."""

    def _wake(self, reason: str) -> None:
        self._wakeups.put_nowait(reason)

    async def sync(self, rows: Sequence[HostRow]) -> None:
        """Follow the ``hosts`` rows: new hosts are added (connected by the next check), removed ones
        closed, a changed URL reconnected."""
        seen = set()
        for row in rows:
            seen.add(row.name)
            engine = self.engines.get(row.name)
            if engine is not None and engine.url != row.url:
                await self._close(engine)
                engine = None
            if engine is None:
                engine = self.engines[row.name] = Engine(row.name, row.url, row.state)
                engine.failing_since = datetime.now(UTC)
            engine.wanted = row.state
        for name in set(self.engines) - seen:
            await self._close(self.engines.pop(name))

    async def check(self, now: datetime | None = None) -> None:
        """Ping every engine once (connecting those without a client); mark down those failing for
        ``host_down_s``, up those that answer again; wake the loop on every change."""
        engines = list(self.engines.values())
        await asyncio.gather(*(self._check(engine, now or datetime.now(UTC)) for engine in engines))

    async def watch(self, stop: asyncio.Event) -> None:
        """Check the engines every ``host_ping_s`` until ``stop`` is set."""
        while not stop.is_set():
            await self.check()
            await wait_or_stop(asyncio.sleep(self._settings.host_ping_s), stop)

    async def _check(self, engine: Engine, now: datetime) -> None:
        try:
            if engine.adapter is None:
                await self._connect(engine)
            await asyncio.wait_for(asyncio.to_thread(engine.pinger.ping), self._settings.host_ping_s * 2)
        except Exception as exc:  # any failure to answer is the same fault: the engine is not there
            self._failed(engine, now, f"{type(exc).__name__}: {exc}")
            return
        if engine.failing_since is not None or engine.down:
            if engine.last_error is not None:  # not merely the first connection
                log.info("host %s answers again%s", engine.name, " (was down)" if engine.down else "")
            engine.recovered = engine.recovered or engine.down
            engine.failing_since, engine.down, engine.last_error = None, False, None
            self._wake(f"host {engine.name} up")

    def _failed(self, engine: Engine, now: datetime, error: str) -> None:
        engine.last_error = error
        if engine.failing_since is None:
            log.warning("host %s does not answer: %s", engine.name, error)
            engine.failing_since = now
            self._wake(f"host {engine.name} unreachable")
        if not engine.down and now - engine.failing_since >= timedelta(seconds=self._settings.host_down_s):
            log.error(
                "host %s down (no answer for %.0fs): placing its workers elsewhere",
                engine.name,
                (now - engine.failing_since).total_seconds(),
            )
            engine.down = True
            self._wake(f"host {engine.name} down")

    async def _connect(self, engine: Engine) -> None:
        timeout = self._settings.host_ping_s * 2
        pinger = await asyncio.to_thread(connect, engine.url or None, timeout)
        client = await asyncio.to_thread(connect, engine.url or None, 600)
        adapter = DockerAdapter(client, self._settings.cluster, host=engine.name)
        engine.cpus, engine.memory_mb = await adapter.host_resources()
        engine.adapter, engine.pinger = adapter, pinger
        url = engine.url or None
        events = DockerEvents(lambda: connect(url), self._settings.cluster, self._wakeups)
        self._events[engine.name] = asyncio.create_task(events.run(), name=f"docker-events-{engine.name}")
        log.info("host %s connected: %g CPUs, %d MB", engine.name, engine.cpus, engine.memory_mb)

    async def _close(self, engine: Engine) -> None:
        events = self._events.pop(engine.name, None)
        if events is not None:
            events.cancel()
            await asyncio.gather(events, return_exceptions=True)
        adapter, pinger = engine.adapter, engine.pinger
        engine.adapter = engine.pinger = None
        if adapter is not None:
            await adapter.close()
        if pinger is not None:
            pinger.close()

    async def close(self) -> None:
        """Stop the events watchers and close every client."""
        for engine in list(self.engines.values()):
            await self._close(engine)
        self.engines.clear()
