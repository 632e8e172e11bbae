"""Apply the Alembic migrations at start-up, safely when several API replicas start at once."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import RetryCallState

from common.backoff import doubling, failure, retrying

log = logging.getLogger(__name__)

LOCK_NAME = "executioner-migrate"


async def wait_for_database(engine: AsyncEngine, timeout_s: float = 60.0) -> None:
    """Return once MySQL answers ``SELECT 1``; raise the last error after ``timeout_s``."""
    async for attempt in retrying(
        on=(DBAPIError, OSError),
        wait=doubling(0.5, 5.0),
        give_up_after_s=timeout_s,
        before_sleep=_log_unreachable,
    ):
        with attempt:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))


def _log_unreachable(state: RetryCallState) -> None:
    log.warning("MySQL not reachable yet (%s), retrying", failure(state).__class__.__name__)


def _alembic_config(migrations_dir: Path, engine: AsyncEngine) -> Config:
    config = Config(str(migrations_dir / "alembic.ini"))
    # ConfigParser interpolates '%', which URL-encoded passwords may contain.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine, migrations_dir: Path, lock_timeout_s: int = 300) -> None:
    """Upgrade the database to the newest revision under ``migrations_dir``.

    ``GET_LOCK`` serialises replicas: the first migrates, the others wait and then find nothing to do.
    The lock belongs to the connection, so it is released even if this process dies mid-way.
    """
    config = _alembic_config(migrations_dir, engine)
    async with engine.connect() as conn:
        got = await conn.scalar(
            text("SELECT GET_LOCK(:name, :timeout)"), {"name": LOCK_NAME, "timeout": lock_timeout_s}
        )
        if got != 1:
            raise RuntimeError(f"could not take the migration lock {LOCK_NAME!r} within {lock_timeout_s}s")
        try:
            await conn.run_sync(_upgrade, config)
            await conn.commit()
        finally:
            await conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
    log.info("database schema is up to date")
