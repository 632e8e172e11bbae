"""The results SSE streams show are recorded in MySQL before they are shown, a burst of them together."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.events.source import SubmissionSource
from api.results.apply import apply_events
from api.settings import ApiSettings
from schemas import Status, Verdict
from tests.api.support import single_run_result, submit
from tests.fixtures.waiting import eventually

FetchRow = Callable[[UUID | str], Awaitable[dict[str, Any] | None]]


class Commits:
    """Counts the transactions an engine commits."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "commit", self._committed)

    def _committed(self, _conn: object) -> None:
        self.count += 1


@pytest.fixture
async def own_engine(settings: ApiSettings) -> AsyncIterator[AsyncEngine]:
    """An engine of the session API's database that only the source under test uses."""
    engine = create_async_engine(settings.database_url)
    yield engine
    await engine.dispose()


@contextlib.asynccontextmanager
async def running(source: SubmissionSource) -> AsyncIterator[SubmissionSource]:
    task = asyncio.create_task(source.run())
    try:
        yield source
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_burst_of_results_is_recorded_in_one_transaction(
    client: httpx.AsyncClient, own_engine: AsyncEngine, fetch_row: FetchRow
) -> None:
    ids = [UUID((await submit(client))["id"]) for _ in range(20)]
    results = [single_run_result(sid, stdout=f"{n}\n") for n, sid in enumerate(ids)]
    commits = Commits(own_engine)
    async with running(SubmissionSource(own_engine)) as source:
        # Twenty streams, two of them on the first submission, wake on their results at once.
        rows = await asyncio.gather(*(source.finished(result) for result in [*results, results[0]]))
        assert commits.count == 1
        again = await source.finished(results[3])  # remembered: no transaction at all
    assert commits.count == 1
    assert again == rows[3]
    for n, (sid, row) in enumerate(zip(ids, rows, strict=False)):
        assert row is not None
        assert (row.id, row.status, row.verdict) == (str(sid), Status.FINISHED, Verdict.ACCEPTED.value)
        assert row.outcome is not None
        assert row.outcome["run"]["stdout"] == f"{n}\n"
        stored = await fetch_row(sid)  # what GET returns: the stream showed nothing MySQL does not hold
        assert stored is not None
        assert (stored["status"], stored["last_seq"]) == ("finished", results[n].seq)
    assert rows[-1] == rows[0]


async def test_a_stream_that_leaves_does_not_hold_up_the_others(
    client: httpx.AsyncClient, own_engine: AsyncEngine, fetch_row: FetchRow
) -> None:
    gone, staying = [UUID((await submit(client))["id"]) for _ in range(2)]
    source = SubmissionSource(own_engine)
    leaving = asyncio.create_task(source.finished(single_run_result(gone)))
    await asyncio.sleep(0)  # queued before the recording task starts
    leaving.cancel()
    async with running(source):
        row = await source.finished(single_run_result(staying))
    assert row is not None
    assert row.status is Status.FINISHED
    assert leaving.cancelled()
    left = await fetch_row(gone)  # not waited for, not recorded here: the recorder's to write
    assert left is not None
    assert left["status"] == "queued"


async def test_a_result_the_recorder_commits_meanwhile_is_shown_finished(
    client: httpx.AsyncClient, own_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    first, second = sorted([UUID((await submit(client))["id"]) for _ in range(2)], key=str)
    # The recorder is writing ``second``'s result: its transaction holds the row until we are waiting.
    async with engine.connect() as recorder:
        recording = await recorder.begin()
        await apply_events(recorder, [single_run_result(second, stdout="the recorder's\n")])
        async with running(SubmissionSource(own_engine)) as source:
            shown = asyncio.gather(*(source.finished(single_run_result(sid)) for sid in (first, second)))
            await eventually(lambda: _waiting_for_a_lock(engine))  # our batch waits for ``second``'s row
            await recording.commit()
            rows = await shown
    for row in rows:
        assert row is not None
        assert row.status is Status.FINISHED
    assert rows[1] is not None and rows[1].outcome is not None
    assert rows[1].outcome["run"]["stdout"] == "the recorder's\n"  # recorded first, so shown


async def _waiting_for_a_lock(engine: AsyncEngine) -> bool | None:
    """True once another connection of ours runs a statement on submissions that has waited for a lock."""
    query = sa.text(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
        " AND COMMAND = 'Query' AND INFO LIKE '%submissions%' AND TIME_MS > 50"
    )
    async with engine.connect() as conn:
        return True if await conn.scalar(query) else None
