"""Delivery counts and their encoding in committed-offset metadata (pure)."""

from worker.deliveries import MAX_METADATA_CHARS, Deliveries, decode, encode


def test_encoding_round_trips_relative_to_the_base() -> None:
    starts = {1_000_000_007: 1, 1_000_000_000: 3, 1_000_000_002: 2}
    text = encode(starts, 1_000_000_000)
    assert text == "d1@1000000000:0=3,2=2,7=1"
    assert decode(text) == starts


def test_nothing_to_record_is_an_empty_string() -> None:
    assert encode({}, 5) == ""
    assert encode({3: 2}, 5) == ""  # below the base: done
    assert decode("") == {} and decode(None) == {}


def test_foreign_or_damaged_metadata_reads_as_no_record() -> None:
    for text in ("some other tool", "d1@", "d1@5:", "d1@5:0=1,", "d1@x:0=1", "d2@5:0=1"):
        assert decode(text) == {}, text


def test_the_encoding_is_bounded_and_keeps_the_most_suspicious_entries() -> None:
    starts = {offset: 1 for offset in range(10_000)} | {9_999: 3, 5_000: 2}
    text = encode(starts, 0)
    assert len(text) <= MAX_METADATA_CHARS
    kept = decode(text)
    assert kept[9_999] == 3 and kept[5_000] == 2
    assert 100 < len(kept) < len(starts)
    assert min(offset for offset, count in kept.items() if count == 1) == 0  # the lowest offsets first
    # A pool's worth of jobs (64 running at once, far into the partition) fits entirely.
    pool = {10**12 + offset: 2 for offset in range(64)}
    assert decode(encode(pool, 10**12)) == pool


def test_each_start_counts_until_the_job_finishes() -> None:
    deliveries = Deliveries()
    assert deliveries.start(7) == 0
    assert deliveries.start(7) == 1  # started again without finishing: a worker died meanwhile
    assert deliveries.start(8) == 0
    deliveries.finish(8)
    assert deliveries.metadata(7) == "d1@7:0=2"
    deliveries.finish(7)
    assert deliveries.metadata(9) == ""


def test_entries_below_the_committed_offset_are_done() -> None:
    deliveries = Deliveries.from_committed(12, "d1@10:0=2,1=1,3=2,5=1")
    assert deliveries.starts == {13: 2, 15: 1}
    assert deliveries.metadata(14) == "d1@14:1=1"
    assert deliveries.starts == {15: 1}
