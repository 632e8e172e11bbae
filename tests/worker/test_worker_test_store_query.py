"""The worker's reads of the test store name columns that exist: its SQL is what SQLAlchemy builds from
the shared tables (common/tables.py, checked against the migrations)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from common.tables import test_blob_chunks, test_blobs
from worker.test_store import BLOB_QUERY, CHUNKS_QUERY

pytestmark = pytest.mark.unit


def test_the_queries_are_the_selects_built_from_the_shared_tables() -> None:
    blob = sa.select(test_blobs.c.size, test_blobs.c.chunks).where(test_blobs.c.sha256 == sa.bindparam("sha"))
    assert str(blob.compile(dialect=mysql.dialect())) == BLOB_QUERY
    c = test_blob_chunks.c
    chunks = sa.select(c.data).where(c.sha256 == sa.bindparam("sha")).order_by(c.chunk)
    assert str(chunks.compile(dialect=mysql.dialect())) == CHUNKS_QUERY
