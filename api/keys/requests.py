"""The body of ``POST /api/v1/admin/keys``, checked: bad input is a 422 naming the field."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.keys.tokens import parse_scopes
from api.lib.errors import ApiError
from api.settings import KeyLimitOverrides


class _KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[str], Field(min_length=1)]
    expires_at: Annotated[datetime, Field(strict=False)] | None = None
    limits: KeyLimitOverrides = KeyLimitOverrides()

    @field_validator("scopes")
    @classmethod
    def _known(cls, scopes: list[str]) -> list[str]:
        parse_scopes(scopes)
        return scopes

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2027-01-01T00:00:00Z)")
        return moment


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A key an admin asked for: its name, scopes, optional expiry (naive UTC) and limit overrides."""

    name: str
    scopes: frozenset[str]
    expires_at: datetime | None
    limits: KeyLimitOverrides


def parse_key_request(body: bytes) -> KeyRequest:
    """``{"name", "scopes": [...], "expires_at"?, "limits"?}`` → :class:`KeyRequest`, or a 400/422."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from None
    try:
        parsed = _KeyRequest.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or None
        raise ApiError(422, "validation_error", problem["msg"], field) from None
    expires = parsed.expires_at.astimezone(UTC).replace(tzinfo=None) if parsed.expires_at else None
    return KeyRequest(parsed.name, parse_scopes(parsed.scopes), expires, parsed.limits)
