"""The per-partition offset tracker: commit only below the first unfinished job, with the delivery
record of the jobs above it as metadata."""

import pytest

from worker.deliveries import decode
from worker.offsets import Commit, OffsetTracker


def offsets(commits: dict[str, Commit]) -> dict[str, int]:
    return {partition: offset for partition, (offset, _) in commits.items()}


def test_nothing_started_nothing_to_commit() -> None:
    assert OffsetTracker[str]().committable() == {}


def test_commits_up_to_the_first_unfinished_job() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = tracker.start("p0", 10)
    tracker.start("p0", 11)
    tracker.start("p0", 12)
    p0.finish(11)
    p0.finish(12)
    assert offsets(tracker.committable()) == {"p0": 10}  # 10 still runs: committing past it would lose it
    p0.finish(10)
    assert offsets(tracker.committable()) == {"p0": 13}


def test_an_unchanged_commit_is_not_made_twice() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = tracker.start("p0", 0)
    p0.finish(0)
    tracker.committed(tracker.committable())
    assert tracker.committable() == {}
    tracker.start("p0", 1)
    # 1 runs and 1 is already committed, but the record of its start is new: committed at the same offset.
    assert tracker.committable() == {"p0": (1, "d1@1:0=1")}
    tracker.committed(tracker.committable())
    assert tracker.committable() == {}
    p0.finish(1)
    assert tracker.committable() == {"p0": (2, "")}


def test_partitions_are_independent_and_can_be_selected() -> None:
    tracker = OffsetTracker[str]()
    tracker.start("p0", 5)
    tracker.start("p1", 7)[0].finish(7)
    assert offsets(tracker.committable()) == {"p0": 5, "p1": 8}
    assert offsets(tracker.committable(["p1"])) == {"p1": 8}
    assert tracker.in_flight("p0") == 1
    assert tracker.in_flight("p1") == 0


def test_gaps_in_offsets_are_fine() -> None:
    tracker = OffsetTracker[str]()
    p0, _ = tracker.start("p0", 3)
    tracker.start("p0", 9)  # 4..8 were compaction or transaction markers
    p0.finish(3)
    assert offsets(tracker.committable()) == {"p0": 9}
    p0.finish(9)
    assert offsets(tracker.committable()) == {"p0": 10}


def test_a_job_that_outlives_its_partition_cannot_release_the_new_owners_offset() -> None:
    tracker = OffsetTracker[str]()
    old, _ = tracker.start("p0", 0)
    tracker.forget(["p0"])  # revoked while offset 0 still ran
    tracker.start("p0", 0)  # assigned back: offset 0 was not committed, so it runs again
    old.finish(0)  # the first run ends late
    assert offsets(tracker.committable()) == {"p0": 0}


def test_out_of_order_start_is_a_bug() -> None:
    tracker = OffsetTracker[str]()
    tracker.start("p0", 4)
    with pytest.raises(ValueError, match="out of order"):
        tracker.start("p0", 2)


def test_every_commit_records_the_starts_of_the_jobs_still_running() -> None:
    tracker = OffsetTracker[str]()
    p0, before = tracker.start("p0", 20)
    assert before == 0
    tracker.start("p0", 21)
    tracker.start("p0", 22)
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
    p0, before = tracker.start("p0", 40)
    assert before == 2
    assert tracker.start("p0", 41)[1] == 0
    assert tracker.start("p0", 42)[1] == 2
    ((offset, metadata),) = tracker.committable().values()
    assert (offset, decode(metadata)) == (40, {40: 3, 41: 1, 42: 3})
    p0.finish(40)
    assert offsets(tracker.committable()) == {"p0": 41}


def test_a_partition_never_committed_loads_empty() -> None:
    tracker = OffsetTracker[str]()
    tracker.load("p0", None, "")
    assert tracker.start("p0", 0)[1] == 0
    assert tracker.committable() == {"p0": (0, "d1@0:0=1")}
