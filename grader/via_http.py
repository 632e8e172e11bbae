"""Grading over the HTTP API: N clients, each posting one job at a time and following that submission's
event stream until its ``result`` (reconnecting with ``Last-Event-ID`` when a stream breaks off, as when
an API replica shuts down).

Each job's POST carries an ``Idempotency-Key`` of its own, the same on every retry of that POST: a retry
after a timeout or a dropped connection gets the submission the first attempt created, so no job runs
twice however its POST fails."""

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import orjson
from httpx_sse import SSEError, aconnect_sse

from common.backoff import Backoff, doubling, retrying
from grader.errors import GradeError
from grader.tracker import Tracker, error

SUBMISSIONS = "/api/v1/submissions"
REQUEST_TIMEOUT_S = 30.0
STREAM_READ_TIMEOUT_S = 60.0
"""Longer than the API's ping interval (15 s by default): a stream this quiet is dead."""
SUBMIT_ATTEMPTS = 5
"""Attempts of a job's POST (each with the job's idempotency key) before the job is given up."""
RETRIED_STATUSES = frozenset({409, 500, 502, 503, 504})
"""Answers worth another attempt: the key's first request still running (409), or the API failing."""
STREAM_ATTEMPTS = 10
"""Consecutive failed connections to a submission's stream before the job is given up."""


SUBMIT_RETRY_FIRST_S = 0.25
STREAM_RETRY_FIRST_S = 0.5
RETRY_CAP_S = 5.0
"""A POST is retried after 0.25 s, 0.5 s, 1 s ...; a stream is reopened after 0.5 s, 1 s, ...; at most 5 s."""


def _api_error(reply: httpx.Response) -> dict[str, Any]:
    """The API's ``{"error": {...}}`` detail, or the status and body text when it is not one."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return {"status": reply.status_code, **detail}
    return {"status": reply.status_code, **error(f"http_{reply.status_code}", reply.text[:1000])}


def idempotency_key() -> str:
    """A fresh ``Idempotency-Key`` value: a random UUID as a Structured Field String (quoted), as the
    IETF draft defines the header."""
    return f'"{uuid4()}"'


class _Retry(Exception):
    """The POST failed in a way worth another attempt; ``reason`` is the job's ``error`` if none is left."""

    def __init__(self, reason: dict[str, Any]) -> None:
        super().__init__(reason["message"])
        self.reason = reason


class _JobFailed(Exception):
    """The job cannot be followed any further; ``reason`` is its ``error``."""

    def __init__(self, reason: dict[str, Any]) -> None:
        super().__init__(reason["message"])
        self.reason = reason


