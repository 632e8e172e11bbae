"""``GET /api/v1/languages``: the runtimes, with the toolchain versions the master found in the images."""

from typing import TypedDict

from litestar import get
from litestar.di import NamedDependency

from api.languages.repository import read_versions
from api.services import Services
from common.runtimes import Runtime
from schemas.jobs import MAX_MEMORY_MB, MAX_OUTPUT_KB, MAX_TIME_MS, Limits


class LimitValues(TypedDict):
    """Per-test limits (the fields of a submission's ``limits``)."""

    time_ms: int
    wall_ms: int
    memory_mb: int
    output_kb: int


class CompileLimitValues(TypedDict):
    """The compiler's limits (the fields of a submission's ``compile_limits``)."""

    time_ms: int
    wall_ms: int
    memory_mb: int


class PistonName(TypedDict):
    """How the Piston-compatible API names the language."""

    language: str
    aliases: list[str]


class Language(TypedDict):
    """One accepted language and what a submission to it gets."""

    id: str
    name: str
    version: str | None
    """The toolchain's version line, printed by the image's own toolchain; null until the master has
    inspected the image (or when this cluster has not built it)."""
    aliases: list[str]
    """Other names a submission's ``language`` may give."""
    compiled: bool
    source_file: str
    """The file name the source is written to (``Main.java``)."""
    default_limits: LimitValues
    max_limits: LimitValues
    memory_overhead_mb: int
    """Added to ``memory_mb`` for the runtime's own fixed footprint (a JVM's), so the limit is the
    program's."""
    libraries: list[str]
    """Libraries beyond the standard library, with their versions."""
    judge0_ids: list[int]
    piston: PistonName
    compiler_options: list[str]
    """The compiler flags a submission may add (``compiler_options``); empty: none."""
    max_compile_limits: CompileLimitValues | None
    """The compiler's own limits: the default and the most a submission's ``compile_limits`` may ask
    for; null for languages that are not compiled."""


_DEFAULTS = Limits()
DEFAULT_LIMITS: LimitValues = {
    "time_ms": _DEFAULTS.time_ms,
    "wall_ms": 3 * _DEFAULTS.time_ms,  # Limits.effective()
    "memory_mb": _DEFAULTS.memory_mb,
    "output_kb": _DEFAULTS.output_kb,
}
MAX_LIMITS: LimitValues = {
    "time_ms": MAX_TIME_MS,
    "wall_ms": 3 * MAX_TIME_MS,
    "memory_mb": MAX_MEMORY_MB,
    "output_kb": MAX_OUTPUT_KB,
}


def describe(runtime: Runtime, version: str | None) -> Language:
    """The endpoint's entry for ``runtime``."""
    return {
        "id": runtime.id,
        "name": runtime.name,
        "version": version,
        "aliases": list(runtime.aliases),
        "compiled": runtime.compiled,
        "source_file": runtime.source_file,
        "default_limits": DEFAULT_LIMITS,
        "max_limits": MAX_LIMITS,
        "memory_overhead_mb": runtime.memory_overhead_mb,
        "libraries": list(runtime.libraries),
        "judge0_ids": list(runtime.compat.judge0_ids),
        "piston": {
            "language": runtime.compat.piston_language or runtime.id,
            "aliases": list(runtime.compat.piston_aliases),
        },
        "compiler_options": list(runtime.compiler_options),
        "max_compile_limits": {
            "time_ms": runtime.compile_time_ms,
            "wall_ms": 3 * runtime.compile_time_ms,
            "memory_mb": runtime.compile_memory_mb,
        }
        if runtime.compiled
        else None,
    }


@get("/api/v1/languages", tags=["languages"], summary="Languages this cluster runs")
async def list_languages(services: NamedDependency[Services]) -> list[Language]:
    """Every runtime under ``runtimes/``, sorted by id."""
    versions = await read_versions(services.engine)
    runtimes = sorted(services.runtimes.values(), key=lambda rt: rt.id)
    return [describe(rt, versions.get(rt.id)) for rt in runtimes]
