"""A Kafka outage is logged, not flooded: an API process (``executioner-api``, its own logging set-up)
whose broker is stopped for a while writes a bounded number of records, each repeating message once
and then once per ``EXECUTIONER_LOG_REPEAT_WINDOW_S``."""

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.api.support import submit
from tests.fixtures.cluster import new_cluster
from tests.fixtures.services import Services

WINDOW_S = 5
# The outage is the measurement: what the API logs while Kafka stays down this long.
OUTAGE_S = 20
# A repeating message: its first record, one per window, and one more for a window cut by the clock.
MOST_PER_MESSAGE = 1 + OUTAGE_S // WINDOW_S + 1
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \S+ (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)$")


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
            written = log_file.read_bytes()[outage_starts_at:].decode(errors="replace")
        finally:
            await cluster.start_kafka()
    finally:
        await cluster.stop()

    records = [match for line in written.splitlines() if (match := RECORD.match(line))]
    per_logger = Counter(record["logger"] for record in records)
    print(f"{len(records)} records in {OUTAGE_S} s of Kafka outage: {dict(per_logger)}")
    unreachable = [r for r in records if r["message"].startswith("Unable connect to node with id")]
    assert unreachable, "the outage was logged (aiokafka's failed connections)"
    assert len(unreachable) <= MOST_PER_MESSAGE, "\n".join(r.string for r in unreachable[:20])
    # A few dozen distinct messages at most (start of the outage, the clients' failures), each bounded.
    assert len(records) <= 20 * MOST_PER_MESSAGE, "\n".join(r.string for r in records[:50])
