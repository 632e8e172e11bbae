"""The tests a running submission has finished (``submission_tests``): written by whoever records its test
events, read by streams opened mid-run so they can replay them, deleted when the submission finishes (its
outcome then holds every test)."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from common.tables import submission_tests
from schemas import TestEvent, TestReport

_c = submission_tests.c


def finished_test_view(test: TestReport) -> dict[str, Any]:
    """One finished test as the SSE ``test`` frame shows it: no output (the result has everything). Kept
    here because it is what is recorded for replay."""
    return {
        "index": test.index,
        "verdict": test.verdict.value,
        "time_ms": test.time_ms,
        "memory_kb": test.memory_kb,
    }


@dataclass(frozen=True, slots=True)
class RecordedTest:
    """A finished test as a stream shows it: its event's ``seq`` and the ``test`` frame's data."""

    seq: int
    view: dict[str, Any]


async def record_test(conn: AsyncConnection, event: TestEvent) -> None:
    """Keep ``event`` for replay (a second copy of the same seq changes nothing)."""
    view = orjson.dumps(finished_test_view(event.test)).decode()
    await conn.execute(
        submission_tests.insert()
        .prefix_with("IGNORE")
        .values(submission_id=str(event.id), seq=event.seq, view=view)
    )


async def forget_tests(conn: AsyncConnection, submission_id: UUID | str) -> None:
    """Drop the tests kept for a submission that has finished."""
    await conn.execute(submission_tests.delete().where(_c.submission_id == str(submission_id)))


async def read_tests(
    conn: AsyncConnection, submission_id: UUID | str, after: int, before: int | None = None
) -> list[RecordedTest]:
    """The kept tests of ``submission_id`` with ``after < seq < before``, in order."""
    query = sa.select(_c.seq, _c.view).where(_c.submission_id == str(submission_id), _c.seq > after)
    if before is not None:
        query = query.where(_c.seq < before)
    rows = await conn.execute(query.order_by(_c.seq))
    return [RecordedTest(seq, orjson.loads(view)) for seq, view in rows]
