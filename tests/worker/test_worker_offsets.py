"""The per-partition offset tracker: commit only below the first unfinished job, with the delivery
record of the jobs above it as metadata."""

import pytest

from worker.deliveries import decode
from worker.offsets import Commit, OffsetTracker, PartitionOffsets

pytestmark = pytest.mark.unit


def offsets(commits: dict[str, Commit]) -> dict[str, int]:
    return {partition: offset for partition, (offset, _) in commits.items()}


def start(tracker: OffsetTracker[str], partition: str, offset: int) -> tuple[PartitionOffsets, int]:
    """Fetch and start one job, as the consumer does; its state and how often it was started before."""
    state = tracker.fetched(partition, offset)
    return state, state.start(offset)


def test_nothing_started_nothing_to_commit() -> None:
    assert OffsetTracker[str]().committable() == {}


def test_commits_up_to_the_first_unfinished_job() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = start(tracker, "p0", 10)
    start(tracker, "p0", 11)
    start(tracker, "p0", 12)
    p0.finish(11)
    p0.finish(12)
    assert offsets(tracker.committable()) == {"p0": 10}  # 10 still runs: committing past it would lose it
    p0.finish(10)
    assert offsets(tracker.committable()) == {"p0": 13}


def test_an_unchanged_commit_is_not_made_twice() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = start(tracker, "p0", 0)
    p0.finish(0)
    tracker.committed(tracker.committable())
    assert tracker.committable() == {}
    start(tracker, "p0", 1)
    # 1 runs and 1 is already committed, but the record of its start is new: committed at the same offset.
    assert tracker.committable() == {"p0": (1, "d1@1:0=1")}
    tracker.committed(tracker.committable())
    assert tracker.committable() == {}
    p0.finish(1)
    assert tracker.committable() == {"p0": (2, "")}


def test_partitions_are_independent_and_can_be_selected() -> None:
    tracker = OffsetTracker[str]()
    start(tracker, "p0", 5)
    start(tracker, "p1", 7)[0].finish(7)
    assert offsets(tracker.committable()) == {"p0": 5, "p1": 8}
    assert offsets(tracker.committable(["p1"])) == {"p1": 8}
    assert tracker.in_flight("p0") == 1
    assert tracker.in_flight("p1") == 0


def test_gaps_in_offsets_are_fine() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = start(tracker, "p0", 3)
    start(tracker, "p0", 9)  # 4..8 were compaction or transaction markers
    p0.finish(3)
    assert offsets(tracker.committable()) == {"p0": 9}
    p0.finish(9)
    assert offsets(tracker.committable()) == {"p0": 10}


def test_a_job_that_outlives_its_partition_cannot_release_the_new_owners_offset() -> None:
    tracker = OffsetTracker[str]()
    old, _ = start(tracker, "p0", 0)
    tracker.forget(["p0"])  # revoked while offset 0 still ran
    start(tracker, "p0", 0)  # assigned back: offset 0 was not committed, so it runs again
    old.finish(0)  # the first run ends late
    assert offsets(tracker.committable()) == {"p0": 0}


def test_out_of_order_fetch_is_a_bug() -> None:
    tracker = OffsetTracker[str]()
    tracker.fetched("p0", 4)
    with pytest.raises(ValueError, match="out of order"):
        tracker.fetched("p0", 2)


def test_a_fetched_job_holds_the_offset_but_is_counted_only_once_started() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = start(tracker, "p0", 5)
    tracker.fetched("p0", 6)  # prefetched: waits for a free pool slot
    p0.finish(5)
    assert tracker.committable() == {"p0": (6, "")}
    assert p0.start(6) == 0
    assert tracker.committable() == {"p0": (6, "d1@6:0=1")}


def test_an_abandoned_start_is_taken_back_and_the_job_stays_in_flight() -> None:
    tracker = OffsetTracker[str]()
    tracker.load("p0", 3, "d1@3:0=2")
    p0 = tracker.fetched("p0", 3)
    assert p0.start(3) == 2
    p0.abandon(3)  # e.g. draining before the job could start
    assert tracker.committable() == {}  # offset 3 and its two earlier starts, as committed
    assert p0.start(3) == 2


def test_owns_tells_a_forgotten_life_from_the_current_one() -> None:
    tracker = OffsetTracker[str]()
    old = tracker.fetched("p0", 0)
    assert tracker.owns("p0", old)
    tracker.forget(["p0"])
    assert not tracker.owns("p0", old)
    assert tracker.owns("p0", tracker.fetched("p0", 0))


def test_every_commit_records_the_starts_of_the_jobs_still_running() -> None:
    tracker = OffsetTracker[str]()
    p0, before = start(tracker, "p0", 20)
    assert before == 0
    start(tracker, "p0", 21)
    start(tracker, "p0", 22)
    ((offset, metadata),) = tracker.committable().values()
    assert (offset, decode(metadata)) == (20, {20: 1, 21: 1, 22: 1})
    tracker.committed({"p0": (offset, metadata)})
    p0.finish(21)  # out of order: the offset stays, but 21 is no suspect any more
    ((offset, metadata),) = tracker.committable().values()
    assert (offset, decode(metadata)) == (20, {20: 1, 22: 1})
    p0.finish(20)
    ((offset, metadata),) = tracker.committable().values()
    assert (offset, decode(metadata)) == (22, {22: 1})


def test_a_loaded_partition_continues_the_earlier_owners_counts() -> None:
    tracker = OffsetTracker[str]()
    assert not tracker.knows("p0")
    # The earlier owner committed 40 while 40 and 42 ran (each started twice by then); 41 had finished.
    tracker.load("p0", 40, "d1@40:0=2,2=2")
    assert tracker.knows("p0")
    assert tracker.committable() == {}  # loading changes nothing in Kafka
    p0, before = start(tracker, "p0", 40)
    assert before == 2
    assert start(tracker, "p0", 41)[1] == 0
    assert start(tracker, "p0", 42)[1] == 2
    ((offset, metadata),) = tracker.committable().values()
    assert (offset, decode(metadata)) == (40, {40: 3, 41: 1, 42: 3})
    p0.finish(40)
    assert offsets(tracker.committable()) == {"p0": 41}


def test_a_partition_never_committed_loads_empty() -> None:
    tracker = OffsetTracker[str]()
    tracker.load("p0", None, "")
    assert start(tracker, "p0", 0)[1] == 0
    assert tracker.committable() == {"p0": (0, "d1@0:0=1")}
