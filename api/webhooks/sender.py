"""The delivery task: every ``webhook_poll_s`` it claims due deliveries of finished submissions and
sends each: POST (native) or PUT (Judge0's verb) of the submission's JSON, signed, to the address the
SSRF guard checked just before. A 2xx is delivered; a 5xx, 429, timeout or connection failure is tried
again with back-off until ``webhook_retry_for_s`` after the submission finished; any other answer, or a
target the guard now refuses, fails it for good."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.clock import utcnow
from api.webhooks.deliveries import Due, Shape, State, claim_due, expired, settle
from api.webhooks.signature import HEADER, sign
from api.webhooks.targets import Target, TargetRefused, check_target
from common.backoff import Backoff

log = logging.getLogger(__name__)

BATCH = 20
LEASE_S = 120.0
FIRST_RETRY_S = 1.0
USER_AGENT = "Executioner-Webhook/1"

BodyOf = Callable[[Due], Awaitable[bytes | None]]
"""The JSON body of a delivery (its submission in the delivery's shape), or None when it is gone."""


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """How webhooks are sent (from the settings)."""

    secret: bytes
    allowed: list[IPv4Network | IPv6Network]
    timeout_s: float
    retry_for_s: float
    retry_cap_s: float
    poll_s: float


def pinned_request(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by the checked address, and the Host header and TLS name that keep
    the request what it was: so the connection goes where the guard looked, not to a new lookup."""
    parts = urlsplit(target.url)
    literal = f"[{target.address}]" if ":" in target.address else target.address
    netloc = f"{literal}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host = parts.netloc.rsplit("@", 1)[-1]
    return url, {"host": host}, {"sni_hostname": target.host}


def retry_delay(attempts: int, cap_s: float) -> float:
    """The wait before attempt ``attempts + 1`` (1 s doubling, at most ``cap_s``)."""
    backoff = Backoff(FIRST_RETRY_S, cap_s)
    delay = 0.0
    for _ in range(attempts):
        delay = backoff.failed()
    return delay


class WebhookSender:
    """Sends due webhooks until stopped (a background task of every API replica)."""

    def __init__(self, engine: AsyncEngine, policy: WebhookPolicy, body_of: BodyOf, owner: str) -> None:
        self.engine = engine
        self.policy = policy
        self.body_of = body_of
        self.owner = owner

    async def run(self) -> None:
        """Poll, claim, send, settle; forever (cancelled when the API stops)."""
        async with httpx.AsyncClient(
            timeout=self.policy.timeout_s, follow_redirects=False, trust_env=False
        ) as http:
            while True:
                due = await claim_due(self.engine, self.owner, BATCH, LEASE_S)
                await asyncio.gather(*(self._deliver(http, d) for d in due))
                if len(due) < BATCH:
                    await asyncio.sleep(self.policy.poll_s)

    async def _deliver(self, http: httpx.AsyncClient, due: Due) -> None:
        attempts = due.attempts + 1
        try:
            outcome = await self._attempt(http, due)
        except Exception as exc:
            log.exception("webhook of %s: unexpected failure", due.submission_id)
            outcome = (State.PENDING, f"internal: {exc!r}")
        state, error = outcome
        if state is State.PENDING and expired(due, utcnow(), self.policy.retry_for_s):
            state, error = State.FAILED, f"gave up after {attempts} attempts; last: {error}"
        delay = retry_delay(attempts, self.policy.retry_cap_s) if state is State.PENDING else 0.0
        await settle(
            self.engine, due.submission_id, state=state, attempts=attempts, error=error, retry_in_s=delay
        )
        log.info("webhook of %s: %s (attempt %d) %s", due.submission_id, state.value, attempts, error or "")

    async def _attempt(self, http: httpx.AsyncClient, due: Due) -> tuple[State, str | None]:
        body = await self.body_of(due)
        if body is None:
            return State.FAILED, "the submission is gone"
        try:
            target = await check_target(due.url, self.policy.allowed)
        except TargetRefused as exc:
            return State.FAILED, f"callback_url {exc}"
        url, headers, extensions = pinned_request(target)
        headers |= {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            HEADER: sign(self.policy.secret, body, int(time.time())),
        }
        method = "PUT" if due.shape is Shape.JUDGE0 else "POST"
        try:
            reply = await http.request(method, url, content=body, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            return State.PENDING, f"{type(exc).__name__}: {exc}"
        if reply.is_success:
            return State.DELIVERED, None
        if reply.status_code >= 500 or reply.status_code in (408, 429):
            return State.PENDING, f"HTTP {reply.status_code}"
        return State.FAILED, f"HTTP {reply.status_code} (not retried)"
