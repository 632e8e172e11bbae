"""Offset bookkeeping for out-of-order job completion (pure, no Kafka).

Jobs of one partition are fetched in offset order but finish in any order. Kafka stores one committed
offset per partition ("everything before it is done"), so we may only commit up to the first job that is
still running: committing past it would lose that job if this worker died. Each commit also carries the
partition's delivery record (worker/deliveries.py) in its metadata.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from worker.deliveries import Deliveries

P = TypeVar("P", bound=Hashable)
Commit = tuple[int, str]
"""What to commit for one partition: the offset and its metadata (aiokafka takes this tuple as is)."""


@dataclass
class PartitionOffsets:
    """Offsets of one partition: fetched and still in flight, and what was last committed."""

    in_flight: set[int] = field(default_factory=set)
    next_offset: int | None = None
    """One past the highest offset fetched (Kafka's "next offset to read")."""
    committed: int | None = None
    committed_metadata: str = ""
    deliveries: Deliveries = field(default_factory=Deliveries)

    def start(self, offset: int) -> int:
        """The fetched job of ``offset`` is starting; returns how many times it was started before
        without finishing."""
        return self.deliveries.start(offset)

    def abandon(self, offset: int) -> None:
        """The job of ``offset`` will not start after all: take back its :meth:`start`. It stays in
        flight (its next owner runs it)."""
        self.deliveries.abandon(offset)

    def finish(self, offset: int) -> None:
        """The job of ``offset`` is done (its result acknowledged, or it was dead-lettered)."""
        self.in_flight.discard(offset)
        self.deliveries.finish(offset)

    def committable(self) -> Commit | None:
        """What to commit now (all records before the offset are done, the metadata records the jobs
        after it), or None when neither changed. The offset never moves back."""
        if self.next_offset is None:
            return None
        target = min(self.in_flight) if self.in_flight else self.next_offset
        if self.committed is not None and target < self.committed:
            return None
        metadata = self.deliveries.metadata(target)
        if target == self.committed and metadata == self.committed_metadata:
            return None
        return target, metadata


class OffsetTracker(Generic[P]):
    """Per-partition trackers; ``P`` is whatever identifies a partition (aiokafka's TopicPartition)."""

    def __init__(self) -> None:
        self._partitions: dict[P, PartitionOffsets] = {}

    def knows(self, partition: P) -> bool:
        """Whether ``partition`` has state (loaded or started) since it was last forgotten."""
        return partition in self._partitions

    def load(self, partition: P, committed: int | None, metadata: str | None) -> None:
        """Begin ``partition``'s life at this worker from what its group committed (None: nothing)."""
        self._partitions[partition] = PartitionOffsets(
            committed=committed,
            committed_metadata=metadata or "",
            deliveries=Deliveries.from_committed(committed, metadata),
        )

    def fetched(self, partition: P, offset: int) -> PartitionOffsets:
        """A record was fetched: its job is in flight (no commit passes it) but not started yet. Offsets of
        a partition must arrive in order.

        Returns the partition's state, to :meth:`PartitionOffsets.start` and :meth:`PartitionOffsets.finish`
        the job on. A job that outlives its partition (revoked, perhaps assigned back later) thus finishes
        on the forgotten state and can never release an offset of the partition's new life."""
        state = self._partitions.setdefault(partition, PartitionOffsets())
        if state.next_offset is not None and offset < state.next_offset:
            raise ValueError(f"offset {offset} of {partition!r} fetched out of order")
        state.in_flight.add(offset)
        state.next_offset = offset + 1
        return state

    def owns(self, partition: P, state: PartitionOffsets) -> bool:
        """Whether ``state`` is the current life of ``partition`` (not forgotten since)."""
        return self._partitions.get(partition) is state

    def in_flight(self, partition: P) -> int:
        """Jobs of ``partition`` still running."""
        state = self._partitions.get(partition)
        return len(state.in_flight) if state else 0

    def committable(self, partitions: Iterable[P] | None = None) -> dict[P, Commit]:
        """What to commit now, for ``partitions`` (default: all), leaving out unchanged ones."""
        chosen = self._partitions if partitions is None else partitions
        result: dict[P, Commit] = {}
        for partition in chosen:
            state = self._partitions.get(partition)
            commit = state.committable() if state else None
            if commit is not None:
                result[partition] = commit
        return result

    def committed(self, commits: dict[P, Commit]) -> None:
        """Record that ``commits`` were committed."""
        for partition, (offset, metadata) in commits.items():
            state = self._partitions.get(partition)
            if state is not None:
                state.committed = max(offset, state.committed or 0)
                state.committed_metadata = metadata

    def forget(self, partitions: Iterable[P]) -> None:
        """Drop the state of partitions this worker no longer owns."""
        for partition in partitions:
            self._partitions.pop(partition, None)
