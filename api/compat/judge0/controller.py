"""Judge0 CE 1.13.1's submission routes under ``/judge0``: create (one, or a batch), read, delete.

Each Judge0 submission is one native submission (its token is the native id): it is validated,
admitted, stored and run exactly as ``POST /api/v1/submissions`` would, then shown in Judge0's terms."""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import orjson
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin.auth import require_admin
from api.compat.errors import (
    CompatError,
    compat_error_handler,
    judge0_error,
    judge0_errors,
    judge0_field_error,
)
from api.compat.judge0.catalog import DEFAULTS, STATUSES, judge0_languages
from api.compat.judge0.requests import (
    judge0_field,
    parse_judge0_submission,
    query_fields,
    query_flag,
)
from api.compat.judge0.views import NOT_UTF8, NOT_UTF8_IN_BATCH, all_attributes, submission_view
from api.compat.judge0.wire import Judge0Batch, Judge0Errors, Judge0Submission, Judge0Token
from api.compat.submit import submit_native
from api.compat.waiting import wait_for_result
from api.keys.guard import route_opt
from api.lib.errors import ApiError
from api.lib.openapi import ADMIN_SECURITY, KEY_SECURITY
from api.lib.responses import json_response
from api.services import Services
from api.submissions.repository import (
    SubmissionRow,
    delete_finished_submission,
    fetch_program,
    fetch_submission,
)
from api.submissions.requests import parse_submission_id
from api.webhooks.deliveries import Shape
from schemas import Status

NOT_FOUND = "Not Found"
_CREATE_ERRORS = judge0_errors(
    {
        400: "A query parameter is invalid (named), or the body is not JSON.",
        401: "EXECUTIONER_AUTH=keys: no key, or an unknown, revoked or expired one.",
        413: "A text or additional_files is over its size limit (named).",
        422: "An attribute is missing or invalid (named), or not Judge0's.",
        429: "A limit of the key is reached.",
    }
)
_READ_ERRORS = judge0_errors(
    {
        400: "A query parameter is invalid, or the output is not UTF-8 without base64_encoded=true.",
        401: "EXECUTIONER_AUTH=keys: no key, or an unknown, revoked or expired one.",
        404: "No such submission.",
        422: "fields names an attribute Judge0 does not have.",
    }
)


def _body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise judge0_error(400, f"the body is not valid JSON: {exc}") from None


def _token(text: str) -> UUID:
    try:
        return parse_submission_id(text)
    except ApiError:
        raise judge0_error(404, NOT_FOUND) from None


async def _create(services: Services, data: object, base64_encoded: bool, headers: Mapping[str, str]) -> UUID:
    """Validate, translate and store one Judge0 submission; its token."""
    submission = parse_judge0_submission(
        data, judge0_languages(services.runtimes), base64_encoded, services.settings.max_files_bytes
    )
    try:
        job = await submit_native(
            services, submission.native, Shape.JUDGE0, route="POST /judge0/submissions", headers=headers
        )
    except ApiError as exc:
        field = judge0_field(exc.field)
        raise judge0_field_error(field, exc.message, exc.status_code, exc.headers) from None
    return job.id


async def _attributes(services: Services, row: SubmissionRow) -> dict[str, Any] | None:
    program = await fetch_program(services.engine, UUID(row.id))
    if program is None:
        return None
    return all_attributes(row, program, services.runtimes.get(row.language))


async def _view(services: Services, token: UUID, params: Mapping[str, str]) -> Judge0Submission | None:
    fields, base64_encoded = query_fields(params), query_flag(params, "base64_encoded")
    row = await fetch_submission(services.engine, token)
    attributes = None if row is None else await _attributes(services, row)
    return None if attributes is None else submission_view(attributes, fields, base64_encoded)


