"""A minimal Server-Sent Events client on asyncio streams: one HTTP/1.1 ``GET`` per stream, chunked or
read-to-close bodies, events parsed as the SSE spec says. Light enough to hold ten thousand idle streams
in one process, which a general-purpose HTTP client is not."""

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

HEADER_LIMIT = 64 * 1024


class SseError(RuntimeError):
    """The server did not answer with an event stream."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event."""

    event: str
    id: str | None
    data: str


def _parse_block(block: bytes) -> SseEvent | None:
    """One event from its lines (without the blank line that ended it); None for comments only."""
    name, event_id, data = "message", None, []
    for raw in block.split(b"\n"):
        line = raw.decode()
        if not line or line.startswith(":"):
            continue  # a comment: the server's keep-alive pings
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
        elif key == "id":
            event_id = value
    if not data and name == "message":
        return None
    return SseEvent(name, event_id, "\n".join(data))


class SseStream:
    """One open event stream. Read it with :meth:`next_event`; :meth:`close` it when done."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, chunked: bool) -> None:
        self._reader = reader
        self._writer = writer
        self._chunked = chunked
        self._buffer = b""
        self._carry = b""
        self._ended = False

    @classmethod
    async def open(cls, url: str, last_event_id: str | None = None) -> "SseStream":
        """Connect and send the request; raises :class:`SseError` unless the answer is a 200 stream."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        reader, writer = await asyncio.open_connection(host, port, limit=HEADER_LIMIT)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            resume = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                f"Cache-Control: no-cache\r\n{resume}\r\n".encode()
            )
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = head[0].split(" ", 2)
            if len(status) < 2 or status[1] != "200":
                raise SseError(f"GET {url}: {head[0]}")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            if not headers.get("content-type", "").startswith("text/event-stream"):
                raise SseError(f"GET {url}: content-type {headers.get('content-type')!r}")
        except BaseException:
            writer.close()
            raise
        return cls(reader, writer, headers.get("transfer-encoding", "").lower() == "chunked")

    async def _body(self) -> bytes:
        """The next piece of the body; empty at its end."""
        if not self._chunked:
            return await self._reader.read(65536)
        size = int((await self._reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return b""
        piece = await self._reader.readexactly(size)
        await self._reader.readexactly(2)  # the CRLF after each chunk
        return piece

    def _feed(self, piece: bytes) -> None:
        # Lines may end in CRLF, LF or CR; a CR at the very end may be half of a CRLF.
        text = self._carry + piece
        self._carry = b""
        if text.endswith(b"\r"):
            text, self._carry = text[:-1], b"\r"
        self._buffer += text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    async def next_event(self) -> SseEvent | None:
        """The next event; None when the stream ended."""
        while True:
            while (end := self._buffer.find(b"\n\n")) >= 0:
                block, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
                if (event := _parse_block(block)) is not None:
                    return event
            if self._ended:
                return None
            piece = await self._body()
            if not piece:
                self._ended = True  # an event cut off by the end is not dispatched (the SSE spec)
            else:
                self._feed(piece)

    async def until(self, name: str) -> SseEvent:
        """Read events up to and including the first one called ``name``."""
        while (event := await self.next_event()) is not None:
            if event.event == name:
                return event
        raise SseError(f"the stream ended before a {name!r} event")

    def close(self) -> None:
        """Drop the connection (as a browser that went away)."""
        self._writer.close()
