"""The process's one async SQLAlchemy engine (asyncmy driver)."""

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.settings import ApiSettings


def make_engine(settings: ApiSettings) -> AsyncEngine:
    """An engine for ``settings.database_url``, sized by ``settings.db_pool_size``."""
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # MySQL drops idle connections (wait_timeout); check before use and recycle well before that.
        pool_pre_ping=True,
        pool_recycle=1800,
    )


async def database_ok(engine: AsyncEngine, timeout_s: float = 2.0) -> bool:
    """Whether MySQL answers ``SELECT 1`` within ``timeout_s``."""

    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout_s)
    except (TimeoutError, SQLAlchemyError, OSError):
        return False
    return True
