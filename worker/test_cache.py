"""The worker's cache of stored test files, bounded in bytes, least recently used first out, every file
verified by its SHA-256 before each job that uses it: a missing file is fetched from the test store
(:mod:`worker.test_store`), a changed or corrupt one (tampered with, cut short) is logged, removed and
fetched again. Pool processes read the files afterwards (:mod:`worker.test_data`).

``fetches`` counts the files fetched since start-up (also ``executioner_worker_test_fetches_total``).
"""

import asyncio
import contextlib
import hashlib
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from schemas.jobs import TestCase
from worker.errors import InternalError
from worker.metrics import test_fetches, test_refetches
from worker.test_data import cached_name

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[bytes | None]]
"""The store's read of one file by SHA-256 (None: not stored)."""
_HASH_BLOCK = 1024 * 1024


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of the file at ``path``, or None when there is none."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while block := file.read(_HASH_BLOCK):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


class TestCache:
    """Test files under ``directory``, at most ``max_bytes`` of them beyond what one job needs."""

    __test__ = False

    def __init__(self, directory: Path, max_bytes: int, fetch: Fetch) -> None:
        self.directory = directory
        self._max_bytes = max_bytes
        self._fetch = fetch
        self._locks: dict[str, asyncio.Lock] = {}
        self._sizes: dict[str, int] = {}
        self._in_use: Counter[str] = Counter()
        """Files of the jobs running now: never evicted."""
        self.fetches = 0
        directory.mkdir(parents=True, exist_ok=True)
        for path in directory.glob("??/*"):
            self._sizes[path.name] = path.stat().st_size

    @contextlib.asynccontextmanager
    async def holding(self, tests: Sequence[TestCase]) -> AsyncIterator[None]:
        """Make every file ``tests`` refer to present and intact, and keep them while the block runs (a
        job's run). :class:`InternalError` when one cannot be had (the store lacks it, MySQL does not
        answer): the job is retried, then ``internal_error``."""
        needed = dict(part for test in tests for part in test.referenced)
        self._in_use.update(needed.keys())
        try:
            for sha, size in needed.items():
                async with self._locks.setdefault(sha, asyncio.Lock()):
                    await self._ensure_one(sha, size)
            self._evict()
            yield
        finally:
            self._in_use.subtract(needed.keys())
            self._in_use += Counter()  # drops the files no job holds any more

    async def _ensure_one(self, sha: str, size: int) -> None:
        path = self.directory / cached_name(sha)
        found = await asyncio.to_thread(file_sha256, path)
        if found == sha:
            os.utime(path)  # its last use: the eviction order
            return
        if found is not None:
            log.warning("cached test file %s failed its hash check (now %s): fetching it again", sha, found)
            test_refetches.inc()
        try:
            data = await self._fetch(sha)
        except Exception as exc:  # MySQL down or slow: our failure, retried
            raise InternalError(f"cannot fetch test file {sha} from the test store: {exc}") from exc
        if data is None:
            raise InternalError(f"test file {sha} is not in the test store")
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
            raise InternalError(f"test file {sha} from the test store does not match its hash and size")
        await asyncio.to_thread(_write_atomically, path, data)
        self._sizes[sha] = size
        self.fetches += 1
        test_fetches.inc()

    def _evict(self) -> None:
        """Remove least recently used files (not those of running jobs) while over ``max_bytes``."""
        total = sum(self._sizes.values())
        if total <= self._max_bytes:
            return
        candidates = []
        for sha in self._sizes.keys() - self._in_use.keys():
            with contextlib.suppress(FileNotFoundError):
                candidates.append(((self.directory / cached_name(sha)).stat().st_mtime, sha))
        for _, sha in sorted(candidates):
            if total <= self._max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                (self.directory / cached_name(sha)).unlink()
            total -= self._sizes.pop(sha)
            self._locks.pop(sha, None)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
