"""A Kafka outage is logged, not flooded, by a worker process (``python -m worker``, its own logging
set-up): with its broker stopped for a while it writes a bounded number of records, each repeating
message once and then once per ``EXECUTIONER_LOG_REPEAT_WINDOW_S``."""

import asyncio
import uuid
from pathlib import Path

import pytest

from common.kafka import ensure_topics
from schemas.results import ResultEvent
from schemas.topics import Topics
from tests.fixtures.log_records import assert_outage_logged_within_bounds, records_since
from tests.fixtures.services import Services
from tests.worker.support import Results, WorkerStarter, environment, submit

# `make test-all`: an outage drill about log volume; CI keeps the worker's retry and resilience tests.
pytestmark = pytest.mark.extended

PARTITIONS = 2
WINDOW_S = 5
# The outage is the measurement: what the worker logs while Kafka stays down this long.
OUTAGE_S = 20


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    topics = Topics(prefix=f"test-worker-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap, {topics.jobs("python"): PARTITIONS, topics.results: PARTITIONS})
    return topics


async def test_a_kafka_outage_logs_a_bounded_number_of_records(
    *,
    kafka_bootstrap: str,
    topics: Topics,
    results: Results,
    tmp_path: Path,
    start_worker: WorkerStarter,
    services: Services,
) -> None:
    env = environment(kafka_bootstrap, topics, tmp_path, PARTITIONS)
    await start_worker(env | {"EXECUTIONER_LOG_REPEAT_WINDOW_S": str(WINDOW_S)})
    job_id = await submit(kafka_bootstrap, topics, "print('up')")
    while not isinstance(await results.next(job_id), ResultEvent):
        pass  # the worker consumes and publishes: it is connected when the broker stops
    log_file = tmp_path / "worker.log"
    outage_starts_at = log_file.stat().st_size
    await asyncio.to_thread(services.kafka.stop)
    try:
        await asyncio.sleep(OUTAGE_S)
        records = records_since(log_file, outage_starts_at)
    finally:
        await asyncio.to_thread(services.start_kafka)

    assert_outage_logged_within_bounds(
        records, outage_s=OUTAGE_S, window_s=WINDOW_S, flood="Unable connect to node with id"
    )
