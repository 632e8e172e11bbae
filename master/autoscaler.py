"""The autoscaling loop: every ``autoscale_interval_s``, measure each queue's lag, let the pure
:func:`master.autoscale.autoscale` step size the autoscaled pools, and store their new desired counts in
``pools.replicas`` (where the reconcile loop, the admin API and a successor master all find them).

Lag is measured for every pool, autoscaled or not, since the pool status reports it.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from common.lifecycle import sleep_or_stop
from master.autoscale import AutoscalePolicy, AutoscaleState, autoscale
from master.capacity import Budget
from master.lag import LagProbe
from master.metrics import autoscaler_decisions
from master.model import DEAD_STATES
from master.settings import MasterSettings
from master.store import PoolConfig, Store
from schemas.pools import PoolStatus

log = logging.getLogger(__name__)


class Autoscaler:
    """Owns the lag readings and each autoscaled pool's :class:`AutoscaleState`."""

    def __init__(
        self,
        settings: MasterSettings,
        *,
        languages: Sequence[str],
        store: Store,
        probe: LagProbe,
        budget: Callable[[], Budget],
        pools: Callable[[], Mapping[str, PoolStatus]],
        wake: Callable[[str], None],
    ) -> None:
        self._interval_s = settings.autoscale_interval_s
        self._policy = AutoscalePolicy(
            target_lag=settings.autoscale_target_lag,
            up_observations=settings.autoscale_up_observations,
            down_cooldown_s=settings.autoscale_down_cooldown_s,
        )
        self._languages = list(languages)
        self._store = store
        self._probe = probe
        self._budget = budget
        """Asked at every observation: the hosts that take workers change (added, drained, down)."""
        self._pools = pools
        self._wake = wake
        self._states: dict[str, AutoscaleState] = {}
        self._kafka_failing = False
        self.lags: dict[str, int | None] = {}
        """The last lag measured per language; None while Kafka cannot be asked."""
        self.notes: dict[str, str] = {}
        """Per language: why autoscaling holds the pool below what its queue asks for."""

    async def run(self, stop: asyncio.Event) -> None:
        """Observe every interval until ``stop`` is set."""
        while not stop.is_set():
            await self.observe_once(datetime.now(UTC))
            await sleep_or_stop(self._interval_s, stop)

    async def observe_once(self, now: datetime) -> None:
        """One observation: measure, decide, store."""
        await self._measure()
        try:
            configs = await self._store.pool_configs(self._languages)
        except SQLAlchemyError as exc:
            log.warning("could not read the pools (autoscaling skips this observation): %s", exc)
            return
        statuses = self._pools()
        budget = self._budget()
        room = budget.room(sum(_occupying(s) for s in statuses.values()))
        for language, config in sorted(configs.items()):
            if not config.autoscale:
                self._states.pop(language, None)
                self.notes.pop(language, None)
                continue
            own = _occupying(statuses[language]) if language in statuses else 0
            replicas = self._decide(config, None if room is None else own + room, budget, now)
            if room is not None and replicas > config.replicas:
                room = max(0, room - (replicas - config.replicas))
            if replicas != config.replicas:
                await self._store_replicas(config, replicas)

    async def _measure(self) -> None:
        lags: dict[str, int | None]
        try:
            measured = await self._probe.measure(self._languages)
        except (KafkaError, OSError, TimeoutError) as exc:
            if not self._kafka_failing:
                log.warning("cannot measure queue lag (Kafka: %s); autoscaling waits", exc)
            self._kafka_failing = True
            lags = dict.fromkeys(self._languages)
        else:
            if self._kafka_failing:
                log.info("queue lag measurable again")
            self._kafka_failing = False
            lags = {language: measured.get(language, 0) for language in self._languages}
        if lags != self.lags:  # a pass reports it now, rather than up to resync_s later
            self._wake("queue lag changed")
        self.lags = lags

    def _decide(self, config: PoolConfig, capacity: int | None, budget: Budget, now: datetime) -> int:
        minimum, maximum = config.bounds
        decision = autoscale(
            current=config.replicas,
            lag=self.lags.get(config.language),
            minimum=minimum,
            maximum=maximum,
            capacity=capacity,
            policy=self._policy,
            state=self._states.get(config.language, AutoscaleState()),
            now=now,
        )
        self._states[config.language] = decision.state
        if decision.capped:
            autoscaler_decisions.labels(config.language, "capped").inc()
            self.notes[config.language] = (
                f"host capacity: the queue asks for {decision.wanted} workers, the budget "
                f"({budget.reason}) leaves room for {decision.replicas}"
            )
        else:
            self.notes.pop(config.language, None)
        return decision.replicas

    async def _store_replicas(self, config: PoolConfig, replicas: int) -> None:
        try:
            stored = await self._store.set_autoscaled_replicas(config, replicas)
        except SQLAlchemyError as exc:
            log.warning("could not store the new size of the %s pool: %s", config.language, exc)
            return
        if not stored:
            log.info("the %s pool changed meanwhile; deciding again next time", config.language)
            self._states.pop(config.language, None)
            return
        direction = "up" if replicas > config.replicas else "down"
        autoscaler_decisions.labels(config.language, direction).inc()
        log.info(
            "autoscaling %s: %d -> %d workers (lag %s)",
            config.language,
            config.replicas,
            replicas,
            self.lags.get(config.language),
        )
        self._wake(f"autoscaled {config.language} to {replicas}")


def _occupying(status: PoolStatus) -> int:
    """Containers of a reported pool that hold their resources: all but the dead ones (one being stopped
    holds its memory until it is gone)."""
    return sum(1 for c in status.containers if c.state not in DEAD_STATES)
