"""Request bodies are JSON, and say so: a ``POST``, ``PUT`` or ``PATCH`` must carry ``content-type:
application/json`` (or an ``application/<something>+json`` type), with no charset or ``charset=utf-8``.

Why so strict: a browser sends a ``text/plain``, form or multipart request to another origin without
asking first (no CORS preflight). Were such bodies accepted, any web page could make its visitors'
browsers submit jobs. A JSON content type always needs a preflight, which only the origins in
``EXECUTIONER_CORS_ORIGINS`` pass (docs/security.md).
"""

from typing import Any

from litestar import Request

from api.lib.errors import ApiError

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
ACCEPTED = "application/json (or application/<type>+json), in UTF-8"


def is_json(media_type: str, options: dict[str, str]) -> bool:
    """Whether a parsed ``content-type`` names JSON in UTF-8 (JSON is UTF-8 by definition, RFC 8259)."""
    kind, _, subtype = media_type.strip().lower().partition("/")
    json_type = kind == "application" and (subtype == "json" or (subtype.endswith("+json") and subtype[:-5]))
    charset = {k.lower(): v for k, v in options.items()}.get("charset", "utf-8").strip('"').lower()
    return bool(json_type) and charset in ("utf-8", "utf8")


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """Litestar ``before_request`` hook: 415 for a request with a body that is not declared JSON."""
    if request.method not in BODY_METHODS:
        return
    media_type, options = request.content_type
    if not is_json(media_type, options):
        given = request.headers.get("content-type")
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body must be JSON: send content-type {ACCEPTED}; got {given!r}",
            "content-type",
        )
