"""The API's one error shape and the exception handlers that produce it.

Every 4xx/5xx body is ``{"error": {"code": "...", "message": "...", "field": "<dotted field or null>"}}``,
whether the error is ours (:class:`ApiError`) or Litestar's own (bad path parameter, 404, 405, body too
large, ...).
"""

import logging
from http import HTTPStatus
from typing import Any, TypedDict

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from api.lib.responses import json_response

log = logging.getLogger(__name__)

# Litestar raises these itself; the codes name them for clients that branch on ``error.code``.
_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


class ApiError(Exception):
    """A request the API refuses, with the status, machine-readable code and the offending field."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        """Response headers (``WWW-Authenticate``, ``Retry-After``, ...)."""
        self.details = details
        """More of the body, next to ``error`` (a limit's name and values, for a 429)."""


class ErrorDetail(TypedDict):
    """What went wrong."""

    code: str
    """Machine-readable: ``validation_error``, ``unknown_language``, ``too_large``, ``not_found``, ..."""
    message: str
    field: str | None
    """The offending request field, dotted (``limits.time_ms``), or null."""


class ErrorBody(TypedDict):
    """The body of every error response."""

    error: ErrorDetail


def documented_errors(descriptions: dict[int, str]) -> dict[int, ResponseSpec]:
    """OpenAPI entries for error responses (status → description), all in the API's error shape.

    They also replace Litestar's default 400 entry, which describes its own error body, not ours.
    """
    return {
        status: ResponseSpec(ErrorBody, description=text, generate_examples=False)
        for status, text in descriptions.items()
    }


def error_body(code: str, message: str, field: str | None = None) -> ErrorBody:
    """The JSON body of an error response."""
    return {"error": {"code": code, "message": message, "field": field}}


def not_found(what: str) -> ApiError:
    """404 for a resource that does not exist."""
    return ApiError(404, "not_found", f"{what} not found")


def _api_error_handler(_: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    body: dict[str, Any] = {**error_body(exc.code, exc.message, exc.field), **(exc.details or {})}
    return json_response(body, exc.status_code, headers=exc.headers)


def _first_problem(exc: HTTPException) -> dict[str, Any]:
    # ValidationException.extra is a list of {"message", "key", "source"} (see litestar._signature.model).
    if isinstance(exc.extra, list) and exc.extra and isinstance(exc.extra[0], dict):
        return exc.extra[0]
    return {}


def _http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return _unexpected_error_handler(request, exc)
    problem = _first_problem(exc)
    message = exc.detail or HTTPStatus(status).phrase
    if problem.get("message"):
        message = f"{message}: {problem['message']}"
    field = str(problem["key"]) if problem.get("key") else None
    code = _CODES_BY_STATUS.get(status, "bad_request")
    return json_response(error_body(code, message, field), status, headers=exc.headers)


def _unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Our failure, not the client's: log the traceback, answer without internals.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(error_body("internal_error", "internal server error"), 500)


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers that render every error in the API's error shape."""
    return {
        ApiError: _api_error_handler,
        HTTPException: _http_exception_handler,
        Exception: _unexpected_error_handler,
    }
