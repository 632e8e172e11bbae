"""A steady load of submissions, sent the way a careful client sends them: each with its own
``Idempotency-Key``, retried with back-off on connection errors and 5xx until the API accepts it, and
later checked: finished, with the output only it could have printed, recorded once."""

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

POST_GIVE_UP_S = 180.0
"""A submission not accepted within this (every fault included) is a failure of the test."""


class NotAccepted(Exception):
    """The API answered, but not with 202 (a 5xx while a dependency is down): try again."""


@dataclass(frozen=True)
class Submission:
    """One logical submission: what was sent, and the id the API gave it."""

    token: str
    source: str
    key: str
    id: str
    accepted_at: float

    @property
    def expected_stdout(self) -> str:
        return f"{self.token}\n"


PRINT_TOKEN = "print({token!r})"
"""A program only this submission runs: it prints its own token."""


async def submit(client: httpx.AsyncClient, token: str, program: str = PRINT_TOKEN) -> Submission:
    """POST ``program`` (formatted with ``token``) until it is accepted (same key on every try, so a
    retry of a POST whose answer was lost is the same submission)."""
    key = str(uuid.uuid4())
    source = program.format(token=token)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((httpx.TransportError, NotAccepted)),
        wait=wait_random_exponential(multiplier=0.2, max=3.0),
        stop=stop_after_delay(POST_GIVE_UP_S),
        reraise=True,
    ):
        with attempt:
            reply = await client.post(
                "/api/v1/submissions",
                json={"language": "python", "source": source},
                headers={"Idempotency-Key": key},
                timeout=10,
            )
            if reply.status_code >= 500:
                raise NotAccepted(f"{reply.status_code}: {reply.text[:200]}")
            assert reply.status_code in (200, 202), reply.text
            return Submission(token, source, key, reply.json()["id"], time.monotonic())
    raise AssertionError("unreachable: tenacity re-raises the last error")


@dataclass
class SteadyLoad:
    """Submits one program every ``interval_s`` (each send in its own task, so a slow POST never holds
    up the next) until stopped."""

    client: httpx.AsyncClient
    interval_s: float
    accepted: list[Submission] = field(default_factory=list)
    _sending: set[asyncio.Task[None]] = field(default_factory=set)

    async def _send_one(self) -> None:
        self.accepted.append(await submit(self.client, f"chaos-{secrets.token_hex(8)}"))

    async def _run(self) -> None:
        while True:
            task = asyncio.create_task(self._send_one())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
            await asyncio.sleep(self.interval_s)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["SteadyLoad"]:
        """Load for the duration of the block; on leaving, every send still under way is finished (a send
        that gave up fails the block)."""
        generator = asyncio.create_task(self._run(), name="chaos-load")
        try:
            yield self
        finally:
            generator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await generator
            await asyncio.gather(*list(self._sending))
