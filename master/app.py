"""The master process: start-up checks, the background tasks, and shutdown.

Start: connect to Docker, pick the languages, wait for MySQL and the schema, seed ``pools``. Run: the
Docker event watcher and the reconcile loop, until SIGTERM. Stop: finish stops under way and, only when
``stop_workers_on_exit`` is set, stop this cluster's workers too; otherwise they keep serving and the next
master adopts them by their labels.
"""

import asyncio
import logging

from common.lifecycle import TaskGroup, wait_or_stop
from common.runtimes import Runtime, load_runtimes
from master.docker_adapter import DockerAdapter, connect
from master.events import DockerEvents
from master.reconciler import Reconciler
from master.settings import MasterSettings
from master.store import Store
from master.versions import VersionRecorder

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The settings ask for something that cannot work (e.g. a language without a runtime definition)."""


async def connect_docker(settings: MasterSettings, stop: asyncio.Event) -> DockerAdapter | None:
    """A Docker adapter once the daemon answers (retrying with back-off); None when ``stop`` came first."""
    delay = 0.5
    while not stop.is_set():
        try:
            client = await asyncio.to_thread(connect, settings.docker_url)
            return DockerAdapter(client, settings.cluster)
        except Exception as exc:
            log.warning("Docker daemon not reachable (%s); retrying in %.1fs", exc, delay)
        await wait_or_stop(asyncio.sleep(delay), stop)
        delay = min(delay * 2, 10.0)
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
        self.docker: DockerAdapter | None = None
        self.reconciler: Reconciler | None = None
        self._tasks = TaskGroup()

    async def start(self, stop: asyncio.Event) -> bool:
        """Everything before the first pass; False when ``stop`` was set meanwhile."""
        settings = self.settings
        runtimes = load_runtimes(settings.runtimes_dir)
        self.docker = await connect_docker(settings, stop)
        if self.docker is None:
            return False
        languages = await managed_languages(settings, runtimes, self.docker)
        log.info("cluster %r manages %s", settings.cluster, ", ".join(languages) or "no language")
        if not await self.store.wait_ready(stop):
            return False
        await self.store.seed_pools(languages, settings.default_replicas)
        wakeups: asyncio.Queue[str] = asyncio.Queue()
        versions = VersionRecorder(self.docker, self.store, runtimes)
        self.reconciler = Reconciler(
            settings,
            languages=languages,
            docker=self.docker,
            store=self.store,
            versions=versions,
            wakeups=wakeups,
        )
        events = DockerEvents(lambda: connect(settings.docker_url), settings.cluster, wakeups)
        self._tasks.start("docker-events", events.run)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Reconcile until ``stop`` is set."""
        assert self.reconciler is not None, "start() first"
        reconciler = self.reconciler
        await self._tasks.start("reconcile", lambda: reconciler.run(stop))

    async def shutdown(self) -> None:
        """Stop the background tasks, finish stops under way, optionally stop the workers, close."""
        await self._tasks.stop()
        if self.reconciler is not None:
            await self.reconciler.stopper.drain()
        if self.docker is not None:
            if self.settings.stop_workers_on_exit:
                await self._stop_all_workers(self.docker)
            await self.docker.close()
        await self.store.close()
        log.info("master stopped")

    async def _stop_all_workers(self, docker: DockerAdapter) -> None:
        workers = await docker.observe()
        log.info("stopping all %d worker(s) of cluster %r", len(workers), self.settings.cluster)
        results = await asyncio.gather(
            *(docker.stop_and_remove(c.id, self.settings.stop_grace_s) for c in workers),
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
