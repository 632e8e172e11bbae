"""The synchronous client: :class:`Client` (and, re-exported, :class:`AsyncClient`)."""

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import httpx
from httpx_sse import connect_sse

from executioner.async_client import AsyncClient
from executioner.errors import raise_for
from executioner.models import Accepted, StreamEvent, Submission
from executioner.wire import (
    SUBMISSIONS,
    StreamCursor,
    auth_headers,
    stream_event,
    submission_body,
)

__all__ = ["AsyncClient", "Client"]


class Client:
    """Executioner's native API at ``base_url``, with a submitter ``key`` when the API runs with keys."""

    def __init__(self, base_url: str, *, key: str | None = None, timeout_s: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=auth_headers(key), timeout=timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def submit(
        self, language: str, source: str, *, idempotency_key: str | None = None, **fields: Any
    ) -> Accepted:
        """Submit a program; ``fields`` are the API's other fields (``stdin``, ``tests``, ``limits``...).
        With ``idempotency_key``, a repeat of the same request is answered like the first."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        reply = self._http.post(SUBMISSIONS, json=submission_body(language, source, fields), headers=headers)
        raise_for(reply)
        return Accepted.model_validate(reply.json())

    def result(self, submission_id: str) -> Submission:
        """The submission as it is now (``finished`` once its result is in)."""
        reply = self._http.get(f"{SUBMISSIONS}/{submission_id}")
        raise_for(reply)
        return Submission.model_validate(reply.json())

    def stream(self, submission_id: str, *, last_event_id: int | None = None) -> Iterator[StreamEvent]:
        """The submission's events until ``result``, after ``last_event_id`` when given. A dropped
        connection is resumed from the last event seen (``Last-Event-ID``), so no event is lost or
        repeated."""
        cursor = StreamCursor(submission_id, last_event_id)
        while True:
            dropped: httpx.TransportError | None = None
            try:
                with connect_sse(self._http, "GET", cursor.path, headers=cursor.headers()) as source:
                    if source.response.status_code == 204:  # its result was seen already
                        return
                    if not source.response.is_success:
                        source.response.read()
                        raise_for(source.response)
                    for sse in source.iter_sse():
                        event = stream_event(sse)
                        if event is not None:
                            yield event
                            if cursor.seen(event):
                                return
            except httpx.TransportError as error:
                dropped = error
            time.sleep(cursor.resume_delay(dropped))

    def run(self, language: str, source: str, **fields: Any) -> Submission:
        """Submit a program and wait for its result (followed over the stream)."""
        accepted = self.submit(language, source, **fields)
        for event in self.stream(accepted.id):
            if event.submission is not None:
                return event.submission
        return self.result(accepted.id)
