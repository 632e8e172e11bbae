"""Webhooks through the real cluster, to an HTTP receiver in this test process: signed deliveries of
native and Judge0 submissions, a retry after a 500 that outlives the API that accepted it, the SSRF
guard when a submission arrives and again before sending."""

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from api.webhooks.signature import HEADER, verify
from common.tables import webhook_deliveries
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

SECRET = "test-webhook-secret"
WEBHOOKS = {"EXECUTIONER_WEBHOOK_SECRET": SECRET, "EXECUTIONER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}
"""An API that sends webhooks, and may send them to this test's receiver on loopback."""


@dataclass
class Delivery:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int = 200

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """A plain HTTP/1.1 server: records every request and answers with ``status`` (changeable)."""

    port: int = 0
    status: int = 200
    received: "asyncio.Queue[Delivery]" = field(default_factory=asyncio.Queue)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, path, _ = head[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status = self.status  # what this request is answered, decided when it arrived
        await self.received.put(Delivery(method, path, headers, body, status))
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def next(self) -> Delivery:
        return await asyncio.wait_for(self.received.get(), 120)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver


@contextlib.asynccontextmanager
async def webhook_api(cluster: Cluster, **extra: str) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        cluster.extra_api({**WEBHOOKS, **extra}) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        yield http


async def settled_delivery(cluster: Cluster, submission_id: str) -> dict[str, Any]:
    """The delivery row of ``submission_id`` once it is no longer pending."""
    engine = create_async_engine(cluster.database_url)

    async def settled() -> dict[str, Any] | None:
        async with engine.connect() as conn:
            query = sa.select(webhook_deliveries).where(webhook_deliveries.c.submission_id == submission_id)
            row = (await conn.execute(query)).mappings().first()
        return dict(row) if row is not None and row["state"] != "pending" else None

    try:
        return await eventually(settled, within_s=120)
    finally:
        await engine.dispose()


def signed(delivery: Delivery) -> bool:
    return verify(SECRET.encode(), delivery.body, delivery.headers[HEADER.lower()]) is not None


async def test_a_native_webhook_is_signed_and_carries_the_result(
    cluster: Cluster, receiver: Receiver
) -> None:
    async with webhook_api(cluster) as api:
        body = {
            "language": "python",
            "source": "print(input()[::-1])",
            "stdin": "abc",
            "callback_url": receiver.url("/done?x=1"),
        }
        reply = await api.post("/api/v1/submissions", json=body)
        assert reply.status_code == 202, reply.text
        delivery = await receiver.next()
    assert (delivery.method, delivery.path) == ("POST", "/done?x=1")
    assert signed(delivery)
    assert delivery.headers["content-type"] == "application/json"
    view = delivery.json()
    assert (view["id"], view["status"], view["verdict"], view["stdout"]) == (
        reply.json()["id"],
        "finished",
        "accepted",
        "cba\n",
    )
    tampered = Delivery(
        delivery.method, delivery.path, delivery.headers, delivery.body.replace(b"cba", b"abc")
    )
    assert not signed(tampered)


async def test_a_judge0_callback_is_put_in_judge0s_shape(cluster: Cluster, receiver: Receiver) -> None:
    async with webhook_api(cluster) as api:
        body = {"source_code": "print('hi')", "language_id": 71, "callback_url": receiver.url("/judge0")}
        reply = await api.post("/judge0/submissions", json=body)
        assert reply.status_code == 201, reply.text
        delivery = await receiver.next()
    assert delivery.method == "PUT" and signed(delivery)
    submission = delivery.json()
    assert submission["token"] == reply.json()["token"]
    assert submission["status"] == {"id": 3, "description": "Accepted"}
    assert base64.b64decode(submission["stdout"]) == b"hi\n"  # Base64, as Judge0 sends callbacks


async def test_a_failed_delivery_is_retried_by_the_next_api(cluster: Cluster, receiver: Receiver) -> None:
    receiver.status = 500
    async with webhook_api(cluster) as api:
        body = {"language": "python", "source": "print(7)", "callback_url": receiver.url("/retry")}
        submission_id = (await api.post("/api/v1/submissions", json=body)).json()["id"]
        first = await receiver.next()  # answered 500
    # That API is gone; the delivery is in MySQL. The receiver recovers, and another API sends it.
    receiver.status = 200
    async with webhook_api(cluster):
        second = await receiver.next()
        while second.answered != 200:  # a retry the first API made before it stopped
            second = await receiver.next()
        row = await settled_delivery(cluster, submission_id)
    assert first.answered == 500 and first.body == second.body and signed(second)
    assert second.json()["id"] == submission_id and second.json()["stdout"] == "7\n"
    assert row["state"] == "delivered" and row["attempts"] >= 2


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.0.0.1/hook",
        "http://[::1]:8080/hook",  # loopback, but not in the allowed 127.0.0.0/8
        "http://[::ffff:10.0.0.1]/hook",
        "http://no-such-host.invalid/hook",
        "ftp://example.com/",
        "http://user:secret@127.0.0.1/",
    ],
)
async def test_the_ssrf_guard_refuses_targets_when_submitted(cluster: Cluster, url: str) -> None:
    async with webhook_api(cluster) as api:
        native = await api.post(
            "/api/v1/submissions", json={"language": "python", "source": "print(1)", "callback_url": url}
        )
        assert native.status_code == 422 and native.json()["error"]["field"] == "callback_url", native.text
        judge0 = await api.post(
            "/judge0/submissions", json={"source_code": "print(1)", "language_id": 71, "callback_url": url}
        )
        assert judge0.status_code == 422 and list(judge0.json()) == ["callback_url"], judge0.text


async def test_without_a_secret_no_webhook_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"language": "python", "source": "print(1)", "callback_url": "http://93.184.216.34/"}
    reply = await client.post("/api/v1/submissions", json=body)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "webhooks_disabled"


async def test_the_target_is_checked_again_before_sending(cluster: Cluster, receiver: Receiver) -> None:
    # Accepted by an API that allows loopback; sent by one that does not (as if the name had been
    # re-pointed at a loopback address since): nothing reaches the receiver, the delivery fails.
    async with cluster.workers_held("python"), webhook_api(cluster) as api:
        body = {"language": "python", "source": "print(1)", "callback_url": receiver.url("/late")}
        reply = await api.post("/api/v1/submissions", json=body)
        assert reply.status_code == 202
    async with webhook_api(cluster, EXECUTIONER_WEBHOOK_ALLOWED_NETWORKS=""):
        view = await settled_delivery(cluster, reply.json()["id"])
    assert view["state"] == "failed" and "loopback" in view["last_error"]
    assert receiver.received.empty()
