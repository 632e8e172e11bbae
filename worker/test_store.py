"""The test store as workers read it: a stored problem's test files, by SHA-256, from MySQL chunks
(``test_blobs``, ``test_blob_chunks``; written by the API) through the worker's read-only account."""

import asyncio
from typing import Any

import asyncmy

BLOB_QUERY = "SELECT test_blobs.size, test_blobs.chunks \nFROM test_blobs \nWHERE test_blobs.sha256 = %s"
"""The file's row, as SQLAlchemy compiles it from ``common.tables`` (a unit test checks)."""
CHUNKS_QUERY = (
    "SELECT test_blob_chunks.data \nFROM test_blob_chunks \n"
    "WHERE test_blob_chunks.sha256 = %s ORDER BY test_blob_chunks.chunk"
)
"""Its chunks in order, as SQLAlchemy compiles it from ``common.tables`` (a unit test checks)."""


class TestStore:
    """Fetches test files through a small pool of connections, opened on first use."""

    __test__ = False

    def __init__(self, options: dict[str, Any], *, timeout_s: float, connections: int = 2) -> None:
        self._options = options
        self._timeout_s = timeout_s
        self._connections = connections
        self._pool: asyncmy.Pool | None = None

    async def fetch(self, sha256: str) -> bytes | None:
        """The stored file ``sha256``, or None when the store has none. Raises ``OSError``,
        asyncmy's ``MySQLError`` or ``TimeoutError`` when MySQL does not answer in time."""
        if self._pool is None:
            self._pool = await asyncmy.create_pool(
                minsize=0, maxsize=self._connections, autocommit=True, **self._options
            )
        async with self._pool.acquire() as connection:
            try:
                async with connection.cursor() as cursor:
                    async with asyncio.timeout(self._timeout_s):
                        await cursor.execute(BLOB_QUERY, (sha256,))
                        row = await cursor.fetchone()
                    if row is None:
                        return None
                    size, chunks = row
                    # A large file takes a while: the time allowed grows with its chunks.
                    async with asyncio.timeout(self._timeout_s * (1 + chunks)):
                        await cursor.execute(CHUNKS_QUERY, (sha256,))
                        data = b"".join(part for (part,) in await cursor.fetchall())
            except BaseException:
                connection.close()
                raise
        return data if len(data) == size else None

    async def close(self) -> None:
        """Close the connections."""
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None
