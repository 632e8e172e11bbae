"""New outbox rows handed to this process's relay in memory, so an idle system publishes a submission
without a claim round (a transaction of its own, about two milliseconds before the job reaches Kafka).

The request that stores a submission inserts its outbox row already leased to the local relay
(:meth:`Handoffs.lease`) and, once committed, hands the row over (:meth:`Handoffs.hand_over`). The
guarantees of :mod:`api.outbox.leases` hold unchanged: the row is in MySQL, leased on MySQL's clock,
so if this process dies before publishing it, another relay claims it when the lease ends. Rows that
waited in memory too long for their lease to outlast a publish are given back instead of published.
"""

import time
from collections import deque
from dataclasses import dataclass

from api.outbox.leases import OutboxRecord


@dataclass(frozen=True, slots=True)
class RowLease:
    """Whom a new outbox row is leased to, and for how long from its insert (on MySQL's clock)."""

    owner: str
    lease_s: float


class Handoffs:
    """The rows handed to one relay and not yet taken, oldest first, at most ``limit`` of them."""

    def __init__(self, owner: str, *, lease_s: float, fresh_for_s: float, limit: int) -> None:
        self._lease = RowLease(owner, lease_s)
        self._fresh_for_s = fresh_for_s
        self._limit = limit
        self._closed = False
        self._waiting: deque[tuple[float, OutboxRecord]] = deque()

    def lease(self) -> RowLease | None:
        """The lease for a row about to be inserted; None when the relay takes no more (it is stopping,
        or ``limit`` rows already wait): then the row goes in free and the relay's claim finds it."""
        if self._closed or len(self._waiting) >= self._limit:
            return None
        return self._lease

    def hand_over(self, record: OutboxRecord) -> None:
        """Give the relay ``record``, inserted under :meth:`lease` and committed. After :meth:`close`
        the row is left to its lease: another relay, or this one's successor, claims it when it ends."""
        if not self._closed:
            self._waiting.append((time.monotonic(), record))

    def take(self, limit: int) -> tuple[list[OutboxRecord], list[OutboxRecord]]:
        """Up to ``limit`` waiting rows: those fresh enough to publish, and those to give back (their
        lease may end before a publish would)."""
        oldest_fresh = time.monotonic() - self._fresh_for_s
        fresh: list[OutboxRecord] = []
        stale: list[OutboxRecord] = []
        while self._waiting and len(fresh) + len(stale) < limit:
            handed_at, record = self._waiting.popleft()
            (fresh if handed_at >= oldest_fresh else stale).append(record)
        return fresh, stale

    def close(self) -> list[OutboxRecord]:
        """Take no more rows; the ones still waiting, to give back."""
        self._closed = True
        left = [record for _, record in self._waiting]
        self._waiting.clear()
        return left

    def __len__(self) -> int:
        return len(self._waiting)
