"""orjson encoding and strict decoding of the wire formats."""

from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from schemas.jobs import JobMessage
from schemas.results import RESULT_MESSAGE_ADAPTER, ResultEvent, StatusEvent, TestEvent


class DecodeError(ValueError):
    """A message that is not a valid wire message. ``reason`` names the field when there is one."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def encode(message: BaseModel) -> bytes:
    """Encode a wire model as compact JSON bytes, leaving out unset optional fields that are None."""
    return orjson.dumps(message.model_dump(mode="json", exclude_none=True))


def _load(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from None


def _explain(exc: ValidationError) -> DecodeError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return DecodeError(f"field '{field}': {first['msg']}" if field else first["msg"], field)


def decode_job(raw: bytes) -> JobMessage:
    """Parse a job message; raise :class:`DecodeError` naming the first bad field."""
    data = _load(raw)
    if not isinstance(data, dict):
        raise DecodeError("a job message must be a JSON object")
    if data.get("v") != 1:
        raise DecodeError(f"unsupported version v={data.get('v')!r} (this worker speaks v=1)", "v")
    try:
        return JobMessage.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc) from None


def decode_result(raw: bytes) -> StatusEvent | TestEvent | ResultEvent:
    """Parse any message of the ``results`` topic; raise :class:`DecodeError` when it is not one."""
    data = _load(raw)
    try:
        return RESULT_MESSAGE_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _explain(exc) from None
