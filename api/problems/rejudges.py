"""Rejudging: every submission of a problem (or of one of its versions, or with one verdict) judged
again against the problem's current version. Each submission is reset to ``queued`` and its new job goes
into the outbox in the same transaction (so the relay publishes it through Kafka, as any job); the
rejudge row lists the ids, and its progress is how many of them have finished since."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.submission_rows import job_spec
from api.lib.clock import utcnow
from api.problems.jobs import problem_job
from api.problems.repository import read_problem
from common.tables import outbox, rejudges, submission_tests, submissions
from schemas import Status, encode
from schemas.jobs import ProblemRef

BATCH = 200
"""Submissions reset per transaction (short transactions: submissions keep arriving meanwhile)."""


@dataclass(frozen=True, slots=True)
class RejudgeFilter:
    """Which submissions of the problem: all, or those judged against ``version``, or with ``verdict``."""

    version: int | None = None
    verdict: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a rejudge is."""

    id: str
    slug: str
    version: int
    """The version the submissions are judged against now."""
    total: int
    finished: int
    created_at: datetime


async def start_rejudge(
    engine: AsyncEngine, slug: str, wanted: RejudgeFilter, topic_of: Callable[[str], str]
) -> Progress | None:
    """Re-queue the submissions ``wanted`` picks; None when there is no problem ``slug``."""
    async with engine.connect() as conn:
        problem = await read_problem(conn, slug)
        if problem is None:
            return None
        query = sa.select(submissions.c.id).where(
            submissions.c.problem_slug == slug, submissions.c.status == Status.FINISHED.value
        )
        if wanted.version is not None:
            query = query.where(submissions.c.problem_version == wanted.version)
        if wanted.verdict is not None:
            query = query.where(submissions.c.verdict == wanted.verdict)
        ids = [row.id for row in (await conn.execute(query.order_by(submissions.c.created_at)))]
    ref = ProblemRef(slug=slug, version=problem.version)
    now = utcnow()
    rejudge_id = str(uuid4())
    requeued: list[str] = []
    for start in range(0, len(ids), BATCH):
        async with engine.begin() as conn:
            rows = await conn.execute(
                sa.select(submissions.c.id, submissions.c.language, submissions.c.source)
                .where(submissions.c.id.in_(ids[start : start + BATCH]))
                .where(submissions.c.status == Status.FINISHED.value)
                .with_for_update()
            )
            for row in rows.all():
                job = problem_job(UUID(row.id), ref, problem.judging, row.language, row.source)
                await conn.execute(
                    submissions.update()
                    .where(submissions.c.id == row.id)
                    .values(
                        status=Status.QUEUED.value,
                        verdict=None,
                        outcome=None,
                        last_seq=0,
                        worker=None,
                        started_at=None,
                        finished_at=None,
                        problem_version=ref.version,
                        spec=job_spec(job),
                    )
                )
                await conn.execute(
                    submission_tests.delete().where(submission_tests.c.submission_id == row.id)
                )
                await conn.execute(
                    outbox.insert().values(
                        topic=topic_of(row.language),
                        msg_key=row.id.encode(),
                        payload=encode(job),
                        created_at=now,
                    )
                )
                requeued.append(row.id)
    async with engine.begin() as conn:
        await conn.execute(
            rejudges.insert().values(
                id=rejudge_id,
                slug=slug,
                version=ref.version,
                submissions=orjson.dumps(requeued).decode(),
                created_at=now,
            )
        )
    return Progress(rejudge_id, slug, ref.version, len(requeued), 0, now)


async def rejudge_progress(engine: AsyncEngine, slug: str, rejudge_id: str) -> Progress | None:
    """The rejudge ``rejudge_id`` of ``slug`` and how many of its submissions finished; None if unknown."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(rejudges).where(rejudges.c.id == rejudge_id, rejudges.c.slug == slug)
            )
        ).first()
        if row is None:
            return None
        ids: list[str] = orjson.loads(row.submissions)
        finished = 0
        for start in range(0, len(ids), BATCH):
            count = sa.select(sa.func.count()).where(
                submissions.c.id.in_(ids[start : start + BATCH]),
                submissions.c.status == Status.FINISHED.value,
            )
            finished += (await conn.execute(count)).scalar_one()
    return Progress(row.id, slug, row.version, len(ids), finished, row.created_at)
