"""The content-addressed test store: each distinct test file once, in MySQL, as chunks below MySQL's
packet limit (docs/problems.md says why MySQL). Workers read it with their read-only account
(worker/test_cache.py); the API writes it here, inside the transaction that adds the version, so a
version never names a file that is not stored."""

import hashlib

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from api.lib.clock import utcnow
from common.tables import test_blob_chunks, test_blobs

CHUNK_BYTES = 1024 * 1024
"""Bytes per chunk row: far below MariaDB's default 16 MiB ``max_allowed_packet``."""


async def put_blob(conn: AsyncConnection, data: bytes) -> tuple[str, int]:
    """Store ``data`` unless a file with its hash is stored already; its (sha256 hex, size)."""
    sha = hashlib.sha256(data).hexdigest()
    if (await conn.execute(sa.select(test_blobs.c.size).where(test_blobs.c.sha256 == sha))).first():
        return sha, len(data)
    chunks = [data[at : at + CHUNK_BYTES] for at in range(0, len(data), CHUNK_BYTES)] or [b""]
    for number, chunk in enumerate(chunks):
        # IGNORE: another request may store the same file at the same moment; either copy is it.
        insert = test_blob_chunks.insert().prefix_with("IGNORE", dialect="mysql")
        await conn.execute(insert.values(sha256=sha, chunk=number, data=chunk))
    await conn.execute(
        test_blobs.insert()
        .prefix_with("IGNORE", dialect="mysql")
        .values(sha256=sha, size=len(data), chunks=len(chunks), created_at=utcnow())
    )
    return sha, len(data)


async def read_blob(conn: AsyncConnection, sha: str) -> bytes | None:
    """The stored file ``sha``, or None."""
    if not (await conn.execute(sa.select(test_blobs.c.size).where(test_blobs.c.sha256 == sha))).first():
        return None
    query = sa.select(test_blob_chunks.c.data).where(test_blob_chunks.c.sha256 == sha)
    rows = (await conn.execute(query.order_by(test_blob_chunks.c.chunk))).all()
    return b"".join(row.data for row in rows)
