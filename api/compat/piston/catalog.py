"""Piston's runtime table: each runtime under its Piston name, with its aliases and the version of the
toolchain the master found in its image; and finding the one a request names (npm semver ranges)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict

import nodesemver

from api.compat.versions import semantic_version
from common.runtimes import Runtime


class PistonRuntimeView(TypedDict):
    """One entry of ``GET /api/v2/runtimes``."""

    language: str
    version: str
    aliases: list[str]


@dataclass(frozen=True, slots=True)
class PistonRuntime:
    """A runtime as Piston clients see it."""

    runtime: Runtime
    language: str
    version: str
    aliases: tuple[str, ...]

    def view(self) -> "PistonRuntimeView":
        """Its ``GET /api/v2/runtimes`` entry."""
        return {"language": self.language, "version": self.version, "aliases": list(self.aliases)}


def piston_runtimes(runtimes: Iterable[Runtime], versions: Mapping[str, str]) -> list[PistonRuntime]:
    """Every runtime under its Piston name, sorted by it."""
    found = [
        PistonRuntime(
            runtime=rt,
            language=rt.compat.piston_language or rt.id,
            version=semantic_version(versions.get(rt.id)),
            aliases=tuple(
                dict.fromkeys(a for a in (rt.id, *rt.compat.piston_aliases) if a != rt.compat.piston_language)
            ),
        )
        for rt in runtimes
    ]
    return sorted(found, key=lambda entry: entry.language)


def find_runtime(entries: Iterable[PistonRuntime], language: str, version: str) -> PistonRuntime | None:
    """The runtime named ``language`` (or one of its aliases) whose version satisfies ``version``:
    ``*``, an exact version or an npm semver range (``3.x``, ``>=3.10 <4``), as Piston matches them."""
    for entry in entries:
        named = language == entry.language or language in entry.aliases
        if named and nodesemver.satisfies(entry.version, version):
            return entry
    return None
