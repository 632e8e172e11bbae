"""JSON responses encoded with orjson instead of Litestar's default msgspec encoder."""

from typing import Any

import orjson
from litestar import MediaType, Response
from litestar.serialization import default_serializer
from litestar.types import Serializer

_JSON_TYPES = (MediaType.JSON.value, "application/problem+json")


class OrjsonResponse(Response[Any]):
    """Renders JSON bodies with orjson; anything else (text, bytes) the way Litestar does."""

    def render(self, content: Any, media_type: str, enc_hook: Serializer = default_serializer) -> bytes:
        """Encode ``content`` for ``media_type``."""
        if media_type in _JSON_TYPES and not isinstance(content, bytes):
            return orjson.dumps(content, default=enc_hook)
        return super().render(content, media_type, enc_hook)


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[Any]:
    """An orjson-encoded JSON response with an explicit status code."""
    return OrjsonResponse(content, status_code=status_code, media_type=MediaType.JSON, headers=headers)
