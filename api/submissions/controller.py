"""``POST /api/v1/submissions`` and ``GET /api/v1/submissions/{id}``."""

import logging
from typing import Any, TypedDict
from uuid import uuid4

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.idempotency.keys import HEADER, claim_for, parse_idempotency_key
from api.lib.errors import documented_errors, not_found
from api.lib.responses import json_response
from api.lib.tracing import request_span
from api.services import Services
from api.submissions.openapi import ERROR_RESPONSES, SubmissionRequestOperation
from api.submissions.repository import KeyedRequest, fetch_program, fetch_submission, insert_submission
from api.submissions.requests import parse_submission, parse_submission_id
from api.submissions.views import submission_view, submitted_view
from api.webhooks.accept import accept_callback
from api.webhooks.deliveries import Shape
from common.log_context import log_context

log = logging.getLogger(__name__)


class SubmissionAccepted(TypedDict):
    """The answer to an accepted submission."""

    id: str
    status: str
    events: str
    """Absolute URL of the submission's SSE event stream."""


class SubmissionController(Controller):
    """Accepting and reading submissions."""

    path = "/api/v1/submissions"
    tags = ["submissions"]

    @post(
        "/",
        status_code=202,
        summary="Submit a program",
        operation_class=SubmissionRequestOperation,
        responses=ERROR_RESPONSES,
    )
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[SubmissionAccepted]:
        """Validate, then store the submission and its job durably (one MySQL transaction) and answer
        202; the outbox relay publishes the job to Kafka in the background.

        With an ``Idempotency-Key`` header, a repeat of the request within 24 h is answered like the first
        (202, the same JSON, plus ``Idempotent-Replayed: true``) and stores nothing.
        """
        with request_span("POST /api/v1/submissions", request.headers) as span:
            key = parse_idempotency_key(request.headers.getall(HEADER, []))
            accepted = parse_submission(await request.body(), services.rules, uuid4())
            job = accepted.job
            span.set_attributes(
                {"executioner.submission_id": str(job.id), "executioner.language": job.language}
            )
            settings = services.settings
            callback = await accept_callback(accepted.callback_url, settings, Shape.NATIVE)
            keyed = None
            if key is not None:
                claim = claim_for(key, job)
                keyed = KeyedRequest(claim, settings.idempotency_ttl_s, settings.idempotency_wait_s)
            with log_context(submission_id=job.id, language=job.language):
                earlier = await insert_submission(
                    services.engine,
                    job,
                    accepted.payload,
                    settings.topics.jobs(job.language),
                    keyed,
                    callback=callback,
                )
                if earlier is None:
                    log.info("submission %s accepted (%s)", job.id, job.language)
        submission_id = str(earlier or job.id)
        if earlier is None:
            services.relay.wake()
        events = request.url_for("submission-events", submission_id=submission_id)
        body: SubmissionAccepted = {"id": submission_id, "status": "queued", "events": events}
        # The draft asks a replay to answer what the first request was answered: 202 and the same body.
        replayed = {"Idempotent-Replayed": "true"} if earlier is not None else None
        return json_response(body, 202, headers=replayed)

    @get(
        "/{submission_id:str}",
        summary="A submission and, once finished, its result",
        responses=documented_errors({400: "Invalid request.", 404: "No such submission."}),
    )
    async def read(self, submission_id: FromPath[str], services: NamedDependency[Services]) -> dict[str, Any]:
        """The submission's status, verdict, output and per-test reports, and under ``submitted`` the
        program, input and tests it was sent with."""
        sid = parse_submission_id(submission_id)
        row = await fetch_submission(services.engine, sid)
        program = await fetch_program(services.engine, sid)
        if row is None or program is None:
            raise not_found("submission")
        return {**submission_view(row), "submitted": submitted_view(row, program)}
