"""A stand-in Kafka producer and raw outbox rows, for the relay's tests on the real MySQL."""

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.outbox.relay import OutboxRelay


class HeldProducer:
    """Sends go out at once; their acknowledgements wait for :attr:`acks_allowed`."""

    def __init__(self, delivered: list[bytes]) -> None:
        self.delivered = delivered
        self.acks_allowed = asyncio.Event()
        self.sent: list[bytes] = []
        self.headers: dict[bytes, list[tuple[str, bytes]]] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> "asyncio.Future[Any]":
        self.sent.append(key)
        self.headers[key] = headers
        return asyncio.ensure_future(self._ack(key))

    async def _ack(self, key: bytes) -> None:
        await self.acks_allowed.wait()
        self.delivered.append(key)


async def insert_row(
    engine: AsyncEngine, key: bytes, *, lock_wait_s: int = 50, leased_to: str | None = None, lease_s: int = 0
) -> None:
    """Insert an outbox row, free or leased to ``leased_to`` until ``lease_s`` from now (negative: ended)."""
    statement = sa.text(
        "INSERT INTO outbox (topic, msg_key, payload, created_at, claimed_by, lease_until)"
        " VALUES ('t', :key, '{}', NOW(6), :owner, IF(:owner IS NULL, NULL, NOW(6) + INTERVAL :lease SECOND))"
    )
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"SET SESSION innodb_lock_wait_timeout = {lock_wait_s}"))
        await conn.execute(statement, {"key": key, "owner": leased_to, "lease": lease_s})


async def leases(engine: AsyncEngine) -> dict[bytes, str | None]:
    """Each outbox row's key and the relay holding it (None: free), oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT msg_key, claimed_by FROM outbox ORDER BY id"))
        return {key: owner for key, owner in rows}


def make_relay(engine: AsyncEngine, producer: Any, *, topics_ready: bool = True) -> OutboxRelay:
    """A relay polling every 0.1 s that publishes through ``producer``."""
    ready = asyncio.Event()
    if topics_ready:
        ready.set()
    return OutboxRelay(
        engine=engine,
        bootstrap="unused",
        topics_ready=ready,
        poll_interval_s=0.1,
        producer_factory=lambda: producer,
    )
