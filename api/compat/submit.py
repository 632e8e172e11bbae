"""Submitting a translated request through the native path: the same validation, admission limits,
transaction (submission row + outbox row) and relay as ``POST /api/v1/submissions``."""

from typing import Any
from uuid import uuid4

import orjson

from api.keys.principal import current_principal
from api.limits.quota import quota_for
from api.services import Services
from api.submissions.repository import insert_submission
from api.submissions.requests import parse_submission
from schemas import JobMessage


async def submit_native(services: Services, request: dict[str, Any]) -> JobMessage:
    """Store the native submission ``request`` (a ``POST /api/v1/submissions`` body) durably and wake
    the relay. Raises the native :class:`~api.lib.errors.ApiError` when it is refused."""
    accepted = parse_submission(orjson.dumps(request), services.rules, uuid4())
    job = accepted.job
    caller = current_principal()
    await insert_submission(
        services.engine,
        job,
        accepted.payload,
        services.settings.topics.jobs(job.language),
        owner_key=caller.key_id,
        quota=quota_for(caller, services.settings, job.language),
    )
    services.relay.wake()
    return job
