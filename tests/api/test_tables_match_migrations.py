"""api/db/tables.py says what the migrations create: after upgrading a fresh database, Alembic's
comparison of the two finds nothing to change."""

from collections.abc import Awaitable, Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from api.db.migrate import migrate
from api.db.tables import metadata
from api.settings import default_migrations_dir


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
