"""Offset bookkeeping for out-of-order job completion (pure, no Kafka).

Jobs of one partition are fetched in offset order but finish in any order. Kafka stores one committed
offset per partition ("everything before it is done"), so we may only commit up to the first job that is
still running: committing past it would lose that job if this worker died.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


@dataclass
class PartitionOffsets:
    """Offsets of one partition: started, still in flight, and what was last committed."""

    in_flight: set[int] = field(default_factory=set)
    next_offset: int | None = None
    """One past the highest offset started (Kafka's "next offset to read")."""
    committed: int | None = None

    def finish(self, offset: int) -> None:
        """The job of ``offset`` is done (its result acknowledged, or it was dead-lettered)."""
        self.in_flight.discard(offset)

    def committable(self) -> int | None:
        """The offset to commit now (all records before it are done), or None when nothing is new."""
        if self.next_offset is None:
            return None
        target = min(self.in_flight) if self.in_flight else self.next_offset
        if self.committed is not None and target <= self.committed:
            return None
        return target


class OffsetTracker(Generic[P]):
    """Per-partition trackers; ``P`` is whatever identifies a partition (aiokafka's TopicPartition)."""

    def __init__(self) -> None:
        self._partitions: dict[P, PartitionOffsets] = {}

    def start(self, partition: P, offset: int) -> PartitionOffsets:
        """A record was fetched and its job started; offsets of a partition must arrive in order.

        Returns the partition's state, to :meth:`PartitionOffsets.finish` the job on. A job that outlives
        its partition (revoked, perhaps assigned back later) thus finishes on the forgotten state and can
        never release an offset of the partition's new life."""
        state = self._partitions.setdefault(partition, PartitionOffsets())
        if state.next_offset is not None and offset < state.next_offset:
            raise ValueError(f"offset {offset} of {partition!r} started out of order")
        state.in_flight.add(offset)
        state.next_offset = offset + 1
        return state

    def in_flight(self, partition: P) -> int:
        """Jobs of ``partition`` still running."""
        state = self._partitions.get(partition)
        return len(state.in_flight) if state else 0

    def committable(self, partitions: Iterable[P] | None = None) -> dict[P, int]:
        """Offsets to commit now, for ``partitions`` (default: all), leaving out unchanged ones."""
        chosen = self._partitions if partitions is None else partitions
        result: dict[P, int] = {}
        for partition in chosen:
            state = self._partitions.get(partition)
            target = state.committable() if state else None
            if target is not None:
                result[partition] = target
        return result

    def committed(self, offsets: dict[P, int]) -> None:
        """Record that ``offsets`` were committed."""
        for partition, offset in offsets.items():
            state = self._partitions.get(partition)
            if state is not None:
                state.committed = max(offset, state.committed or 0)

    def forget(self, partitions: Iterable[P]) -> None:
        """Drop the state of partitions this worker no longer owns."""
        for partition in partitions:
            self._partitions.pop(partition, None)
