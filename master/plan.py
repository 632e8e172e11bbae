"""The reconcile step, as a pure function: desired counts and observed containers in, actions out.

Nothing here talks to Docker or MySQL, so every decision the master makes is unit-tested on plain data.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from master.model import Action, ObservedContainer, RemoveDead, StartWorker, StopWorker
from master.placement import DRAINING, UNREACHABLE, UP, HostView, WorkerSize, place


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off for a language whose workers keep failing (a crash loop)."""

    base_s: float = 1.0
    max_s: float = 300.0
    window_s: float = 600.0
    """Failures older than this no longer count."""

    def delay(self, failures: int) -> timedelta:
        """How long to wait after the last of ``failures`` recent failures before starting again."""
        if failures <= 0:
            return timedelta(0)
        return timedelta(seconds=min(self.base_s * 2 ** (failures - 1), self.max_s))

    def recent(self, failures: Iterable[datetime], now: datetime) -> list[datetime]:
        """The failure times inside the window, oldest first."""
        horizon = now - timedelta(seconds=self.window_s)
        return sorted(at for at in failures if at >= horizon)

    def blocked_until(self, failures: Iterable[datetime], now: datetime) -> datetime | None:
        """When starts may resume, or None when they may now."""
        recent = self.recent(failures, now)
        if not recent:
            return None
        until = recent[-1] + self.delay(len(recent))
        return until if until > now else None


def plan(
    desired: Mapping[str, int],
    observed: Sequence[ObservedContainer],
    *,
    cluster: str,
    now: datetime,
    stopping: Collection[str] = frozenset(),
    failures: Mapping[str, Sequence[datetime]] | None = None,
    cannot_start: Collection[str] = frozenset(),
    backoff: Backoff = Backoff(),
) -> list[Action]:
    """The actions that move the observed containers of ``cluster`` towards ``desired``.

    * ``observed``: containers as Docker reports them; other clusters' are ignored.
    * ``stopping``: ids of containers already being stopped; neither counted nor stopped again.
    * ``failures``: times of recent worker failures per language, including the dead containers in
      ``observed``; while they back a language off, none of its workers is started.
    * ``cannot_start``: languages whose workers cannot be started now (e.g. the image is missing).

    Dead containers are removed; a language with too few live workers gets new ones, one with too many
    loses its youngest first (the older ones have shown they work);
    a language nobody asked for (absent from ``desired``) has zero desired.
    """
    ours = [c for c in observed if c.cluster == cluster]
    actions: list[Action] = [RemoveDead(c) for c in ours if c.dead and c.id not in stopping]
    for language in sorted(set(desired) | {c.language for c in ours}):
        live = [c for c in ours if c.language == language and c.live and c.id not in stopping]
        want = max(0, desired.get(language, 0))
        if len(live) > want:
            actions.extend(StopWorker(c) for c in _stop_order(live)[: len(live) - want])
        elif (
            len(live) < want
            and language not in cannot_start
            and backoff.blocked_until((failures or {}).get(language, ()), now) is None
        ):
            actions.extend(StartWorker(language) for _ in range(want - len(live)))
    return actions


def _stop_order(live: Sequence[ObservedContainer]) -> list[ObservedContainer]:
    """Surplus workers to stop first: ones not running (paused, restarting), then the youngest."""
    by_youngest = sorted(live, key=lambda c: c.age_key, reverse=True)
    return sorted(by_youngest, key=lambda c: c.state != "running", reverse=True)


@dataclass(frozen=True, slots=True)
class HostPlan:
    """The actions of one pass, every start placed on a host, and why a language is short of them."""

    actions: list[Action]
    problems: dict[str, str]
    unplaced: dict[str, int]
    """How many of each language's starts fit on no up host (see ``problems`` for why)."""


def plan_hosts(
    desired: Mapping[str, int],
    observed: Sequence[ObservedContainer],
    hosts: Sequence[HostView],
    *,
    size: WorkerSize,
    cluster: str,
    now: datetime,
    stopping: Collection[str] = frozenset(),
    failures: Mapping[str, Sequence[datetime]] | None = None,
    cannot_start: Collection[str] = frozenset(),
    backoff: Backoff = Backoff(),
) -> HostPlan:
    """:func:`plan` over several hosts, then :func:`master.placement.place` for the starts.

    * Containers on an ``up`` host are planned as on a single host.
    * On an ``unreachable`` host (not answering for less than the down delay) the live containers last
      seen still count towards their language, and nothing is done to them or placed there.
    * On a ``down`` host nothing counts: its workers are started elsewhere. When it answers again its
      containers are planned like any others, so a surplus is stopped, never kept twice.
    * On a ``draining`` host, live workers count only until their replacements run on up hosts: each
      pass stops as many of them as the up hosts' running workers make surplus (start first, then drain).
    """
    state = {h.name: h.state for h in hosts}
    ours = [c for c in observed if c.cluster == cluster]
    on_up = [c for c in ours if state.get(c.host) == UP]
    held = Counter(c.language for c in ours if state.get(c.host) == UNREACHABLE and c.live)
    wanted = {lang: max(0, count - held[lang]) for lang, count in desired.items()}
    actions = plan(
        wanted,
        on_up,
        cluster=cluster,
        now=now,
        stopping=stopping,
        failures=failures,
        cannot_start=cannot_start,
        backoff=backoff,
    )
    draining = [c for c in ours if state.get(c.host) == DRAINING and c.id not in stopping]
    actions.extend(RemoveDead(c) for c in draining if c.dead)
    for language in sorted({c.language for c in draining}):
        moving = [c for c in draining if c.language == language and c.live]
        settled = sum(
            1 for c in on_up if c.language == language and c.state == "running" and c.id not in stopping
        )
        surplus = settled + len(moving) - wanted.get(language, 0)
        actions.extend(StopWorker(c) for c in _stop_order(moving)[: max(0, surplus)])
    starts = Counter(a.language for a in actions if isinstance(a, StartWorker))
    placement = place(starts, hosts, ours, size)
    others = [a for a in actions if not isinstance(a, StartWorker)]
    return HostPlan([*others, *placement.starts], placement.problems, placement.unplaced)
