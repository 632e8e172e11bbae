"""``GET /api/v1/languages``: the runtimes, with the toolchain versions the master found in the images."""

from typing import TypedDict

from litestar import get
from litestar.di import NamedDependency

from api.languages.repository import read_versions
from api.services import Services


class Language(TypedDict):
    """One accepted language."""

    id: str
    name: str
    version: str | None
    """The toolchain's version line, null until the master has inspected the image."""
    compiler_options: list[str]
    """The compiler flags a submission may add (``compiler_options``); empty: none."""


@get("/api/v1/languages", tags=["languages"], summary="Languages this cluster runs")
async def list_languages(services: NamedDependency[Services]) -> list[Language]:
    """Every runtime under ``runtimes/``, sorted by id."""
    versions = await read_versions(services.engine)
    return [
        {
            "id": rt.id,
            "name": rt.name,
            "version": versions.get(rt.id),
            "compiler_options": rt.compiler_options,
        }
        for rt in sorted(services.runtimes.values(), key=lambda rt: rt.id)
    ]
