"""Submitting a translated request through the native path: the same validation, admission limits,
transaction (submission row + outbox row) and relay as ``POST /api/v1/submissions``."""

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

import orjson

from api.keys.principal import current_principal
from api.lib.tracing import request_span
from api.limits.quota import quota_for
from api.services import Services
from api.submissions.repository import insert_submission
from api.submissions.requests import parse_submission
from api.webhooks.accept import accept_callback
from api.webhooks.deliveries import Shape
from schemas import JobMessage


async def submit_native(
    services: Services,
    request: dict[str, Any],
    shape: Shape = Shape.NATIVE,
    *,
    route: str = "compat submission",
    headers: Mapping[str, str] | None = None,
) -> JobMessage:
    """Store the native submission ``request`` (a ``POST /api/v1/submissions`` body) durably and wake
    the relay; its ``callback_url`` gets webhooks of ``shape``. Raises the native
    :class:`~api.lib.errors.ApiError` when it is refused. The job's trace starts in a span named
    ``route``, continuing the caller's when its ``headers`` carry a ``traceparent``."""
    with request_span(route, headers or {}):
        accepted = parse_submission(orjson.dumps(request), services.rules, uuid4())
        job = accepted.job
        caller = current_principal()
        callback = await accept_callback(accepted.callback_url, services.settings, shape)
        stored = await insert_submission(
            services.engine,
            job,
            accepted.payload,
            services.settings.topics.jobs(job.language),
            callback=callback,
            owner_key=caller.key_id,
            quota=quota_for(caller, services.settings, job.language),
            lease=services.relay.lease_new_row(),
        )
    services.relay.publish_soon(stored.outbox)
    return job
