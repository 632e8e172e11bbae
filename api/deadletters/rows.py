"""Dead-letter records as ``dead_letters`` rows, and the submissions they end.

A dead letter whose value is a valid job of its topic's language is a job the workers gave up on (a poison
job, or limits stricter than the API's). A rejected job gets no result, so its submission, if recorded, is
finished here with ``internal_error`` rather than left queued forever. A poison job's worker publishes its
``internal_error`` result itself (header ``x-executioner-result: published``): that result, recorded like
any other, is the one final word, and the dead letter finishes nothing.
"""

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from api.lib.consumer import Record, record_time
from api.lib.numbers import INT32_MAX, INT64_MAX, parse_whole_number
from api.results.failures import finish_with_internal_error
from common.tables import dead_letters
from schemas import DeadLetterHeaders, DecodeError, JobMessage, decode_job

PREVIEW_BYTES = 300
"""How much of the value is kept, as text (cut again to the column's 512 characters)."""
MAX_REASON_CHARS = 2000
LANGUAGE = re.compile(r"[a-z0-9_+-]{1,32}")


def rejected_message(reason: str) -> str:
    """The ``message`` of a submission whose job was dead-lettered."""
    return f"the workers rejected this job to the dead-letter topic: {reason}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-letter record: its row, and the job whose submission it finishes (a valid job of its
    topic's language that gets no result of its own), if any."""

    row: dict[str, Any]
    job: JobMessage | None


def _text(value: bytes | None, limit: int) -> str | None:
    return None if value is None else value.decode("utf-8", "backslashreplace")[:limit]


def _number(value: bytes | None, most: int) -> int | None:
    # A header that is not a number the column holds is left out rather than failing the row.
    return None if value is None else parse_whole_number(value, most)


def _job(value: bytes | None, language: str | None) -> JobMessage | None:
    try:
        job = decode_job(value or b"")
    except DecodeError:
        return None
    return job if job.language == language else None


def parse_dead_letter(record: Record, jobs_prefix: str) -> DeadLetter:
    """The row of a dead-letter record; ``jobs_prefix`` is the name of the jobs topics without their
    language (``<prefix>jobs.``)."""
    headers: dict[str, bytes] = {name: value for name, value in record.headers or ()}
    source_topic = _text(headers.get(DeadLetterHeaders.SOURCE_TOPIC), 255)
    language = None
    if source_topic is not None and source_topic.startswith(jobs_prefix):
        named = source_topic.removeprefix(jobs_prefix)
        language = named if LANGUAGE.fullmatch(named) else None
    value: bytes | None = record.value
    job = _job(value, language)
    result_published = headers.get(DeadLetterHeaders.RESULT) == DeadLetterHeaders.RESULT_PUBLISHED
    row = {
        "dl_partition": record.partition,
        "dl_offset": record.offset,
        "source_topic": source_topic,
        "source_partition": _number(headers.get(DeadLetterHeaders.SOURCE_PARTITION), INT32_MAX),
        "source_offset": _number(headers.get(DeadLetterHeaders.SOURCE_OFFSET), INT64_MAX),
        "language": language,
        "msg_key": _text(record.key, 255),
        "job_id": str(job.id) if job is not None else None,
        "reason": _text(headers.get(DeadLetterHeaders.REASON), MAX_REASON_CHARS) or "(no reason given)",
        "worker": _text(headers.get(DeadLetterHeaders.WORKER), 128),
        "value_bytes": None if value is None else len(value),
        "preview": None if value is None else value[:PREVIEW_BYTES].decode("utf-8", "replace")[:512],
        "received_at": record_time(record),
        "result_published": result_published,
    }
    return DeadLetter(row, None if result_published else job)


async def insert_dead_letters(conn: AsyncConnection, letters: list[DeadLetter]) -> None:
    """Store the rows (a dead letter recorded before is left as it is) and end the jobs' submissions."""
    await conn.execute(dead_letters.insert().prefix_with("IGNORE").values([d.row for d in letters]))
    for letter in letters:
        if letter.job is not None:
            await finish_with_internal_error(conn, letter.job, rejected_message(letter.row["reason"]))


async def finish_dead_lettered(conn: AsyncConnection, jobs: list[JobMessage]) -> None:
    """End the submissions of those ``jobs`` whose dead letter was recorded before their row was (the
    dead-letter and intake groups consume independently)."""
    by_id = {str(job.id): job for job in jobs}
    query = sa.select(dead_letters.c.job_id, dead_letters.c.language, dead_letters.c.reason).where(
        dead_letters.c.job_id.in_(sorted(by_id)), dead_letters.c.result_published.is_(False)
    )
    for job_id, language, reason in await conn.execute(query):
        job = by_id[job_id]
        if job.language == language:
            await finish_with_internal_error(conn, job, rejected_message(reason))
