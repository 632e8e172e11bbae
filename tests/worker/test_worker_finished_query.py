"""The worker's look-up of finished jobs reads columns that exist: its SQL is the ``SELECT`` SQLAlchemy
builds from the shared tables (common/tables.py, which the migrations are checked against), so renaming
or dropping one of them fails here rather than in a worker's first look-up."""

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from common.tables import api_keys, submissions
from worker.finished import KEY_QUERY, QUERY

pytestmark = pytest.mark.unit


def test_the_query_is_the_select_built_from_the_shared_tables() -> None:
    c = submissions.c
    # The columns in the order worker.finished.stored_result unpacks them.
    select = sa.select(c.status, c.outcome, c.last_seq, c.finished_at).where(c.id == sa.bindparam("id"))
    assert str(select.compile(dialect=mysql.dialect())) == QUERY


def test_the_key_query_is_the_select_built_from_the_shared_tables() -> None:
    c = api_keys.c
    # The columns in the order worker.finished.key_refusal unpacks them.
    select = sa.select(c.revoked_at, c.expires_at).where(c.id == sa.bindparam("id"))
    assert str(select.compile(dialect=mysql.dialect())) == KEY_QUERY