class Judge0SubmissionController(Controller):
    """Judge0's ``/submissions`` routes."""

    path = "/judge0/submissions"
    tags = ["judge0"]
    exception_handlers = {CompatError: compat_error_handler}

    @post(
        "/",
        status_code=201,
        summary="Create a submission (Judge0)",
        security=KEY_SECURITY,
        opt=route_opt("submit"),
        responses=_CREATE_ERRORS,
    )
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Judge0Token | Judge0Submission]:
        """201 with ``{"token"}``; with ``wait=true``, the submission once finished (its ``fields``), or
        as it is when ``EXECUTIONER_COMPAT_WAIT_S`` runs out (status 1 or 2)."""
        params = request.query_params
        base64_encoded, wait = query_flag(params, "base64_encoded"), query_flag(params, "wait")
        fields = query_fields(params)
        token = await _create(services, _body(await request.body()), base64_encoded, request.headers)
        if not wait:
            return json_response({"token": str(token)}, 201)
        row = await wait_for_result(
            engine=services.engine,
            broker=services.broker,
            source=services.source,
            submission_id=token,
            timeout_s=services.settings.compat_wait_s,
        )
        attributes = None if row is None else await _attributes(services, row)
        if attributes is None:  # deleted meanwhile
            return json_response({"token": str(token)}, 201)
        return json_response(submission_view(attributes, fields, base64_encoded), 201)

    @get(
        "/{token:str}",
        summary="A submission (Judge0)",
        security=KEY_SECURITY,
        opt=route_opt("read", owned="token"),
        responses=_READ_ERRORS,
    )
    async def read(
        self, token: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Judge0Submission]:
        """The submission's ``fields`` (default: Judge0's default set; ``*``: all)."""
        view = await _view(services, _token(token), request.query_params)
        if view is None:
            raise judge0_error(404, NOT_FOUND)
        return json_response(view)

    @delete(
        "/{token:str}",
        status_code=200,
        guards=[require_admin],
        security=ADMIN_SECURITY,
        summary="Delete a submission (Judge0)",
        responses=judge0_errors(
            {
                400: "The submission has not finished, or a query parameter is invalid.",
                401: "No admin token.",
                403: "A wrong admin token.",
                404: "No such submission.",
            }
        ),
    )
    async def remove(
        self, token: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Judge0Submission]:
        """Delete a finished submission (admin token, as the admin API); the answer is what it was."""
        sid = _token(token)
        params = request.query_params
        row = await fetch_submission(services.engine, sid)
        attributes = None if row is None else await _attributes(services, row)
        if row is None or attributes is None:
            raise judge0_error(404, NOT_FOUND)
        if row.status is not Status.FINISHED:
            status = attributes["status_id"]
            raise judge0_error(
                400, f"submission cannot be deleted because its status is {status} ({STATUSES[status]})"
            )
        view = submission_view(attributes, query_fields(params), query_flag(params, "base64_encoded"))
        if not await delete_finished_submission(services.engine, sid):
            raise judge0_error(404, NOT_FOUND)
        return json_response(view)

    @post(
        "/batch",
        status_code=201,
        summary="Create submissions (Judge0)",
        security=KEY_SECURITY,
        opt=route_opt("submit"),
        responses=_CREATE_ERRORS,
    )
    async def create_batch(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[list[Judge0Token | Judge0Errors]]:
        """``{"submissions": [...]}`` → one entry per submission, in order: ``{"token"}``, or the errors
        that refused it (the others are created all the same)."""
        base64_encoded = query_flag(request.query_params, "base64_encoded")
        data = _body(await request.body())
        items = data.get("submissions") if isinstance(data, dict) else None
        _check_batch_size("submissions", items)
        assert isinstance(items, list)
        answers: list[Judge0Token | Judge0Errors] = []
        for item in items:
            try:
                token = await _create(services, item, base64_encoded, request.headers)
                answers.append({"token": str(token)})
            except CompatError as exc:
                answers.append(exc.body)
        return json_response(answers, 201)

    @get(
        "/batch",
        summary="Submissions by token (Judge0)",
        security=KEY_SECURITY,
        opt=route_opt("read", owned_query="tokens"),
        responses=_READ_ERRORS,
    )
    async def read_batch(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Judge0Batch]:
        """``?tokens=a,b,c`` → ``{"submissions": [...]}`` in the same order, null for an unknown token."""
        params = request.query_params
        tokens = [t.strip() for t in (params.get("tokens") or "").split(",") if t.strip()]
        _check_batch_size("tokens", tokens)
        views: list[Judge0Submission | None] = []
        for text in tokens:
            try:
                token = parse_submission_id(text)
            except ApiError:
                views.append(None)
                continue
            try:
                views.append(await _view(services, token, params))
            except CompatError as exc:
                if exc.body != {"error": NOT_UTF8}:
                    raise
                raise judge0_error(400, NOT_UTF8_IN_BATCH) from None
        return json_response({"submissions": views})


def _check_batch_size(name: str, items: Sequence[Any] | None) -> None:
    if not isinstance(items, list) or not items:
        raise judge0_field_error(
            name, "must be a non-empty array" if name == "submissions" else "can't be blank"
        )
    if len(items) > DEFAULTS.max_submission_batch_size:
        raise judge0_field_error(
            name, f"number of items must be less than or equal to {DEFAULTS.max_submission_batch_size}"
        )
