"""The master lock on the real MariaDB: one holder, hand-over when it goes, loss noticed."""

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from master.leadership import MYSQL_LOCK_NAME_MAX, Leadership, lock_name

RETRY_S = 0.2


@contextlib.contextmanager
def _on_log(prefix: str, then: Callable[[], object]) -> Iterator[None]:
    """Call ``then`` whenever master.leadership logs a message starting with ``prefix``."""

    class Hook(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith(prefix):
                then()

    logger, hook = logging.getLogger("master.leadership"), Hook(logging.INFO)
    level = logger.level
    logger.addHandler(hook)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(hook)
        logger.setLevel(level)


@pytest.fixture
def cluster() -> str:
    return f"lead-{secrets.token_hex(4)}"


@pytest.fixture
async def pair(cluster: str) -> AsyncIterator[tuple[Leadership, Leadership]]:
    url = os.environ["EXECUTIONER_DATABASE_URL"]
    first, second = Leadership(url, cluster, RETRY_S), Leadership(url, cluster, RETRY_S)
    yield first, second
    await first.close()
    await second.close()


def test_lock_names_fit_mysql() -> None:
    assert lock_name("dev") == "executioner-master-dev"
    long = lock_name("x" * 64)
    assert len(long) <= MYSQL_LOCK_NAME_MAX
    assert long != lock_name("x" * 63 + "y")


async def test_one_holds_the_other_waits_and_takes_over_when_it_lets_go(
    pair: tuple[Leadership, Leadership],
) -> None:
    first, second = pair
    stop = asyncio.Event()
    assert await first.acquire(stop)
    refused = asyncio.Event()  # set when the second one has asked MySQL for the lock and been refused
    with _on_log("standing by: another master holds", refused.set):
        waiting = asyncio.create_task(second.acquire(stop))
        async with asyncio.timeout(10):
            await refused.wait()
    assert not waiting.done()
    assert first.report is not None and second.report is None
    first_connection = first.report.connection_id

    await first.release()
    async with asyncio.timeout(10):
        assert await waiting
    assert second.report is not None
    assert second.report.connection_id != first_connection


async def test_a_standby_gives_up_waiting_when_stopped(pair: tuple[Leadership, Leadership]) -> None:
    first, second = pair
    stop = asyncio.Event()
    assert await first.acquire(stop)
    waiting = asyncio.create_task(second.acquire(stop))
    stop.set()
    async with asyncio.timeout(10):
        assert await waiting is False


async def test_a_holder_whose_connection_is_killed_notices_and_lets_go(
    pair: tuple[Leadership, Leadership],
) -> None:
    first, second = pair
    stop = asyncio.Event()
    assert await first.acquire(stop)
    assert first.report is not None
    holding = asyncio.create_task(first.hold(stop))
    admin = create_async_engine(os.environ["EXECUTIONER_DATABASE_URL"])
    try:
        async with admin.connect() as conn:  # what a MySQL restart or a network cut does to the session
            await conn.execute(sa.text(f"KILL CONNECTION {first.report.connection_id}"))
    finally:
        await admin.dispose()
    async with asyncio.timeout(10):
        await holding  # hold() returns: the lock is gone
    assert not first.held
    async with asyncio.timeout(10):
        assert await second.acquire(stop)
