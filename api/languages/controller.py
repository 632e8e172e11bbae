"""``GET /api/v1/languages``: the runtimes, with the toolchain versions the master found in the images."""

from typing import TypedDict

import sqlalchemy as sa
from litestar import get
from litestar.di import NamedDependency

from api.services import Services
from common.tables import runtime_versions


class Language(TypedDict):
    """One accepted language."""

    id: str
    name: str
    version: str | None
    """The toolchain's version line, null until the master has inspected the image."""


@get("/api/v1/languages", tags=["languages"], summary="Languages this cluster runs")
async def list_languages(services: NamedDependency[Services]) -> list[Language]:
    """Every runtime under ``runtimes/``, sorted by id."""
    async with services.engine.connect() as conn:
        rows = await conn.execute(sa.select(runtime_versions.c.language, runtime_versions.c.version))
        versions = {row.language: row.version for row in rows}
    return [
        {"id": rt.id, "name": rt.name, "version": versions.get(rt.id)}
        for rt in sorted(services.runtimes.values(), key=lambda rt: rt.id)
    ]
