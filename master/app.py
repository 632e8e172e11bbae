"""The master process: start-up checks, standby and active terms, and shutdown.

Start: connect to Docker, pick the languages, wait for MySQL and the schema, seed ``pools``, work out the
worker budget. Run: stand by until this master holds the cluster's MySQL lock
(:mod:`master.leadership`), then act (reconcile loop, autoscaler, ``pools`` watcher) until SIGTERM, or
until the lock is lost, which makes it a standby again. Stop: finish stops under way and, only when
``stop_workers_on_exit`` is set and this master is the active one, stop this cluster's workers too;
otherwise they keep serving and the next master adopts them by their labels.
"""

import asyncio
import contextlib
import logging

from common.backoff import Backoff
from common.lifecycle import first_of, sleep_or_stop
from common.runtimes import Runtime, load_runtimes
from common.tasks import TaskGroup
from master.autoscaler import Autoscaler
from master.docker_adapter import DockerAdapter, connect
from master.fleet import fleet_budget
from master.hosts import Hosts
from master.lag import LagProbe
from master.leadership import Leadership
from master.metrics import MetricsServer, PoolCollector, metrics_address
from master.pools_watch import watch_pools
from master.reconciler import Reconciler
from master.settings import MasterSettings
from master.store import Store
from master.versions import VersionRecorder

log = logging.getLogger(__name__)

TERM_END_TIMEOUT_S = 30.0
"""How long the loops of an ending term may take to finish the pass they are in."""


class ConfigurationError(RuntimeError):
    """The settings ask for something that cannot work (e.g. a language without a runtime definition)."""


async def connect_docker(settings: MasterSettings, stop: asyncio.Event) -> DockerAdapter | None:
    """A Docker adapter once the daemon answers (retrying with back-off); None when ``stop`` came first."""
    backoff = Backoff(0.5, 10.0)
    while not stop.is_set():
        try:
            client = await asyncio.to_thread(connect, settings.docker_url)
            return DockerAdapter(client, settings.cluster)
        except Exception as exc:
            delay = backoff.failed()
            log.warning("Docker daemon not reachable (%s); retrying in %.1fs", exc, delay)
        await sleep_or_stop(delay, stop)
    return None


async def managed_languages(
    settings: MasterSettings, runtimes: dict[str, Runtime], docker: DockerAdapter
) -> list[str]:
    """The configured languages, or else every runtime whose worker image exists now."""
    if settings.languages is not None:
        unknown = sorted(set(settings.languages) - set(runtimes))
        if unknown:
            raise ConfigurationError(
                f"no runtime.toml under {settings.runtimes_dir} for {', '.join(unknown)}"
            )
        return list(settings.languages)
    languages = []
    for language in runtimes:
        if await docker.image_id(settings.image_for(language)) is not None:
            languages.append(language)
        else:
            log.warning(
                "no image %s: %s is not managed (build it, or list it in EXECUTIONER_LANGUAGES)",
                settings.image_for(language),
                language,
            )
    return languages


