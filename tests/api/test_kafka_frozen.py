"""A hung Kafka does not hold up submissions: with the test broker frozen (SIGSTOP) while its outbox relay
is publishing, every POST is accepted before the broker is let go (SIGCONT); afterwards every job reaches
Kafka, each once.

POST latencies during the freeze are written to ``test-artifacts/kafka-frozen-post-latency.json`` for
the benchmark note (docs/benchmarks.md); they are not asserted.
"""

import asyncio
import json
import os
import signal
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.app import create_app
from api.settings import ApiSettings
from common.kafka import producer_options
from devstack import processes
from tests.api.support import eventually, kafka_bootstrap, make_settings, serve
from tests.fixtures.services import Services

CLIENTS = 4
POSTS_PER_CLIENT = 25
# The broker stays frozen at most this long: less than the producer's request timeout, so a POST that
# waited for the relay's publish to end could not be accepted inside it.
FREEZE_LIMIT_S = producer_options()["request_timeout_ms"] / 1000 - 3


@pytest.fixture
async def frozen_api(
    new_database: Callable[[], Awaitable[str]], new_topic_prefix: Callable[[], str]
) -> AsyncIterator[tuple[httpx.AsyncClient, ApiSettings, AsyncEngine]]:
    """An API of its own (database, topics), ready, with a client and direct access to its database."""
    settings = make_settings(await new_database(), new_topic_prefix())
    engine = create_async_engine(settings.database_url)
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def ready() -> bool | None:
            return True if (await client.get("/readyz")).status_code == 200 else None

        await eventually(ready, within_s=90)
        yield client, settings, engine
    await engine.dispose()


async def _outbox_count(engine: AsyncEngine, where: str = "TRUE") -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.text(f"SELECT COUNT(*) FROM outbox WHERE {where}")) or 0)


async def _post(client: httpx.AsyncClient, latencies: list[float]) -> httpx.Response:
    started = time.perf_counter()
    reply = await client.post("/api/v1/submissions", json={"language": "python", "source": "print(42)"})
    latencies.append((time.perf_counter() - started) * 1000)
    return reply


async def _job_keys(topic: str, partitions: int) -> Counter[bytes]:
    """Every key on ``topic``, read from the beginning to the end offsets of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        keys: Counter[bytes] = Counter()
        async with asyncio.timeout(60):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    keys.update(record.key for record in records if record.key is not None)
        return keys
    finally:
        await consumer.stop()


async def test_posts_are_accepted_while_kafka_is_frozen_and_published_once_after(
    frozen_api: tuple[httpx.AsyncClient, ApiSettings, AsyncEngine], services: Services, artifacts: Path
) -> None:
    client, settings, engine = frozen_api
    warm = await client.post("/api/v1/submissions", json={"language": "python", "source": "print(1)"})
    assert warm.status_code == 202, warm.text

    async def outbox_empty() -> bool | None:
        return True if await _outbox_count(engine) == 0 else None

    await eventually(outbox_empty)  # the relay's producer is connected before the broker freezes

    kafka_pid = processes.running_pid(services.kafka.pid_file)
    assert kafka_pid is not None, "the test Kafka is not running"
    latencies: list[float] = []
    replies: list[httpx.Response] = []

    async def one_client() -> None:
        for _ in range(POSTS_PER_CLIENT):
            replies.append(await _post(client, latencies))

    async def relay_holds_rows() -> bool | None:
        return True if await _outbox_count(engine, "claimed_by IS NOT NULL") else None

    os.kill(kafka_pid, signal.SIGSTOP)
    try:
        frozen_at = time.monotonic()
        async with asyncio.timeout(FREEZE_LIMIT_S):
            await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
            # The relay is mid-publish to the frozen broker, with rows of this very freeze.
            await eventually(relay_holds_rows)
        frozen_for_s = time.monotonic() - frozen_at
    finally:
        os.kill(kafka_pid, signal.SIGCONT)

    _record(artifacts, latencies, frozen_for_s)
    assert [reply.status_code for reply in replies] == [202] * CLIENTS * POSTS_PER_CLIENT
    ids = {warm.json()["id"].encode(), *(reply.json()["id"].encode() for reply in replies)}

    await eventually(outbox_empty, within_s=120)
    keys = await _job_keys(settings.topics.jobs("python"), settings.jobs_partitions)
    assert set(keys) == ids, "every accepted job reached Kafka"
    assert {key: n for key, n in keys.items() if n != 1} == {}, "each job was published once"


def _record(artifacts: Path, latencies: list[float], frozen_for_s: float) -> None:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    note = {
        "posts": len(latencies),
        "concurrent_clients": CLIENTS,
        "kafka_frozen_s": round(frozen_for_s, 2),
        "post_ms_p50": round(statistics.median(latencies), 1),
        "post_ms_p99": round(cuts[98], 1),
        "post_ms_max": round(max(latencies), 1),
    }
    (artifacts / "kafka-frozen-post-latency.json").write_text(json.dumps(note, indent=2) + "\n")
    print(f"POST latency with Kafka frozen: {note}")
