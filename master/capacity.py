"""The host capacity budget: how many workers the master may run at once (the autoscaler's cap,
master/fleet.py's :func:`~master.fleet.fleet_budget`).

Plain data, like :mod:`master.plan`.
"""

from dataclasses import dataclass


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
