"""The asyncio client: :class:`AsyncClient`, the same calls as :class:`executioner.Client`."""

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx
from httpx_sse import aconnect_sse

from executioner.errors import raise_for
from executioner.models import Accepted, StreamEvent, Submission
from executioner.wire import (
    SUBMISSIONS,
    StreamCursor,
    auth_headers,
    stream_event,
    submission_body,
)


class AsyncClient:
    """Executioner's native API at ``base_url``, with a submitter ``key`` when the API runs with keys."""

    def __init__(self, base_url: str, *, key: str | None = None, timeout_s: float = 30.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=auth_headers(key), timeout=timeout_s
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def submit(
        self, language: str, source: str, *, idempotency_key: str | None = None, **fields: Any
    ) -> Accepted:
        """Submit a program; ``fields`` are the API's other fields (``stdin``, ``tests``, ``limits``...).
        With ``idempotency_key``, a repeat of the same request is answered like the first."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = submission_body(language, source, fields)
        reply = await self._http.post(SUBMISSIONS, json=body, headers=headers)
        raise_for(reply)
        return Accepted.model_validate(reply.json())

    async def result(self, submission_id: str) -> Submission:
        """The submission as it is now (``finished`` once its result is in)."""
        reply = await self._http.get(f"{SUBMISSIONS}/{submission_id}")
        raise_for(reply)
        return Submission.model_validate(reply.json())

    async def stream(
        self, submission_id: str, *, last_event_id: int | None = None
    ) -> AsyncIterator[StreamEvent]:
        """The submission's events until ``result``, after ``last_event_id`` when given. A dropped
        connection is resumed from the last event seen (``Last-Event-ID``), so no event is lost or
        repeated."""
        cursor = StreamCursor(submission_id, last_event_id)
        while True:
            dropped: httpx.TransportError | None = None
            try:
                async with aconnect_sse(self._http, "GET", cursor.path, headers=cursor.headers()) as source:
                    if source.response.status_code == 204:  # its result was seen already
                        return
                    if not source.response.is_success:
                        await source.response.aread()
                        raise_for(source.response)
                    async for sse in source.aiter_sse():
                        event = stream_event(sse)
                        if event is not None:
                            yield event
                            if cursor.seen(event):
                                return
            except httpx.TransportError as error:
                dropped = error
            await asyncio.sleep(cursor.resume_delay(dropped))

    async def run(self, language: str, source: str, **fields: Any) -> Submission:
        """Submit a program and wait for its result (followed over the stream)."""
        accepted = await self.submit(language, source, **fields)
        async for event in self.stream(accepted.id):
            if event.submission is not None:
                return event.submission
        return await self.result(accepted.id)
