"""The API's consumers (recorder, intake, dead letters share one loop) ride out a MySQL outage: nothing is
committed while MySQL is unreachable, and the records are written once it is back.

MySQL is reached through a proxy the test cuts (the shared test MariaDB cannot be stopped); Kafka is real.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.db.migrate import migrate
from api.deadletters.recorder import DeadLetters
from api.lib.consumer import MySQLConsumer
from api.settings import default_migrations_dir
from common.kafka import ensure_topics
from schemas import DeadLetterHeaders, Topics
from tests.api.support import eventually, kafka_bootstrap


class CuttableProxy:
    """A TCP proxy to ``target`` that can be taken down (refusing and dropping connections) and up again
    on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        reader, writer = await asyncio.open_connection(*self._target)
        self._open |= {client_writer, writer}
        try:
            await asyncio.gather(self._pipe(client_reader, writer), self._pipe(reader, client_writer))
        finally:
            self._open -= {client_writer, writer}
            for end in (writer, client_writer):
                end.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


@pytest.fixture
async def proxied_engine(
    new_database: Callable[[], Awaitable[str]],
) -> AsyncIterator[tuple[AsyncEngine, CuttableProxy]]:
    """A migrated database of its own, and an engine that reaches it through a proxy."""
    url = make_url(await new_database())
    direct = create_async_engine(url)
    await migrate(direct, default_migrations_dir())
    await direct.dispose()
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 3306))
    await proxy.up()
    engine = create_async_engine(url.set(host="127.0.0.1", port=proxy.port), pool_pre_ping=True)
    yield engine, proxy
    await engine.dispose()


async def test_records_wait_through_a_mysql_outage_and_are_written_once_it_ends(
    proxied_engine: tuple[AsyncEngine, CuttableProxy],
    producer: AIOKafkaProducer,
    group_caught_up: Callable[[str, Sequence[str]], Awaitable[None]],
    new_topic_prefix: Callable[[], str],
) -> None:
    engine, proxy = proxied_engine
    topics = Topics(new_topic_prefix())
    await ensure_topics(kafka_bootstrap(), {topics.dead_letter: 1})
    ready = asyncio.Event()
    ready.set()
    consumer = MySQLConsumer(
        name="outage-test",
        sink=DeadLetters(topics),
        engine=engine,
        bootstrap=kafka_bootstrap(),
        topics=[topics.dead_letter],
        group_id=topics.dead_letter_group,
        topics_ready=ready,
    )
    await proxy.down()
    task = asyncio.create_task(consumer.run())
    try:
        headers = DeadLetterHeaders.build(
            reason="r", topic=topics.jobs("python"), partition=0, offset=0, worker="w"
        )
        await producer.send_and_wait(topics.dead_letter, b"during the outage", key=b"k", headers=headers)

        await eventually(lambda: _at_least(consumer.mysql_failures, 2))
        assert await _committed(topics.dead_letter_group) == {}, "nothing is committed while MySQL is down"
        await proxy.up()
        await group_caught_up(topics.dead_letter_group, [topics.dead_letter])
        assert consumer.mysql_failures == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async with engine.connect() as conn:
        previews = (await conn.execute(sa.text("SELECT preview FROM dead_letters"))).scalars().all()
    assert previews == ["during the outage"]


async def _committed(group: str) -> dict[object, object]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        return dict(await admin.list_consumer_group_offsets(group))
    finally:
        await admin.close()


async def _at_least(value: int, least: int) -> bool | None:
    return True if value >= least else None
