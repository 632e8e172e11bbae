"""``GET /api/v1/admin/dead-letters``: the newest dead letters, with their reasons (``dead_letters``)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.clock import iso
from api.lib.errors import ApiError
from api.lib.numbers import parse_whole_number
from common.tables import dead_letters

QUERY_FIELDS = frozenset({"language", "limit"})
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class DeadLetterQuery:
    """Which dead letters to list: of one language (or all), the ``limit`` newest."""

    language: str | None
    limit: int


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, field)


def parse_dead_letter_query(params: Mapping[str, str], languages: Collection[str]) -> DeadLetterQuery:
    """Validate the query string; ``languages`` are the ones on offer."""
    for name in params:
        if name not in QUERY_FIELDS:
            raise _invalid(name, f"unknown query parameter {name!r}; known: language, limit")
    language = params.get("language") or None
    if language is not None and language not in languages:
        raise ApiError(
            422, "unknown_language", f"unknown language {language!r}; see GET /api/v1/languages", "language"
        )
    raw = params.get("limit")
    limit = DEFAULT_LIMIT if raw is None else parse_whole_number(raw, MAX_LIMIT)
    if limit is None or limit < 1:
        raise _invalid("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}")
    return DeadLetterQuery(language, limit)


class SourceView(TypedDict):
    """Where the rejected record was (null fields when the worker's headers did not say)."""

    topic: str | None
    partition: int | None
    offset: int | None


class DeadLetterView(TypedDict):
    """One dead letter."""

    id: int
    received_at: str | None
    """When it reached the ``dead-letter`` topic."""
    language: str | None
    """The ``<language>`` of the ``jobs.<language>`` topic it was rejected from."""
    reason: str
    worker: str | None
    """The worker that rejected it."""
    key: str | None
    """The record's key as text (bytes that are not UTF-8 are escaped)."""
    job_id: str | None
    """The job's id when the value is a valid job message (a job the workers gave up on)."""
    value_bytes: int | None
    """Size of the original value; null when the record had none."""
    preview: str | None
    """The value's first 300 bytes as text."""
    source: SourceView
    position: dict[str, int]
    """``partition`` and ``offset`` of the dead letter on the ``dead-letter`` topic (the original bytes are
    there)."""


class DeadLettersView(TypedDict):
    """``GET /api/v1/admin/dead-letters``."""

    total: int
    """Dead letters recorded (of the language asked for); at most ``limit`` are listed."""
    dead_letters: list[DeadLetterView]
    """Newest first."""


def _view(row: Any) -> DeadLetterView:
    return {
        "id": row.id,
        "received_at": iso(row.received_at),
        "language": row.language,
        "reason": row.reason,
        "worker": row.worker,
        "key": row.msg_key,
        "job_id": row.job_id,
        "value_bytes": row.value_bytes,
        "preview": row.preview,
        "source": {"topic": row.source_topic, "partition": row.source_partition, "offset": row.source_offset},
        "position": {"partition": row.dl_partition, "offset": row.dl_offset},
    }


async def read_dead_letters(engine: AsyncEngine, query: DeadLetterQuery) -> DeadLettersView:
    """The dead letters ``query`` asks for, newest first, and how many there are in all."""
    c = dead_letters.c
    matching = [c.language == query.language] if query.language is not None else []
    listing = (
        sa.select(dead_letters)
        .where(*matching)
        .order_by(c.received_at.desc(), c.id.desc())
        .limit(query.limit)
    )
    async with engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(dead_letters).where(*matching))
        rows = (await conn.execute(listing)).all()
    return {"total": int(total or 0), "dead_letters": [_view(row) for row in rows]}
