"""The host capacity budget: how many workers the master may run at once, and which starts fit.

Pure functions on plain data, like :mod:`master.plan`.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from master.model import Action, ObservedContainer, StartWorker


@dataclass(frozen=True, slots=True)
class Budget:
    """The most workers (of every language together) that fit what the master may give them."""

    workers: int | None
    """None: no limit."""
    reason: str
    """What sets the limit, e.g. ``4096 MB of memory at 1280 MB per worker``."""

    def room(self, occupied: int) -> int | None:
        """How many more workers fit next to ``occupied`` ones (None: any number)."""
        return None if self.workers is None else max(0, self.workers - occupied)


NO_BUDGET = Budget(None, "no limit")


def worker_budget(
    *, cpus: float | None, memory_mb: int | None, worker_cpus: float, worker_memory_mb: int
) -> Budget:
    """The budget for workers of ``worker_cpus`` CPUs and ``worker_memory_mb`` each, from the CPUs and
    memory (either may be None: no limit) the master may hand out; the tighter of the two wins."""
    limits: list[tuple[int, str]] = []
    if cpus is not None:
        # A small epsilon: 3 workers of 0.1 CPU fit 0.3 CPUs although 0.3 / 0.1 < 3 in floating point.
        limits.append((math.floor(cpus / worker_cpus + 1e-9), f"{cpus:g} CPUs at {worker_cpus:g} per worker"))
    if memory_mb is not None:
        limits.append(
            (memory_mb // worker_memory_mb, f"{memory_mb} MB of memory at {worker_memory_mb} MB per worker")
        )
    if not limits:
        return NO_BUDGET
    workers, reason = min(limits)
    return Budget(workers, reason)


def occupying(containers: Iterable[ObservedContainer]) -> int:
    """Containers that hold their resources: all but the dead ones (a worker being stopped still holds
    its memory until it is gone)."""
    return sum(1 for c in containers if not c.dead)


def within_budget(
    actions: Sequence[Action], occupied: int, budget: Budget
) -> tuple[list[Action], dict[str, int]]:
    """The actions with only as many starts as fit next to ``occupied`` workers, and the number of
    starts left out per language.

    Languages share what room there is in turns (one start each, in the planner's order), so a large
    pool cannot starve a small one.
    """
    room = budget.room(occupied)
    starts = [a for a in actions if isinstance(a, StartWorker)]
    if room is None or len(starts) <= room:
        return list(actions), {}
    queues: dict[str, list[StartWorker]] = {}
    for start in starts:
        queues.setdefault(start.language, []).append(start)
    kept: list[StartWorker] = []
    while len(kept) < room:
        for queue in queues.values():
            if queue and len(kept) < room:
                kept.append(queue.pop())
    deferred = {language: len(queue) for language, queue in queues.items() if queue}
    others = [a for a in actions if not isinstance(a, StartWorker)]
    return [*others, *kept], deferred