class Master:
    """One master process's parts, with an explicit start, run and shutdown."""

    def __init__(self, settings: MasterSettings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self._wakeups: asyncio.Queue[str] = asyncio.Queue()
        """Reasons for the reconcile loop to run a pass now."""
        self.leadership = Leadership(
            settings.database_url,
            settings.cluster,
            settings.leader_retry_s,
            metrics=metrics_address(settings),
        )
        self.lag_probe = LagProbe(settings.kafka_bootstrap, settings.topics)
        self.docker: DockerAdapter | None = None
        """The master's own engine, where the worker images are built (every host gets them from it)."""
        self.hosts = Hosts(settings, self._wakeups)
        self.reconciler: Reconciler | None = None
        self.autoscaler: Autoscaler | None = None
        self._tasks = TaskGroup()
        self._metrics = MetricsServer(
            PoolCollector(
                lambda: self.reconciler.statuses if self.reconciler is not None else {},
                lambda: self.leadership.held,
            )
        )

    async def start(self, stop: asyncio.Event) -> bool:
        """Everything before the first pass; False when ``stop`` was set meanwhile."""
        settings = self.settings
        if settings.master_metrics_port is not None:
            self._metrics.start(settings.master_metrics_host, settings.master_metrics_port)
        runtimes = load_runtimes(settings.runtimes_dir)
        self.docker = await connect_docker(settings, stop)
        if self.docker is None:
            return False
        languages = await managed_languages(settings, runtimes, self.docker)
        log.info("cluster %r manages %s", settings.cluster, ", ".join(languages) or "no language")
        if not await self.store.wait_ready(stop):
            return False
        await self.store.seed_pools(languages, settings.default_replicas)
        await self.store.seed_hosts(settings.hosts)
        await self.hosts.sync(await self.store.read_hosts())
        await self.hosts.check()
        budget = fleet_budget(self.hosts, settings)
        log.info("worker budget at start: %s workers (%s)", budget.workers or "any number of", budget.reason)
        versions = VersionRecorder(self.docker, self.store, runtimes)
        self.reconciler = reconciler = Reconciler(
            settings,
            languages=languages,
            docker=self.docker,
            hosts=self.hosts,
            store=self.store,
            versions=versions,
            wakeups=self._wakeups,
        )
        self.autoscaler = reconciler.signals = Autoscaler(
            settings,
            languages=languages,
            store=self.store,
            probe=self.lag_probe,
            budget=lambda: fleet_budget(self.hosts, settings),
            pools=lambda: reconciler.statuses,
            wake=self._wakeups.put_nowait,
        )
        self._tasks.start("hosts-health", lambda: self.hosts.watch(stop))
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by until this master holds the cluster's lock, act while it does, and again, until
        ``stop`` is set."""
        while await self.leadership.acquire(stop):
            await self._act(stop)

    async def _act(self, stop: asyncio.Event) -> None:
        """One term as the active master: its loops run until ``stop`` is set or the lock is lost."""
        assert self.reconciler is not None and self.autoscaler is not None, "start() first"
        reconciler, autoscaler, settings = self.reconciler, self.autoscaler, self.settings
        reconciler.identity = self.leadership.report
        over = asyncio.Event()
        term = TaskGroup()
        held = term.start("master-lock", lambda: self.leadership.hold(over), restart=False)
        loops = [
            term.start("reconcile", lambda: reconciler.run(over)),
            term.start("autoscale", lambda: autoscaler.run(over)),
            term.start(
                "pools-watch",
                lambda: watch_pools(self.store, settings.pools_poll_s, self._wakeups.put_nowait, over),
            ),
        ]
        try:
            # A crash of the lock's check was logged by the task group: the term ends as on a lost lock.
            with contextlib.suppress(Exception):
                await first_of(asyncio.shield(held), stop.wait())
        finally:
            over.set()  # the loops end after the pass they are in
            await asyncio.wait(loops, timeout=TERM_END_TIMEOUT_S)
            await term.stop()
            reconciler.identity = None
            if not stop.is_set():  # the lock was lost (or its check crashed): let go of it for sure
                await self.leadership.release()

    async def shutdown(self) -> None:
        """Stop the background tasks, finish stops under way, optionally stop the workers (only the
        active master: a standby's exit must not touch the workers), give up the lock, close."""
        await self._tasks.stop()
        if self.reconciler is not None:
            await self.reconciler.close()
        if self.settings.stop_workers_on_exit and self.leadership.held:
            await self._stop_all_workers()
        await self.hosts.close()
        if self.docker is not None:
            await self.docker.close()
        await self.leadership.close()
        await self.lag_probe.close()
        await self.store.close()
        self._metrics.stop()
        log.info("master stopped")

    async def _stop_all_workers(self) -> None:
        adapters = [e.adapter for e in self.hosts.engines.values() if e.adapter is not None]
        found = await asyncio.gather(*(adapter.observe() for adapter in adapters), return_exceptions=True)
        work = [
            (c, adapter)
            for adapter, containers in zip(adapters, found, strict=True)
            if not isinstance(containers, BaseException)
            for c in containers
        ]
        workers = [c for c, _ in work]
        log.info("stopping all %d worker(s) of cluster %r", len(workers), self.settings.cluster)
        results = await asyncio.gather(
            *(adapter.stop_and_remove(c.id, self.settings.stop_grace_s) for c, adapter in work),
            return_exceptions=True,
        )
        for container, result in zip(workers, results, strict=True):
            if isinstance(result, Exception):
                log.error("could not stop %s: %s", container.name, result)


async def serve(settings: MasterSettings, stop: asyncio.Event) -> None:
    """Run a master until ``stop`` is set, then shut it down."""
    master = Master(settings)
    try:
        if await master.start(stop):
            await master.run(stop)
    finally:
        await master.shutdown()
