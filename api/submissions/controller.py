"""``POST /api/v1/submissions``, ``GET`` and ``DELETE /api/v1/submissions/{id}``, and its share link."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from uuid import uuid4

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from api.compat.waiting import wait_for_result
from api.idempotency.keys import HEADER, claim_for, parse_idempotency_key
from api.keys.guard import SHARE_PARAM, route_opt
from api.keys.principal import current_principal
from api.keys.tokens import share_token
from api.lib.errors import ApiError, documented_errors, not_found
from api.lib.openapi import KEY_SECURITY
from api.lib.responses import json_response
from api.lib.tracing import request_span
from api.limits.quota import quota_for
from api.problems.submit import accept_problem_submission
from api.services import Services
from api.submissions.openapi import AUTH_ERRORS, ERROR_RESPONSES, SubmissionRequestOperation
from api.submissions.repository import (
    KeyedRequest,
    delete_finished_submission,
    fetch_program,
    fetch_submission,
    insert_submission,
)
from api.submissions.requests import accept_submission, load_request, parse_submission_id, parse_wait
from api.submissions.views import Submission, SubmissionResult, submission_view, submitted_view
from api.webhooks.accept import accept_callback
from api.webhooks.deliveries import Shape
from common.log_context import log_context
from schemas import Status

log = logging.getLogger(__name__)


class SubmissionAccepted(TypedDict):
    """The answer to an accepted submission."""

    id: str
    status: str
    events: str
    """Absolute URL of the submission's SSE event stream."""


class FinishedSubmission(SubmissionResult):
    """The answer to ``wait=true`` when the submission finished in time."""

    events: str


class SubmissionController(Controller):
    """Accepting and reading submissions."""

    path = "/api/v1/submissions"
    tags = ["submissions"]

    @post(
        "/",
        status_code=202,
        summary="Submit a program",
        operation_class=SubmissionRequestOperation,
        responses={
            200: ResponseSpec(
                FinishedSubmission,
                description="wait=true and the submission finished in time.",
                generate_examples=False,
            ),
            **ERROR_RESPONSES,
        },
        security=KEY_SECURITY,
        opt=route_opt("submit"),
    )
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[SubmissionAccepted]:
        """Validate, then store the submission and its job durably (one MySQL transaction) and answer
        202; the outbox relay publishes the job to Kafka in the background.

        With keys on, the answer carries the ``RateLimit-*`` headers of the key's per-minute limit; over
        a limit it is 429 (``Retry-After``, and the limit named in the body).

        With an ``Idempotency-Key`` header, a repeat of the request within 24 h is answered like the first
        (202, the same JSON, plus ``Idempotent-Replayed: true``) and stores nothing.

        With ``?wait=true`` the request waits for the result, at most ``EXECUTIONER_COMPAT_WAIT_S``: 200
        with the finished submission (as GET returns it), or the 202 above when the wait runs out.
        """
        wait = parse_wait(request.query_params.get("wait"))
        with request_span("POST /api/v1/submissions", request.headers) as span:
            key = parse_idempotency_key(request.headers.getall(HEADER, []))
            data = load_request(await request.body())
            if "problem" in data:
                accepted = await accept_problem_submission(data, services.rules, services.engine, uuid4())
            else:
                accepted = accept_submission(data, services.rules, uuid4())
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
            caller = current_principal()
            with log_context(submission_id=job.id, language=job.language):
                stored = await insert_submission(
                    services.engine,
                    job,
                    accepted.payload,
                    settings.topics.jobs(job.language),
                    keyed,
                    callback=callback,
                    owner_key=caller.key_id,
                    quota=quota_for(caller, settings, job.language),
                    user_source=accepted.user_source,
                    lease=services.relay.lease_new_row(),
                )
                earlier = stored.earlier
                if earlier is None:
                    log.info("submission %s accepted (%s)", job.id, job.language)
        submission_id = str(earlier or job.id)
        if earlier is None:
            services.relay.publish_soon(stored.outbox)
        events = request.url_for("submission-events", submission_id=submission_id)
        body: SubmissionAccepted = {"id": submission_id, "status": "queued", "events": events}
        # The draft asks a replay to answer what the first request was answered: 202 and the same body.
        replayed = {"Idempotent-Replayed": "true"} if earlier is not None else {}
        headers = replayed | stored.rate_limit
        if wait:
            row = await wait_for_result(
                engine=services.engine,
                broker=services.broker,
                source=services.source,
                submission_id=earlier or job.id,
                timeout_s=settings.compat_wait_s,
            )
            if row is not None and row.status is Status.FINISHED:
                return json_response(submission_view(row) | {"events": events}, 200, headers=headers)
        return json_response(body, 202, headers=headers)

    @get(
        "/{submission_id:str}",
        summary="A submission and, once finished, its result",
        responses=documented_errors({**AUTH_ERRORS, 400: "Invalid request.", 404: "No such submission."}),
        security=KEY_SECURITY,
        opt=route_opt("read", owned="submission_id", shared=True),
    )
    async def read(self, submission_id: FromPath[str], services: NamedDependency[Services]) -> Submission:
        """The submission's status, verdict, output and per-test reports, and under ``submitted`` the
        program, input and tests it was sent with."""
        sid = parse_submission_id(submission_id)
        row = await fetch_submission(services.engine, sid)
        program = await fetch_program(services.engine, sid)
        if row is None or program is None:
            raise not_found("submission")
        return {**submission_view(row), "submitted": submitted_view(row, program)}

    @delete(
        "/{submission_id:str}",
        status_code=204,
        summary="Delete a finished submission",
        responses=documented_errors(
            {
                **AUTH_ERRORS,
                400: "Invalid request.",
                404: "No such submission.",
                409: "The submission has not finished yet.",
            }
        ),
        security=KEY_SECURITY,
        opt=route_opt("submit", owned="submission_id"),
    )
    async def remove(self, submission_id: FromPath[str], services: NamedDependency[Services]) -> None:
        """Delete a finished submission of the caller's key, with its program, input and result. A
        queued or running one cannot be deleted (409): its result would arrive for nothing."""
        sid = parse_submission_id(submission_id)
        if await delete_finished_submission(services.engine, sid):
            return
        if await fetch_submission(services.engine, sid) is None:
            raise not_found("submission")
        raise ApiError(409, "not_finished", "the submission has not finished yet; delete it once it has")

    @get(
        "/{submission_id:str}/share",
        summary="A link to the submission's page for others",
        responses=documented_errors({**AUTH_ERRORS, 400: "Invalid request.", 404: "No such submission."}),
        security=KEY_SECURITY,
        opt=route_opt("read", owned="submission_id"),
    )
    async def share(
        self,
        submission_id: FromPath[str],
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
    ) -> dict[str, str | None]:
        """``{"url", "expires_at"}``: the submission's page. With keys on, the URL carries a token signed
        by the server that lets anyone holding it read this one submission (page, JSON and stream) until
        ``expires_at`` (``EXECUTIONER_SHARE_TTL_S``); with keys off, it is the bare page."""
        sid = parse_submission_id(submission_id)
        if await fetch_submission(services.engine, sid) is None:
            raise not_found("submission")
        page = f"{str(request.base_url).rstrip('/')}/s/{sid}"
        settings = services.settings
        if settings.auth == "off" or settings.auth_secret is None:
            return {"url": page, "expires_at": None}
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=settings.share_ttl_s)
        token = share_token(settings.auth_secret.get_secret_value(), sid, expires)
        return {
            "url": f"{page}?{SHARE_PARAM}={token}",
            "expires_at": expires.isoformat().replace("+00:00", "Z"),
        }
