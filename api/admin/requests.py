"""Turn a ``PUT /api/v1/admin/pools/{language}`` body into a pool size, or refuse it with an
:class:`~api.lib.errors.ApiError` naming the offending field.

Two forms, exactly one per request: ``{"replicas": n}`` (a fixed size; autoscaling off) or
``{"min": a, "max": b}`` (autoscaling between a and b).
"""

from dataclasses import dataclass
from typing import Any

import orjson

from api.lib.errors import ApiError

FIXED_FIELDS = frozenset({"replicas"})
AUTOSCALE_FIELDS = frozenset({"min", "max"})


@dataclass(frozen=True, slots=True)
class FixedSize:
    """Keep ``replicas`` workers."""

    replicas: int


@dataclass(frozen=True, slots=True)
class Autoscaled:
    """Let the master choose between ``minimum`` and ``maximum`` workers from the queue's lag."""

    minimum: int
    maximum: int


PoolSize = FixedSize | Autoscaled


def _invalid(field: str | None, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, field)


def _count(data: dict[str, Any], field: str, most: int) -> int:
    value = data[field]
    # JSON true/false decode to bool, a subclass of int; 2.0 is a float: neither is a worker count.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(field, f"{field} must be an integer, not {orjson.dumps(value).decode()}")
    if value < 0:
        raise _invalid(field, f"{field} must not be negative")
    if value > most:
        raise _invalid(
            field,
            f"{field} must be at most {most}: a language's queue has {most} partitions "
            "and a worker without one would sit idle (EXECUTIONER_JOBS_PARTITIONS)",
        )
    return value


def parse_pool_size(raw: bytes, most_workers: int) -> PoolSize:
    """Validate a request body; ``most_workers`` is the largest useful count (the queue's partitions)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _invalid(None, 'the body must be a JSON object: {"replicas": n} or {"min": a, "max": b}')
    for name in data:
        if name not in FIXED_FIELDS | AUTOSCALE_FIELDS:
            raise _invalid(name, f"unknown field {name!r}")
    fields = set(data)
    if fields & FIXED_FIELDS and fields & AUTOSCALE_FIELDS:
        raise _invalid("replicas", 'give either {"replicas": n} or {"min": a, "max": b}, not both')
    if fields == FIXED_FIELDS:
        return FixedSize(_count(data, "replicas", most_workers))
    if fields == AUTOSCALE_FIELDS:
        minimum, maximum = _count(data, "min", most_workers), _count(data, "max", most_workers)
        if minimum > maximum:
            raise _invalid("min", f"min ({minimum}) must not exceed max ({maximum})")
        if maximum == 0:
            raise _invalid("max", 'max must be at least 1; {"replicas": 0} switches a pool off')
        return Autoscaled(minimum, maximum)
    missing = min(AUTOSCALE_FIELDS - fields) if fields else "replicas"
    raise _invalid(missing, f'{missing} is required: {{"replicas": n}} or {{"min": a, "max": b}}')
