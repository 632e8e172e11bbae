"""The worker's test cache on real files: a missing file is fetched once and then served from the cache,
a cached file whose bytes changed is detected by its hash and fetched again, the cache stays within its
bytes (least recently used out first, never a running job's file), and a pool process reads the files
through the directory it opened."""

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from common.runtimes import Runtime
from schemas.jobs import JobMessage, TestCase
from schemas.verdicts import Verdict
from worker.errors import InternalError
from worker.execute import ExecConfig, execute_job
from worker.test_cache import TestCache
from worker.test_data import TestFiles, cached_name

pytestmark = pytest.mark.unit


class Store:
    """Files by SHA-256, counting the fetches (the real one reads MySQL: tests/e2e/test_problems.py)."""

    def __init__(self, *files: bytes) -> None:
        self.files = {hashlib.sha256(data).hexdigest(): data for data in files}
        self.fetched: list[str] = []

    async def fetch(self, sha: str) -> bytes | None:
        self.fetched.append(sha)
        return self.files.get(sha)


def cached(directory: Path) -> set[str]:
    """The files in the cache."""
    return {path.name for path in directory.glob("??/*")}


def case(stdin: bytes, answer: bytes) -> TestCase:
    return TestCase(
        expected_output="",
        input_sha256=hashlib.sha256(stdin).hexdigest(),
        input_size=len(stdin),
        output_sha256=hashlib.sha256(answer).hexdigest(),
        output_size=len(answer),
    )


async def test_a_file_is_fetched_once_then_read_from_the_cache(tmp_path: Path) -> None:
    store = Store(b"1 2\n", b"3\n")
    cache = TestCache(tmp_path, 1 << 20, store.fetch)
    test = case(b"1 2\n", b"3\n")
    for _ in range(3):
        async with cache.holding([test]):
            files = TestFiles.open(tmp_path)
            assert (files.input_bytes(test), files.answer_bytes(test)) == (b"1 2\n", b"3\n")
    assert cache.fetches == 2
    assert len(store.fetched) == 2


async def test_a_tampered_file_is_detected_and_fetched_again(tmp_path: Path) -> None:
    store = Store(b"input\n", b"answer\n")
    cache = TestCache(tmp_path, 1 << 20, store.fetch)
    test = case(b"input\n", b"answer\n")
    async with cache.holding([test]):
        pass
    assert test.output_sha256 is not None
    (tmp_path / cached_name(test.output_sha256)).write_bytes(b"answeR\n")  # same size, other bytes
    async with cache.holding([test]):
        assert TestFiles.open(tmp_path).answer_bytes(test) == b"answer\n"
    assert store.fetched.count(test.output_sha256) == 2
    assert cache.fetches == 3


async def test_the_cache_keeps_to_its_bytes_least_recently_used_out_first(tmp_path: Path) -> None:
    blobs = [bytes([n]) * 1000 for n in range(4)]
    store = Store(*blobs, b"")
    cache = TestCache(tmp_path, 2500, store.fetch)
    tests = [case(blob, b"") for blob in blobs]
    for test in tests[:2]:
        async with cache.holding([test]):
            pass
    first = tmp_path / cached_name(hashlib.sha256(blobs[0]).hexdigest())
    os.utime(first, (1, 1))  # long unused
    async with cache.holding([tests[2]]):
        pass
    assert not first.exists()
    assert cached(tmp_path) == {hashlib.sha256(data).hexdigest() for data in (blobs[1], blobs[2], b"")}


async def test_a_running_jobs_files_are_not_evicted_even_over_the_bound(tmp_path: Path) -> None:
    blobs = [bytes([n]) * 1000 for n in range(3)]
    store = Store(*blobs, b"")
    cache = TestCache(tmp_path, 1500, store.fetch)
    async with (
        cache.holding([case(blobs[0], b""), case(blobs[1], b"")]),
        cache.holding([case(blobs[2], b"")]),
    ):
        names = cached(tmp_path)
        assert hashlib.sha256(blobs[0]).hexdigest() in names
        assert hashlib.sha256(blobs[1]).hexdigest() in names


async def test_a_file_the_store_lacks_is_our_failure(tmp_path: Path) -> None:
    cache = TestCache(tmp_path, 1 << 20, Store().fetch)
    with pytest.raises(InternalError, match="not in the test store"):
        async with cache.holding([case(b"x", b"y")]):
            pass


async def test_a_store_answer_that_does_not_match_its_hash_is_refused(tmp_path: Path) -> None:
    async def lying(sha: str) -> bytes | None:
        return b"something else"

    with pytest.raises(InternalError, match="does not match"):
        async with TestCache(tmp_path, 1 << 20, lying).holding([case(b"x", b"y")]):
            pass


def test_a_pool_process_reads_through_the_directory_it_opened(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    test = case(b"in", b"out")
    assert test.input_sha256 is not None
    files = TestFiles.open(cache_dir)
    (cache_dir / cached_name(test.input_sha256)).parent.mkdir()
    (cache_dir / cached_name(test.input_sha256)).write_bytes(b"in")
    cache_dir.rename(tmp_path / "moved")  # the path no longer leads there; the descriptor still does
    assert files.input_bytes(test) == b"in"
    with pytest.raises(InternalError, match="cannot read"):
        files.answer_bytes(test)
    assert TestFiles().input_bytes(TestCase(stdin="inline", expected_output="")) == b"inline"


async def test_a_job_runs_on_its_cached_tests(
    tmp_path: Path, python_runtime: Runtime, exec_config: ExecConfig
) -> None:
    store = Store(b"2\n", b"4\n", b"5\n", b"11\n")
    cache = TestCache(tmp_path / "cache", 1 << 20, store.fetch)
    tests = [case(b"2\n", b"4\n"), case(b"5\n", b"11\n")]
    job = JobMessage(id=uuid.uuid4(), language="python", source="print(int(input()) * 2)", tests=tests)
    async with cache.holding(tests):
        outcome = execute_job(job, python_runtime, exec_config, test_files=TestFiles.open(tmp_path / "cache"))
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]
