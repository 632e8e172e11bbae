"""The recorder applies result events to MySQL exactly once, whatever Kafka delivers."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas import Verdict
from tests.api.support import NOW, finished_test, graded_result, running, single_run_result, submit

FetchRow = Callable[[UUID | str], Awaitable[dict[str, Any] | None]]
Publish = Callable[..., Awaitable[None]]
CaughtUp = Callable[[], Awaitable[None]]


async def test_duplicated_and_out_of_order_events_change_nothing(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    sid = UUID((await submit(client, tests=[{"expected_output": "1"}] * 2))["id"])
    final = graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER])
    # A different result for the same job, as a second (re-)run would publish: the first one wins.
    rerun = graded_result(sid, [Verdict.ACCEPTED, Verdict.ACCEPTED])
    await publish_results(
        running(sid, worker="worker-a"),
        finished_test(sid, 1),
        finished_test(sid, 0),  # older than the test before it
        running(sid, worker="worker-b"),  # duplicate seq from another worker
        final,
        running(sid),
        finished_test(sid, 0),
        rerun,
        final,
    )
    await recorder_caught_up()

    row = await fetch_row(sid)
    assert row is not None
    assert (row["status"], row["verdict"], row["last_seq"], row["worker"]) == (
        "finished",
        "wrong_answer",
        4,
        "worker-b",
    )
    assert orjson.loads(row["outcome"]) == final.outcome.model_dump(mode="json")
    assert row["finished_at"] == NOW.replace(tzinfo=None)
    assert row["started_at"] == NOW.replace(tzinfo=None)


async def test_running_then_tests_advance_last_seq(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    sid = UUID((await submit(client, tests=[{"expected_output": "1"}] * 3))["id"])
    await publish_results(running(sid, worker="w-7"), finished_test(sid, 0), finished_test(sid, 1))
    await recorder_caught_up()

    row = await fetch_row(sid)
    assert row is not None
    assert (row["status"], row["last_seq"], row["worker"], row["verdict"]) == ("running", 3, "w-7", None)


async def test_result_for_a_job_the_api_never_saw_is_recorded_with_origin_kafka(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    sid = uuid4()  # a batch grader produced this job straight to Kafka
    await publish_results(running(sid), single_run_result(sid, stdout="from a grader\n"))
    await recorder_caught_up()

    row = await fetch_row(sid)
    assert row is not None
    assert (row["origin"], row["status"], row["verdict"], row["language"]) == (
        "kafka",
        "finished",
        "accepted",
        "",
    )
    view = (await client.get(f"/api/v1/submissions/{sid}")).json()
    assert view["stdout"] == "from a grader\n"
    assert view["origin"] == "kafka"


async def test_undecodable_results_are_skipped(
    client: httpx.AsyncClient,
    publish_raw: Callable[[bytes, bytes], Awaitable[None]],
    publish_results: Publish,
    recorder_caught_up: CaughtUp,
    fetch_row: FetchRow,
) -> None:
    sid = UUID((await submit(client))["id"])
    key = str(sid).encode()
    # Same key, so same partition, before the real result: the recorder must get past them.
    await publish_raw(key, b"not json")
    await publish_raw(key, b'{"v": 1, "event": "mystery"}')
    await publish_results(single_run_result(sid))
    await recorder_caught_up()

    row = await fetch_row(sid)
    assert row is not None
    assert (row["status"], row["verdict"]) == ("finished", "accepted")


async def test_event_mysql_refuses_is_skipped_not_retried_forever(
    client: httpx.AsyncClient,
    publish_results: Publish,
    recorder_caught_up: CaughtUp,
    fetch_row: FetchRow,
    engine: AsyncEngine,
) -> None:
    refused = single_run_result(uuid4())
    # MySQL itself refuses this one submission's row, as it could for data it cannot store.
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON submissions FOR EACH ROW"
                f" IF NEW.id = '{refused.id}' THEN SIGNAL SQLSTATE '45000'"
                " SET MESSAGE_TEXT = 'refused'; END IF"
            )
        )
    try:
        sid = UUID((await submit(client))["id"])
        await publish_results(refused, single_run_result(sid))
        await recorder_caught_up()  # would time out if the recorder were stuck retrying
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP TRIGGER refuse_one"))

    assert await fetch_row(refused.id) is None
    row = await fetch_row(sid)
    assert row is not None and row["status"] == "finished"
