"""A job's test data as a pool process reads it: the one place that gives a test's input bytes and
answer bytes, inline (the job's text) or from the test cache (a stored problem's files, by SHA-256,
fetched and verified before the job by :mod:`worker.test_cache`).

The cache directory is opened before the pool process mounts its private scratch space (which may hide
it), and files are read relative to that descriptor. A file whose size is not the job's is refused: the
cache changed under the job.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from schemas.jobs import TestCase
from worker.errors import InternalError


@dataclass(frozen=True, slots=True)
class TestData:
    """One test's input (the program's stdin) and expected answer."""

    __test__ = False  # not a pytest class

    input: bytes
    answer: bytes


def cached_name(sha256: str) -> str:
    """Where the file ``sha256`` is kept, relative to the cache directory (256 subdirectories)."""
    return f"{sha256[:2]}/{sha256}"


class TestFiles:
    """Reads tests' data; ``directory_fd`` is the open cache directory (None: inline tests only)."""

    __test__ = False

    def __init__(self, directory_fd: int | None = None) -> None:
        self._fd = directory_fd

    @classmethod
    def open(cls, directory: Path | None) -> "TestFiles":
        """Open ``directory`` (created when missing) for reading; None: inline tests only."""
        if directory is None:
            return cls()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(os.open(directory, os.O_RDONLY | os.O_DIRECTORY))

    def data(self, test: TestCase) -> TestData:
        """``test``'s input and answer."""
        return TestData(self.input_bytes(test), self.answer_bytes(test))

    def input_bytes(self, test: TestCase) -> bytes:
        """What the program reads on ``test``."""
        if test.input_sha256 is None or test.input_size is None:
            return test.stdin_bytes()
        return self._read(test.input_sha256, test.input_size)

    def answer_bytes(self, test: TestCase) -> bytes:
        """The expected output (the checker's ``answer``) of ``test``."""
        if test.output_sha256 is None or test.output_size is None:
            return test.expected_bytes()
        return self._read(test.output_sha256, test.output_size)

    def _read(self, sha256: str, size: int) -> bytes:
        if self._fd is None:
            raise InternalError("a test refers to the test store but this worker has no test cache")
        try:
            fd = os.open(cached_name(sha256), os.O_RDONLY, dir_fd=self._fd)
            with os.fdopen(fd, "rb") as file:
                data = file.read(size + 1)
        except OSError as exc:
            raise InternalError(f"cannot read test file {sha256} from the cache: {exc}") from exc
        if len(data) != size:
            raise InternalError(f"test file {sha256} in the cache is {len(data)} bytes, not {size}")
        return data
