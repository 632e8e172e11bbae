"""The reconcile loop: wait for a change, observe, plan, act, report.

A pass runs when Docker reports an event about one of our containers, when a stop finished, when a
crash-loop back-off ends, when the ``pools`` rows changed (an admin, or the autoscaler), or at the latest
every ``resync_s``. Each pass reads the desired counts afresh and hands everything to the pure
:func:`master.plan.plan_hosts`, which places each new worker on a host with room for it
(:mod:`master.placement`); the hosts' health comes from :class:`master.hosts.Hosts`.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from common.lifecycle import first_of
from master.docker_adapter import DockerAdapter
from master.failures import FailureHistory
from master.fleet import host_reports, observe_fleet
from master.hosts import Hosts
from master.images import ImageSync
from master.metrics import reconcile_actions
from master.model import Action, ObservedContainer, RemoveDead, StopWorker
from master.placement import WorkerSize
from master.plan import Backoff, plan_hosts
from master.report import MasterReport, PoolStatus, pool_status
from master.settings import MasterSettings
from master.spec import worker_name, worker_run_args
from master.stopper import Stopper
from master.store import Store
from master.versions import VersionRecorder
from schemas.hosts import HostReport

log = logging.getLogger(__name__)


class QueueSignals(Protocol):
    """What the autoscaler knows about each language's queue, for the pool reports."""

    @property
    def lags(self) -> Mapping[str, int | None]:
        """Jobs not yet done per language (None: not measurable)."""

    @property
    def notes(self) -> Mapping[str, str]:
        """Why autoscaling holds a pool below what its queue asks for."""


