"""One reconcile pass's view of every host: our containers there, each host as placement sees it, and
the report of each host for the admin API (``hosts.observed``)."""

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from master.capacity import Budget
from master.hosts import Engine, Hosts
from master.images import ImageSync
from master.model import ObservedContainer
from master.placement import DOWN, UNREACHABLE, UP, HostView, WorkerSize, room
from master.settings import MasterSettings
from schemas.hosts import HostReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FleetView:
    """What one pass knows of the hosts."""

    observed: list[ObservedContainer]
    """Our containers on the hosts that answer, and the last seen on unreachable ones (not yet down)."""
    hosts: list[HostView]
    leftovers: list[ObservedContainer]
    """Dead containers on a host back from down: removed, but they are the host's failure, not the
    workers' (no crash-loop back-off)."""
    problems: dict[str, str | None]
    """Per host: why it takes fewer workers than it could."""
    images_ok: dict[str, bool]
    """Per host: it holds every managed language's image with the master's id."""


def offered(engine: Engine, settings: MasterSettings) -> tuple[float, int]:
    """The CPUs and memory (MiB) ``engine`` offers to workers: what it reports (CPUs times
    ``host_cpu_overcommit``), capped by the per-host worker budget settings."""
    cpus = (engine.cpus or 0.0) * settings.host_cpu_overcommit
    memory_mb = engine.memory_mb or 0
    if settings.worker_budget_cpus is not None:
        cpus = min(cpus, settings.worker_budget_cpus)
    if settings.worker_budget_memory_mb is not None:
        memory_mb = min(memory_mb, settings.worker_budget_memory_mb)
    return cpus, memory_mb


async def observe_fleet(
    hosts: Hosts, images: ImageSync, wanted: Mapping[str, str | None], settings: MasterSettings
) -> FleetView:
    """Observe every host that answers (in parallel, each bounded by ``host_down_s``)."""
    engines = list(hosts.engines.values())
    await asyncio.gather(*(_observe(engine, settings.host_down_s) for engine in engines))
    observed: list[ObservedContainer] = []
    views: list[HostView] = []
    leftovers: list[ObservedContainer] = []
    problems: dict[str, str | None] = {}
    images_ok: dict[str, bool] = {}
    needed = {lang for lang, image_id in wanted.items() if image_id is not None}
    for engine in engines:
        state = engine.state()
        languages: frozenset[str] = frozenset()
        problem: str | None = None
        if state == DOWN:
            problem = f"down: {engine.last_error}"
        elif state == UNREACHABLE:
            problem = f"not answering: {engine.last_error}"
            observed.extend(engine.containers)
        else:
            if engine.recovered:
                leftovers.extend(c for c in engine.containers if c.dead)
                engine.recovered = False
            languages, problem = await images.ready(engine, wanted)
            observed.extend(c for c in engine.containers if c not in leftovers)
        cpus, memory_mb = offered(engine, settings)
        views.append(HostView(engine.name, state, cpus, memory_mb, languages))
        problems[engine.name] = problem
        images_ok[engine.name] = needed <= languages
    return FleetView(observed, views, leftovers, problems, images_ok)


async def _observe(engine: Engine, timeout_s: float) -> None:
    if engine.adapter is None or engine.state() in (DOWN, UNREACHABLE):
        if engine.state() == DOWN:
            engine.containers = []
        return
    try:
        engine.containers = await asyncio.wait_for(engine.adapter.observe(), timeout_s)
    except Exception as exc:  # the health check marks it; this pass keeps what it saw last
        log.warning("could not list the containers on host %s: %s", engine.name, exc)


def fleet_budget(hosts: Hosts, settings: MasterSettings) -> Budget:
    """How many workers fit on the hosts that take workers now (up, answering, sized), together: the
    autoscaler's cap, asked again at every observation so it follows hosts added, drained or down."""
    size = WorkerSize(settings.worker_cpus, settings.worker_footprint_mb)
    views = [
        HostView(e.name, UP, *offered(e, settings))
        for e in hosts.engines.values()
        if e.cpus is not None and e.state() == UP
    ]
    if not views:  # growth has nowhere to go until a host takes workers again
        return Budget(0, "no host takes workers (none is up and answering)")
    workers = sum(room(view, 0, size) for view in views)
    return Budget(workers, f"{len(views)} host(s) at {size.cpus:g} CPUs and {size.memory_mb} MB per worker")


def host_reports(hosts: Hosts, view: FleetView, now: datetime) -> dict[str, HostReport]:
    """Each host's report for the admin API."""
    reports = {}
    for engine in hosts.engines.values():
        live = Counter(c.language for c in engine.containers if c.live and engine.state() != DOWN)
        reports[engine.name] = HostReport(
            reachable=engine.failing_since is None,
            down_since=engine.failing_since,
            down=engine.down,
            cpus=engine.cpus,
            memory_mb=engine.memory_mb,
            workers=dict(sorted(live.items())),
            images_ok=view.images_ok[engine.name],
            problem=view.problems[engine.name],
            observed_at=now,
            error=engine.last_error if engine.failing_since is not None else None,
        )
    return reports
