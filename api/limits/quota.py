"""Per-key limits (``EXECUTIONER_AUTH=keys``): submissions per minute, jobs queued or running at once,
CPU seconds per day, each per key and language. The one place they are checked: in the transaction
that stores a submission (:func:`api.submissions.repository.insert_submission`).

The counters are rows of MySQL (``key_usage``, and the ``submissions`` rows themselves for the active
jobs), not process memory: they hold across API replicas and restarts. Admissions of one key are
serialized by a row lock on its ``api_keys`` row, so two replicas cannot both take the last slot.
Windows are fixed (the UTC minute, the UTC day): simple to explain, and a client can read when it resets.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from api.keys.principal import Principal
from api.lib.errors import ApiError
from api.settings import ApiSettings, KeyLimitOverrides, KeyLimits
from common.tables import api_keys, key_usage, submissions
from schemas import Status

MINUTE_S = 60
DAY_S = 86_400
ACTIVE_RETRY_S = 5
"""What a client refused for too many active jobs is told to wait: jobs end within seconds usually,
and nothing can say exactly when."""


@dataclass(frozen=True, slots=True)
class Quota:
    """The limits one submission is admitted under: its key's, for its language."""

    key_id: str
    language: str
    limits: KeyLimits


def quota_for(principal: Principal, settings: ApiSettings, language: str) -> Quota | None:
    """The quota of a submission by ``principal`` in ``language``: the key's own limits over the
    language's defaults over the global defaults. None when the caller is no key (auth off, admin)."""
    if principal.key_id is None:
        return None
    by_language = settings.limits_by_language.get(language, KeyLimitOverrides())
    limits = principal.overrides.over(by_language.over(settings.limits))
    return Quota(principal.key_id, language, limits)


def limit_exceeded(name: str, limit: int, used: int, reset_s: int, window_s: int | None) -> ApiError:
    """The 429 of a limit reached: ``Retry-After`` and the IETF draft's ``RateLimit-*`` headers
    (draft-ietf-httpapi-ratelimit-headers-07), and a body naming the limit."""
    reset_s = max(reset_s, 1)
    policy = f"{limit};w={window_s}" if window_s else str(limit)
    headers = {
        "Retry-After": str(reset_s),
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(reset_s),
        "RateLimit-Policy": policy,
    }
    details = {"limit": {"name": name, "limit": limit, "used": used, "retry_after_s": reset_s}}
    message = f"the key's limit {name} ({limit}) is reached; try again in {reset_s} s"
    return ApiError(429, "rate_limited", message, headers=headers, details=details)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds())


async def _used(conn: AsyncConnection, quota: Quota, metric: str, window: datetime) -> int:
    c = key_usage.c
    query = sa.select(c.used).where(
        c.key_id == quota.key_id, c.language == quota.language, c.metric == metric, c.window_start == window
    )
    return int(await conn.scalar(query) or 0)


async def _add(
    conn: AsyncConnection, key_id: str, language: str, metric: str, *, window: datetime, amount: int
) -> None:
    row = {"key_id": key_id, "language": language, "metric": metric, "window_start": window, "used": amount}
    stmt = insert(key_usage).values(row)
    await conn.execute(stmt.on_duplicate_key_update(used=key_usage.c.used + stmt.inserted.used))


async def admit(conn: AsyncConnection, quota: Quota, now: datetime) -> dict[str, str]:
    """Count one more submission against ``quota`` at ``now`` (naive UTC), within the caller's
    transaction; raises the 429 :class:`~api.lib.errors.ApiError` of the first limit it would pass.
    Returns the ``RateLimit-*`` headers of the per-minute limit, for the answer that accepts it."""
    limits = quota.limits
    # Serializes this key's admissions on every replica until the caller's transaction ends.
    await conn.execute(sa.select(api_keys.c.id).where(api_keys.c.id == quota.key_id).with_for_update())
    minute = now.replace(second=0, microsecond=0)
    per_minute = await _used(conn, quota, "submissions", minute)
    if per_minute >= limits.submissions_per_minute:
        reset = _seconds_until(minute + timedelta(seconds=MINUTE_S), now)
        raise limit_exceeded(
            "submissions_per_minute", limits.submissions_per_minute, per_minute, reset, MINUTE_S
        )
    c = submissions.c
    active = await conn.scalar(
        sa.select(sa.func.count()).where(
            c.owner_key == quota.key_id,
            c.status.in_([Status.QUEUED.value, Status.RUNNING.value]),
            c.language == quota.language,
        )
    )
    if (active or 0) >= limits.active_jobs:
        raise limit_exceeded("active_jobs", limits.active_jobs, int(active or 0), ACTIVE_RETRY_S, None)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    cpu_ms = await _used(conn, quota, "cpu_ms", day)
    if cpu_ms >= limits.cpu_seconds_per_day * 1000:
        reset = _seconds_until(day + timedelta(seconds=DAY_S), now)
        raise limit_exceeded("cpu_seconds_per_day", limits.cpu_seconds_per_day, cpu_ms // 1000, reset, DAY_S)
    await _add(conn, quota.key_id, quota.language, "submissions", window=minute, amount=1)
    reset = max(_seconds_until(minute + timedelta(seconds=MINUTE_S), now), 1)
    return {
        "RateLimit-Limit": str(limits.submissions_per_minute),
        "RateLimit-Remaining": str(limits.submissions_per_minute - per_minute - 1),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{limits.submissions_per_minute};w={MINUTE_S}",
    }


async def record_cpu(conn: AsyncConnection, key_id: str, language: str, cpu_ms: int, at: datetime) -> None:
    """Count ``cpu_ms`` a finished submission of ``key_id`` used against the key's day of ``at``."""
    if cpu_ms > 0:
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        await _add(conn, key_id, language, "cpu_ms", window=day, amount=cpu_ms)
