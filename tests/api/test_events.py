"""The SSE stream of a submission: current state, live events, the result, resuming."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
from httpx_sse import EventSource, aconnect_sse

from schemas import Verdict
from tests.api.support import finished_test, graded_result, running, single_run_result, submit

Publish = Callable[..., Awaitable[None]]
CaughtUp = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Event:
    """One server-sent event, data decoded."""

    event: str
    id: int
    data: Any


async def _events(source: EventSource) -> AsyncIterator[Event]:
    async for sse in source.aiter_sse():
        yield Event(sse.event, int(sse.id), orjson.loads(sse.data))


async def read_all(client: httpx.AsyncClient, url: str, last_event_id: int | None = None) -> list[Event]:
    """Every event until the server ends the stream."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    async with asyncio.timeout(30), aconnect_sse(client, "GET", url, headers=headers) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [event async for event in _events(source)]


async def finished_submission(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp
) -> dict[str, str]:
    accepted = await submit(client)
    sid = UUID(accepted["id"])
    await publish_results(running(sid), single_run_result(sid, seq=2))
    await recorder_caught_up()
    return accepted


async def test_late_subscriber_gets_the_result_and_the_stream_ends(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp
) -> None:
    accepted = await finished_submission(client, publish_results, recorder_caught_up)

    events = await read_all(client, accepted["events"])

    assert [(e.event, e.id) for e in events] == [("result", 2)]
    stored = (await client.get(f"/api/v1/submissions/{accepted['id']}")).json()
    assert events[0].data == {name: value for name, value in stored.items() if name != "submitted"}
    assert (stored["status"], stored["verdict"], stored["stdout"], stored["exit_code"]) == (
        "finished",
        "accepted",
        "42\n",
        0,
    )


async def test_resuming_after_the_result_is_204(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp
) -> None:
    accepted = await finished_submission(client, publish_results, recorder_caught_up)

    reply = await client.get(accepted["events"], headers={"Last-Event-ID": "2"})

    # 204 tells an EventSource to stop reconnecting: there is nothing more to see.
    assert reply.status_code == 204
    assert reply.content == b""


async def test_resuming_skips_what_the_client_has_seen(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp
) -> None:
    accepted = await submit(client, tests=[{"expected_output": "1"}] * 2)
    sid = UUID(accepted["id"])
    await publish_results(running(sid))
    await recorder_caught_up()

    async with (
        asyncio.timeout(30),
        aconnect_sse(client, "GET", accepted["events"], headers={"Last-Event-ID": "2"}) as source,
    ):
        events = _events(source)
        await publish_results(
            finished_test(sid, 0), finished_test(sid, 1), graded_result(sid, [Verdict.ACCEPTED] * 2)
        )
        received = [event async for event in events]

    # The stored state (running, seq 1) and test 0 (seq 2) were seen already.
    assert [(e.event, e.id) for e in received] == [("test", 3), ("result", 4)]


async def test_live_stream_from_queued_to_result(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp
) -> None:
    accepted = await submit(client, tests=[{"expected_output": "1"}] * 2)
    sid = UUID(accepted["id"])
    final = graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER])

    async with asyncio.timeout(30), aconnect_sse(client, "GET", accepted["events"]) as source:
        events = _events(source)
        first = await anext(events)
        assert (first.event, first.id, first.data) == (
            "status",
            0,
            {"id": str(sid), "status": "queued", "worker": None},
        )
        await publish_results(
            running(sid, worker="w-1"),
            finished_test(sid, 0),
            finished_test(sid, 1, Verdict.WRONG_ANSWER),
            final,
        )
        rest = [event async for event in events]

    assert [(e.event, e.id) for e in rest] == [("status", 1), ("test", 2), ("test", 3), ("result", 4)]
    assert rest[0].data == {"id": str(sid), "status": "running", "worker": "w-1"}
    assert rest[2].data == {"index": 1, "verdict": "wrong_answer", "time_ms": 11, "memory_kb": 1001}
    result = rest[-1].data
    assert (result["verdict"], result["time_ms"], result["memory_kb"]) == ("wrong_answer", 11, 1001)
    assert [t["verdict"] for t in result["tests"]] == ["accepted", "wrong_answer"]
    # Sent before the recorder necessarily stored it, yet identical to what GET returns once it has.
    await recorder_caught_up()
    stored = (await client.get(f"/api/v1/submissions/{sid}")).json()
    assert result == {name: value for name, value in stored.items() if name != "submitted"}


@pytest.mark.parametrize("last_event_id", ["\u00b2", "2\u00b9", "1_0", "+2", "2x", "9" * 5000, "-1"])
async def test_a_malformed_last_event_id_is_ignored(
    client: httpx.AsyncClient, publish_results: Publish, recorder_caught_up: CaughtUp, last_event_id: str
) -> None:
    accepted = await finished_submission(client, publish_results, recorder_caught_up)
    # Header bytes are decoded as latin-1 by the server: byte 0xB2 arrives as "²", which str.isdigit()
    # accepts and int() refuses; 5000 digits are more than int() parses.
    raw = last_event_id.encode("latin-1")

    async with (
        asyncio.timeout(30),
        aconnect_sse(client, "GET", accepted["events"], headers={"Last-Event-ID": raw}) as source,
    ):
        assert source.response.status_code == 200
        received = [event async for event in _events(source)]

    # As if no id was sent: the whole stream (here, the result), never a 500.
    assert [(e.event, e.id) for e in received] == [("result", 2)]
