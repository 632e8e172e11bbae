"""The toolchain versions the master found in the runtime images (``runtime_versions``)."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.tables import runtime_versions


async def read_versions(engine: AsyncEngine) -> dict[str, str]:
    """Each inspected language's version line (``Python 3.11.2``); a language not inspected yet is
    missing."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(runtime_versions.c.language, runtime_versions.c.version))
        return {row.language: row.version for row in rows if row.version is not None}
