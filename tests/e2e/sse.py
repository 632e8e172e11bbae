"""A small SSE reader for the tests: collects a submission's events until `result` (or a limit)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from httpx_sse import aconnect_sse


@dataclass(frozen=True)
class Event:
    """One received server-sent event."""

    event: str
    id: str
    data: Any


async def read_events(
    client: httpx.AsyncClient,
    url: str,
    *,
    last_event_id: str | None = None,
    until: Callable[["Event"], bool] = lambda e: e.event == "result",
    on_event: Callable[["Event"], object] = lambda e: None,
) -> list[Event]:
    """Follow ``url`` and return its events up to and including the first one ``until`` accepts (by
    default the final ``result``); then the connection is dropped, as a browser that went away.
    ``on_event`` sees each event as it arrives."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    events: list[Event] = []
    async with aconnect_sse(client, "GET", url, headers=headers) as source:
        assert source.response.status_code == 200, source.response.status_code
        assert source.response.headers["content-type"].startswith("text/event-stream")
        async for sse in source.aiter_sse():
            if not sse.data:  # httpx-sse dispatches an empty event after a ping comment; the spec does not
                continue
            events.append(Event(sse.event, sse.id, orjson.loads(sse.data)))
            on_event(events[-1])
            if until(events[-1]):
                break
    return events


def is_running(event: Event) -> bool:
    """The status event that says a worker took the job."""
    return event.event == "status" and event.data.get("status") == "running"
