"""Fixtures of the API tests: a fresh MariaDB database and Kafka topic prefix per session, and the API
served by uvicorn on an ephemeral port, on the real services (see :mod:`tests.api.support`)."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.app import create_app
from api.db.migrate import migrate
from api.settings import ApiSettings, default_migrations_dir
from schemas import ResultEvent, StatusEvent, TestEvent, encode
from tests.api.support import ADMIN_TOKEN, database_url, eventually, kafka_bootstrap, make_settings, serve

NewDatabase = Callable[[], Awaitable[str]]
GroupCaughtUp = Callable[[str, Sequence[str]], Awaitable[None]]


@pytest.fixture(scope="session")
async def new_database() -> AsyncIterator[NewDatabase]:
    """Creates fresh databases (``executioner_t_<random>``) on the test server; drops them at the end."""
    admin = create_async_engine(database_url(), pool_pre_ping=True)  # MariaDB restarts in outage tests
    created: list[str] = []

    async def create() -> str:
        name = f"executioner_t_{secrets.token_hex(4)}"
        async with admin.begin() as conn:
            await conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        created.append(name)
        return make_url(database_url()).set(database=name).render_as_string(hide_password=False)

    yield create
    async with admin.begin() as conn:
        for name in created:
            await conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    await admin.dispose()


@pytest.fixture(scope="session")
async def new_topic_prefix() -> AsyncIterator[Callable[[], str]]:
    """Hands out fresh topic prefixes; deletes the topics created under them at the end."""
    prefixes: list[str] = []

    def create() -> str:
        prefixes.append(f"tapi{secrets.token_hex(3)}.")
        return prefixes[-1]

    yield create
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(tuple(prefixes))]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def settings(new_database: NewDatabase, new_topic_prefix: Callable[[], str]) -> ApiSettings:
    """The session API's settings: its own database and topic prefix, and the admin token ``ADMIN_TOKEN``."""
    return make_settings(await new_database(), new_topic_prefix(), admin_token=ADMIN_TOKEN)


@pytest.fixture(scope="session")
async def api_url(settings: ApiSettings) -> AsyncIterator[str]:
    """The session's API, running until the session ends; ready (Kafka connected) when yielded."""
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:

        async def ready() -> bool | None:
            return True if (await http.get("/readyz")).status_code == 200 else None

        await eventually(ready, within_s=90)
        yield url


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the session API."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        yield http


@pytest.fixture
async def admin(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the session API that sends the admin token."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
async def topics_exist(api_url: str, settings: ApiSettings) -> None:
    """Waits until the session API has created its topics (producing to a missing topic could create it
    with the broker's defaults)."""
    wanted = {settings.topics.jobs("python"), settings.topics.results, settings.topics.dead_letter}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:

        async def created() -> bool | None:
            return True if wanted <= set(await admin.list_topics()) else None

        await eventually(created)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def engine(settings: ApiSettings) -> AsyncIterator[AsyncEngine]:
    """Direct access to the session API's database, for assertions."""
    db = create_async_engine(settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
def fetch_row(engine: AsyncEngine) -> Callable[[UUID | str], Awaitable[dict[str, Any] | None]]:
    """Reads one ``submissions`` row as a dict."""

    async def fetch(submission_id: UUID | str) -> dict[str, Any] | None:
        query = sa.text("SELECT * FROM submissions WHERE id = :id")
        async with engine.connect() as conn:
            row = (await conn.execute(query, {"id": str(submission_id)})).first()
        return dict(row._mapping) if row else None

    return fetch


@pytest.fixture(scope="session")
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    """A Kafka producer standing in for workers."""
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture
def publish_raw(
    producer: AIOKafkaProducer, settings: ApiSettings
) -> Callable[[bytes, bytes], Awaitable[None]]:
    """Publishes arbitrary bytes (key, value) to the session's ``results`` topic."""

    async def publish(key: bytes, value: bytes) -> None:
        await producer.send_and_wait(settings.topics.results, value, key=key)

    return publish


@pytest.fixture
def publish_results(producer: AIOKafkaProducer, settings: ApiSettings) -> Callable[..., Awaitable[None]]:
    """Publishes result events to the session's ``results`` topic, as a worker does (key = id)."""

    async def publish(*events: StatusEvent | TestEvent | ResultEvent) -> None:
        for event in events:
            await producer.send_and_wait(settings.topics.results, encode(event), key=str(event.id).encode())

    return publish


@pytest.fixture
def group_caught_up() -> GroupCaughtUp:
    """Waits until a consumer group has committed every message now on the given topics. The API's groups
    commit only after the MySQL transaction that wrote them, so the rows are final."""

    async def wait(group: str, topics: Sequence[str]) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=None)
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
        await consumer.start()
        await admin.start()
        try:
            described = await admin.describe_topics(list(topics))
            tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
            ends = await consumer.end_offsets(tps)

            async def caught_up() -> bool | None:
                committed = await admin.list_consumer_group_offsets(group)
                behind = [
                    tp for tp in tps if ends[tp] and (tp not in committed or committed[tp].offset < ends[tp])
                ]
                return None if behind else True

            await eventually(caught_up)
        finally:
            await admin.close()
            await consumer.stop()

    return wait


@pytest.fixture
def recorder_caught_up(
    settings: ApiSettings, group_caught_up: GroupCaughtUp
) -> Callable[[], Awaitable[None]]:
    """Waits until the recorder group has committed every message on ``results``."""
    return lambda: group_caught_up(settings.topics.recorder_group, [settings.topics.results])


@pytest.fixture
def intake_caught_up(settings: ApiSettings, group_caught_up: GroupCaughtUp) -> Callable[[], Awaitable[None]]:
    """Waits until the intake group has committed every message on ``jobs.python``."""
    return lambda: group_caught_up(settings.topics.intake_group, [settings.topics.jobs("python")])


@pytest.fixture
def dead_letters_caught_up(
    settings: ApiSettings, group_caught_up: GroupCaughtUp
) -> Callable[[], Awaitable[None]]:
    """Waits until the dead-letter group has committed every message on ``dead-letter``."""
    return lambda: group_caught_up(settings.topics.dead_letter_group, [settings.topics.dead_letter])


@pytest.fixture
def read_job(settings: ApiSettings) -> Callable[[str], Awaitable[tuple[bytes, bytes]]]:
    """Reads ``jobs.python`` from the beginning until the job with the given id; returns (key, value)."""

    async def read(submission_id: str) -> tuple[bytes, bytes]:
        topic = settings.topics.jobs("python")
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka_bootstrap(), group_id=None, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            async with asyncio.timeout(30):
                while True:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for records in batch.values():
                        for record in records:
                            if record.key == submission_id.encode():
                                return record.key, record.value
        finally:
            await consumer.stop()

    return read


@pytest.fixture
async def outbox_engine(new_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    """A migrated database of its own (no API relay competes for its outbox)."""
    engine = create_async_engine(await new_database())
    await migrate(engine, default_migrations_dir())
    yield engine
    await engine.dispose()