class Reconciler:
    """Keeps one cluster's worker pools at their desired sizes."""

    def __init__(
        self,
        settings: MasterSettings,
        *,
        languages: Sequence[str],
        docker: DockerAdapter,
        hosts: Hosts,
        store: Store,
        versions: VersionRecorder,
        wakeups: asyncio.Queue[str],
        signals: QueueSignals | None = None,
    ) -> None:
        self._settings = settings
        self._languages = list(languages)
        self._docker = docker
        """The master's own engine: its worker images are the ones every host must run."""
        self._hosts = hosts
        self._images = ImageSync(docker, {lang: settings.image_for(lang) for lang in self._languages})
        self._size = WorkerSize(settings.worker_cpus, settings.worker_footprint_mb)
        self._store = store
        self._versions = versions
        self._wakeups = wakeups
        self._backoff = Backoff(
            settings.crash_backoff_s, settings.crash_backoff_max_s, settings.crash_window_s
        )
        self._failures = FailureHistory(settings.crash_window_s)
        self._desired: dict[str, int] | None = None
        self.stopper = Stopper(
            self._adapter, settings.stop_grace_s, on_done=lambda: wakeups.put_nowait("stop done")
        )
        self.statuses: dict[str, PoolStatus] = {}
        """What the last pass reported, by language."""
        self._passed = asyncio.Condition()
        self.signals = signals
        self.identity: MasterReport | None = None
        """The active master's report of itself, while this one is it (set by the master)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Reconcile until ``stop`` is set. A failed pass (Docker unreachable...) is logged and retried."""
        failing = False
        while not stop.is_set():
            wait_s = self._settings.resync_s
            try:
                wait_s = await self.reconcile_once()
                failing = False
            except Exception as exc:
                if failing:  # the traceback was logged when the trouble began
                    log.warning("reconcile pass failed again: %s", exc)
                else:
                    log.exception("reconcile pass failed; retrying every %.1fs", wait_s)
                failing = True
            await self._wait_for_change(stop, wait_s)

    async def reconcile_once(self) -> float:
        """One pass; returns the longest time to wait before the next one."""
        now = datetime.now(UTC)
        image_ids = {
            lang: await self._docker.image_id(self._settings.image_for(lang)) for lang in self._languages
        }
        await self._record_versions(image_ids)
        desired = await self._read_desired()
        await self._sync_hosts()
        # Taken before observing: a stop that ends meanwhile leaves an exited container behind for a
        # moment, which must not pass for a worker that died on its own.
        stopping = self.stopper.stopping
        fleet = await observe_fleet(self._hosts, self._images, image_ids, self._settings)
        observed = [c for c in fleet.observed if c.cluster == self._settings.cluster]
        if desired is None:
            log.warning("desired counts unknown (MySQL unavailable): leaving the workers as they are")
            return self._settings.resync_s
        for failure in self._failures.record_dead(
            (c for c in observed if c.dead and c.id not in stopping), now
        ):
            log.warning(
                "worker %s (%s) died: exit code %s%s%s",
                failure.container_name,
                failure.language,
                failure.exit_code,
                ", OOM-killed" if failure.oom_killed else "",
                f", {failure.error}" if failure.error else "",
            )
        for leftover in fleet.leftovers:
            log.info(
                "removing %s, left over on host %s from before it went down", leftover.name, leftover.host
            )
        failure_times = self._failures.times(now)
        result = plan_hosts(
            desired,
            observed,
            fleet.hosts,
            size=self._size,
            cluster=self._settings.cluster,
            now=now,
            stopping=stopping,
            failures=failure_times,
            cannot_start={lang for lang, image_id in image_ids.items() if image_id is None},
            backoff=self._backoff,
        )
        actions = [*(RemoveDead(c) for c in fleet.leftovers), *result.actions]
        for language, problem in result.problems.items():
            log.warning("%s: %s", language, problem)
        for language, count in result.unplaced.items():
            reconcile_actions.labels(language, "start", "deferred").inc(count)
        await self._apply(actions, now)
        failure_times = self._failures.times(now)  # failed starts of this pass included
        blocked = {
            lang: self._backoff.blocked_until(failure_times.get(lang, ()), now) for lang in self._languages
        }
        await self._report(
            desired=desired,
            observed=observed,
            image_ids=image_ids,
            blocked=blocked,
            placement=result.problems,
            now=now,
        )
        await self._write_hosts(host_reports(self._hosts, fleet, now))
        next_unblock = [(until - now).total_seconds() for until in blocked.values() if until is not None]
        return min([self._settings.resync_s, *next_unblock])

    async def close(self) -> None:
        """Finish the stops under way, cancel image copies."""
        await self.stopper.drain()
        await self._images.close()

    async def wait_for_status(self, predicate: Callable[[Mapping[str, PoolStatus]], bool]) -> None:
        """Return after the first pass whose report satisfies ``predicate`` (at once if the last one does)."""
        async with self._passed:
            await self._passed.wait_for(lambda: predicate(self.statuses))

    async def _apply(self, actions: Sequence[Action], now: datetime) -> None:
        """Removals and starts happen now; stops are handed to the stopper and run in the background."""
        for action in actions:
            if isinstance(action, RemoveDead):
                docker = self._adapter(action.container.host)
                if docker is not None:
                    try:
                        logs = await docker.remove_dead(action.container.id)
                    except Exception:
                        reconcile_actions.labels(action.container.language, "remove", "failed").inc()
                        raise
                    reconcile_actions.labels(action.container.language, "remove", "ok").inc()
                    self._failures.attach_logs(action.container.id, logs)
            elif isinstance(action, StopWorker):
                self.stopper.stop(action.container)
            else:
                await self._start(action.language, action.host, now)

    async def _start(self, language: str, host: str, now: datetime) -> None:
        name = worker_name(self._settings.cluster, language)
        try:
            docker = self._adapter(host)
            if docker is None:
                raise RuntimeError(f"host {host!r} is not connected")
            await docker.start(worker_run_args(self._settings, language, name))
        except Exception as exc:  # any reason the worker did not start counts towards back-off
            log.warning("could not start a %s worker: %s", language, exc)
            self._failures.record_start_error(language, f"{type(exc).__name__}: {exc}", now)
            reconcile_actions.labels(language, "start", "failed").inc()
            return
        reconcile_actions.labels(language, "start", "ok").inc()
        log.info("started %s on host %s", name, host)

    def _adapter(self, host: str) -> DockerAdapter | None:
        engine = self._hosts.engines.get(host)
        return None if engine is None else engine.adapter

    async def _sync_hosts(self) -> None:
        """Follow the ``hosts`` rows (the last known ones while MySQL is unavailable)."""
        try:
            rows = await self._store.read_hosts()
        except SQLAlchemyError as exc:
            log.warning("could not read the hosts (using the last known): %s", exc)
            return
        await self._hosts.sync(rows)

    async def _write_hosts(self, reports: Mapping[str, HostReport]) -> None:
        try:
            await self._store.write_host_reports(reports)
        except SQLAlchemyError as exc:
            log.warning("could not write the host reports: %s", exc)

    async def _record_versions(self, image_ids: Mapping[str, str | None]) -> None:
        for language, image_id in image_ids.items():
            if image_id is None:
                continue
            try:
                await self._versions.ensure(language, image_id)
            except SQLAlchemyError as exc:
                log.warning("could not record the version of %s (retried next pass): %s", language, exc)

    async def _read_desired(self) -> dict[str, int] | None:
        """Desired counts from MySQL; the last known ones while MySQL is unavailable."""
        try:
            self._desired = await self._store.desired_replicas(self._languages)
        except SQLAlchemyError as exc:
            log.warning("could not read desired counts (using the last known): %s", exc)
        return self._desired

    async def _report(
        self,
        *,
        desired: Mapping[str, int],
        observed: Sequence[ObservedContainer],
        image_ids: Mapping[str, str | None],
        blocked: Mapping[str, datetime | None],
        placement: Mapping[str, str],
        now: datetime,
    ) -> None:
        lags = self.signals.lags if self.signals is not None else {}
        notes = {**(self.signals.notes if self.signals is not None else {}), **placement}
        statuses = {
            lang: pool_status(
                cluster=self._settings.cluster,
                image=self._settings.image_for(lang),
                image_id=image_ids[lang],
                desired=desired.get(lang, 0),
                containers=[c for c in observed if c.language == lang],
                stopping=self.stopper.stopping,
                failures=self._failures.latest(lang),
                backoff_until=blocked[lang],
                now=now,
                lag=lags.get(lang),
                capacity_note=notes.get(lang),
                master=self.identity,
            )
            for lang in self._languages
        }
        try:
            await self._store.write_status(statuses)
        except SQLAlchemyError as exc:
            log.warning("could not write pool_status: %s", exc)
        async with self._passed:
            self.statuses = statuses
            self._passed.notify_all()

    async def _wait_for_change(self, stop: asyncio.Event, wait_s: float) -> None:
        """Return on a wake-up (draining the others: one pass serves them all), after ``wait_s``, or on
        ``stop``."""
        woken = asyncio.ensure_future(self._wakeups.get())
        if await first_of(woken, stop.wait(), within_s=max(wait_s, 0.0)) == 0:
            reasons = [woken.result()]
            while not self._wakeups.empty():
                reasons.append(self._wakeups.get_nowait())
            log.debug("woken by: %s", "; ".join(reasons))
