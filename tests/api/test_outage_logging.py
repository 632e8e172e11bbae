"""A Kafka outage is logged, not flooded: an API process (``executioner-api``, its own logging set-up)
whose broker is stopped for a while writes a bounded number of records, each repeating message once
and then once per ``EXECUTIONER_LOG_REPEAT_WINDOW_S``."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.api.support import submit
from tests.fixtures.cluster import new_cluster
from tests.fixtures.log_records import assert_outage_logged_within_bounds, records_since
from tests.fixtures.services import Services

# `make test-all`: a 20 s outage drill about log volume; CI keeps the outage tests that lose nothing.
pytestmark = pytest.mark.extended

WINDOW_S = 5
# The outage is the measurement: what the API logs while Kafka stays down this long.
OUTAGE_S = 20


async def test_a_kafka_outage_logs_a_bounded_number_of_records(
    services: Services, new_database: Callable[[], Awaitable[str]], artifacts: Path
) -> None:
    logs = artifacts / "outage-logging"
    logs.mkdir(exist_ok=True)
    cluster = new_cluster(
        services, await new_database(), logs, {"EXECUTIONER_LOG_REPEAT_WINDOW_S": str(WINDOW_S)}
    )
    pid_file, url = await cluster.start_api()
    log_file = pid_file.with_suffix(".log")
    try:
        outage_starts_at = log_file.stat().st_size
        await cluster.stop_kafka()
        try:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                await submit(client)  # the relay has a job it cannot publish
            await asyncio.sleep(OUTAGE_S)
            records = records_since(log_file, outage_starts_at)
        finally:
            await cluster.start_kafka()
    finally:
        await cluster.stop()

    assert_outage_logged_within_bounds(
        records, outage_s=OUTAGE_S, window_s=WINDOW_S, flood="Unable connect to node with id"
    )