class HttpGrading:
    """One run over HTTP."""

    def __init__(self, tracker: Tracker, api_url: str, concurrency: int) -> None:
        self._tracker = tracker
        self._api_url = api_url.rstrip("/")
        self._concurrency = concurrency

    async def run(self) -> None:
        """Grade every job, ``concurrency`` at a time."""
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, read=STREAM_READ_TIMEOUT_S)
        limits = httpx.Limits(max_connections=self._concurrency, max_keepalive_connections=self._concurrency)
        async with httpx.AsyncClient(base_url=self._api_url, timeout=timeout, limits=limits) as client:
            await self._probe(client)
            pending = iter(range(len(self._tracker.jobs)))
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._concurrency, len(self._tracker.jobs))):
                    group.create_task(self._client(client, pending))

    async def _probe(self, client: httpx.AsyncClient) -> None:
        try:
            reply = await client.get("/api/v1/languages")
        except httpx.HTTPError as exc:
            raise GradeError(f"cannot reach the API at {self._api_url}: {exc!r}") from exc
        if reply.status_code != 200:
            raise GradeError(f"GET {self._api_url}/api/v1/languages answered {reply.status_code}")

    async def _client(self, client: httpx.AsyncClient, pending: Iterator[int]) -> None:
        for index in pending:  # shared by every client: each job is taken once
            try:
                await self._grade(client, index)
            except _JobFailed as exc:
                self._tracker.failed(index, exc.reason)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                # One job's surprise (a broken reply) must not end the others' grading.
                self._tracker.failed(index, error("client_error", repr(exc)))

    async def _grade(self, client: httpx.AsyncClient, index: int) -> None:
        self._tracker.sent(index)
        reply = await self._submit(client, self._tracker.jobs[index].http_body(), idempotency_key())
        if 400 <= reply.status_code < 500:
            self._tracker.rejected(index, _api_error(reply))
            return
        if reply.status_code not in (200, 202):
            raise _JobFailed(_api_error(reply))
        submission_id = str(reply.json()["id"])
        self._tracker.accepted(index, submission_id)
        view = await self._follow(client, submission_id)
        self._tracker.finished(index, str(view.get("verdict")), view)

    async def _submit(self, client: httpx.AsyncClient, body: dict[str, Any], key: str) -> httpx.Response:
        """POST the job with idempotency key ``key``, retrying timeouts, broken connections, 409 and 5xx:
        the key makes every retry safe (the API answers it with the first attempt's submission)."""
        content = orjson.dumps(body)
        headers = {"content-type": "application/json", "idempotency-key": key}
        try:
            async for attempt in retrying(
                on=_Retry, wait=doubling(SUBMIT_RETRY_FIRST_S, RETRY_CAP_S), attempts=SUBMIT_ATTEMPTS
            ):
                with attempt:
                    return await self._post(client, content, headers)
        except _Retry as exc:
            raise _JobFailed(exc.reason) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    async def _post(client: httpx.AsyncClient, content: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            reply = await client.post(SUBMISSIONS, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retry(error("unreachable", f"cannot reach the API: {exc!r}")) from exc
        except httpx.TransportError as exc:
            raise _Retry(error("submit_failed", f"POST failed: {exc!r}")) from exc
        if reply.status_code in RETRIED_STATUSES:
            raise _Retry(_api_error(reply))
        return reply

    async def _follow(self, client: httpx.AsyncClient, submission_id: str) -> dict[str, Any]:
        """The data of the submission's ``result`` event."""
        url = f"{SUBMISSIONS}/{submission_id}/events"
        last_event_id: str | None = None
        backoff = Backoff(STREAM_RETRY_FIRST_S, RETRY_CAP_S)
        while True:
            headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
            status: int | None = None
            try:
                async with aconnect_sse(client, "GET", url, headers=headers) as source:
                    status = source.response.status_code
                    if 400 <= status < 500:
                        await source.response.aread()
                        raise _JobFailed(_api_error(source.response))
                    if status == 200:
                        async for sse in source.aiter_sse():
                            backoff.succeeded()
                            last_event_id = sse.id or last_event_id
                            if sse.event == "result":
                                data: dict[str, Any] = orjson.loads(sse.data)
                                return data
                    problem = f"the stream ended without a result (HTTP {status})"
            except (httpx.TransportError, SSEError) as exc:
                problem = f"the stream broke: {exc!r}"
            if status == 204:
                # Finished, and the server thinks we saw the result: read it (outside the stream, whose
                # connection is free again now).
                return await self._read(client, submission_id)
            delay = backoff.failed()
            if backoff.failures >= STREAM_ATTEMPTS:
                raise _JobFailed(error("stream_lost", f"{problem}, {backoff.failures} times in a row"))
            await asyncio.sleep(delay)

    async def _read(self, client: httpx.AsyncClient, submission_id: str) -> dict[str, Any]:
        reply = await client.get(f"{SUBMISSIONS}/{submission_id}", timeout=REQUEST_TIMEOUT_S)
        if reply.status_code != 200:
            raise _JobFailed(_api_error(reply))
        view: dict[str, Any] = reply.json()
        view.pop("submitted", None)  # the same data as the result event's
        return view
