"""Errors in the shapes the compatible APIs' clients parse: Judge0's ``{"<field>": ["<message>"]}`` (or
``{"error": "..."}``) and Piston's ``{"message": "..."}``, instead of the native error body."""

from typing import Any, TypedDict

from litestar import Request, Response
from litestar.openapi import ResponseSpec

from api.compat.judge0.wire import Judge0Error, Judge0Errors
from api.lib.responses import json_response


class CompatError(Exception):
    """A refusal whose body is already in the client's API's shape."""

    def __init__(self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status_code = status_code
        self.body = body
        self.headers = headers
        """Response headers (a 429's ``Retry-After`` and ``RateLimit-*``, as the native API sends)."""


def judge0_field_error(
    field: str, message: str, status_code: int = 422, headers: dict[str, str] | None = None
) -> CompatError:
    """Judge0's validation error: the field and what is wrong with it (Rails' error hash)."""
    return CompatError(status_code, {field: [message]}, headers)


def judge0_error(status_code: int, message: str) -> CompatError:
    """Judge0's error that is about no single field (``{"error": "..."}``)."""
    return CompatError(status_code, {"error": message})


def piston_error(message: str, status_code: int = 400, headers: dict[str, str] | None = None) -> CompatError:
    """Piston's error: ``{"message": "..."}``, 400 for anything wrong with the request."""
    return CompatError(status_code, {"message": message}, headers)


def compat_error_handler(_: Request[Any, Any, Any], exc: CompatError) -> Response[Any]:
    """Litestar handler: the error's own body and status."""
    return json_response(exc.body, exc.status_code, headers=exc.headers)


class PistonMessage(TypedDict):
    """Piston's error body."""

    message: str


def judge0_errors(descriptions: dict[int, str]) -> dict[int, ResponseSpec]:
    """OpenAPI entries for Judge0's error responses (status → description): ``{"error"}`` or
    ``{"<field>": [...]}``. They also replace Litestar's default 400 entry, which is not this shape."""
    return {
        status: ResponseSpec(Judge0Error | Judge0Errors, description=text, generate_examples=False)
        for status, text in descriptions.items()
    }


def piston_errors(descriptions: dict[int, str]) -> dict[int, ResponseSpec]:
    """OpenAPI entries for Piston's error responses (status → description): ``{"message"}``."""
    return {
        status: ResponseSpec(PistonMessage, description=text, generate_examples=False)
        for status, text in descriptions.items()
    }
