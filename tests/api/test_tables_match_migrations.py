"""common/tables.py says what the migrations create on a real MariaDB: after upgrading a fresh database,
Alembic's autogenerate comparison with the reflected schema finds nothing to change.

tests/common/test_tables_match_migrations.py checks the same without a database (a unit test); this one
also sees what the server made of the DDL (its own type names, defaults and index reflection)."""

from collections.abc import Awaitable, Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from api.db.migrate import migrate
from api.settings import default_migrations_dir
from common.tables import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_tables_match_the_migrated_schema(new_database: Callable[[], Awaitable[str]]) -> None:
    engine = create_async_engine(await new_database())
    try:
        await migrate(engine, default_migrations_dir())
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []
