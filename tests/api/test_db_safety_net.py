"""A stream whose replica missed the result on Kafka still ends, from MySQL."""

import asyncio
from uuid import UUID

import httpx
import orjson
import sqlalchemy as sa
from httpx_sse import aconnect_sse
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.support import single_run_result, submit


async def test_result_recorded_elsewhere_reaches_the_stream(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    accepted = await submit(client)
    sid = UUID(accepted["id"])
    outcome = single_run_result(sid, stdout="recorded by another replica\n").outcome

    async with asyncio.timeout(30), aconnect_sse(client, "GET", accepted["events"]) as source:
        events = source.aiter_sse()
        assert (await anext(events)).event == "status"
        # Only MySQL learns about it: no event on this replica's fan-out.
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "UPDATE submissions SET status = 'finished', verdict = 'accepted', outcome = :o,"
                    " last_seq = 2, finished_at = NOW(6) WHERE id = :id"
                ),
                {"o": orjson.dumps(outcome.model_dump(mode="json")).decode(), "id": str(sid)},
            )
        rest = [sse async for sse in events]

    assert [(e.event, e.id) for e in rest] == [("result", "2")]
    assert orjson.loads(rest[0].data)["stdout"] == "recorded by another replica\n"
