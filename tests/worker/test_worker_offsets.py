"""The per-partition offset tracker: commit only below the first unfinished job."""

import pytest

from worker.offsets import OffsetTracker


def test_nothing_started_nothing_to_commit() -> None:
    assert OffsetTracker[str]().committable() == {}


def test_commits_up_to_the_first_unfinished_job() -> None:
    tracker = OffsetTracker[str]()
    p0 = tracker.start("p0", 10)
    tracker.start("p0", 11)
    tracker.start("p0", 12)
    p0.finish(11)
    p0.finish(12)
    assert tracker.committable() == {"p0": 10}  # 10 still runs: committing past it would lose it
    p0.finish(10)
    assert tracker.committable() == {"p0": 13}


def test_an_unchanged_offset_is_not_committed_twice() -> None:
    tracker = OffsetTracker[str]()
    p0 = tracker.start("p0", 0)
    p0.finish(0)
    tracker.committed(tracker.committable())
    assert tracker.committable() == {}
    tracker.start("p0", 1)
    assert tracker.committable() == {}  # 1 runs; 1 is already committed
    p0.finish(1)
    assert tracker.committable() == {"p0": 2}


def test_partitions_are_independent_and_can_be_selected() -> None:
    tracker = OffsetTracker[str]()
    tracker.start("p0", 5)
    tracker.start("p1", 7).finish(7)
    assert tracker.committable() == {"p0": 5, "p1": 8}
    assert tracker.committable(["p1"]) == {"p1": 8}
    assert tracker.in_flight("p0") == 1
    assert tracker.in_flight("p1") == 0


def test_gaps_in_offsets_are_fine() -> None:
    tracker = OffsetTracker[str]()
    p0 = tracker.start("p0", 3)
    tracker.start("p0", 9)  # 4..8 were compaction or transaction markers
    p0.finish(3)
    assert tracker.committable() == {"p0": 9}
    p0.finish(9)
    assert tracker.committable() == {"p0": 10}


def test_a_job_that_outlives_its_partition_cannot_release_the_new_owners_offset() -> None:
    tracker = OffsetTracker[str]()
    old = tracker.start("p0", 0)
    tracker.forget(["p0"])  # revoked while offset 0 still ran
    tracker.start("p0", 0)  # assigned back: offset 0 was not committed, so it runs again
    old.finish(0)  # the first run ends late
    assert tracker.committable() == {"p0": 0}


def test_out_of_order_start_is_a_bug() -> None:
    tracker = OffsetTracker[str]()
    tracker.start("p0", 4)
    with pytest.raises(ValueError, match="out of order"):
        tracker.start("p0", 2)
