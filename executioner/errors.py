"""The one error the client raises for an answer it cannot use."""

from typing import Any

import httpx


class ExecutionerError(Exception):
    """The API refused a request (4xx/5xx) or answered something that is not the API's JSON.

    ``status`` is the HTTP status; ``code`` and ``field`` come from the API's ``{"error": {...}}`` body
    when it has one (``field`` names the bad input)."""

    def __init__(self, status: int, message: str, code: str | None = None, field: str | None = None) -> None:
        super().__init__(f"{status} {code or ''}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.field = field


def raise_for(reply: httpx.Response) -> None:
    """Raise :class:`ExecutionerError` for an unsuccessful ``reply`` (which must have been read)."""
    if reply.is_success:
        return
    try:
        body: Any = reply.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        raise ExecutionerError(
            reply.status_code, str(error.get("message", "")), error.get("code"), error.get("field")
        )
    raise ExecutionerError(reply.status_code, reply.text[:200] or reply.reason_phrase)
