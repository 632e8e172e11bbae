"""Piston v2's routes under ``/api/v2``: the runtimes, and a synchronous execute that runs as one native
submission (same validation, admission, workers) and answers once it finished."""

from typing import Any

import orjson
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from api.compat.errors import CompatError, compat_error_handler, piston_error, piston_errors
from api.compat.piston.catalog import PistonRuntimeView, find_runtime, piston_runtimes
from api.compat.piston.requests import native_request, parse_execute, piston_field
from api.compat.piston.views import PistonExecuteResult, execute_view
from api.compat.submit import submit_native
from api.compat.waiting import wait_for_result
from api.keys.guard import route_opt
from api.languages.repository import read_versions
from api.lib.errors import ApiError
from api.lib.openapi import KEY_SECURITY
from api.lib.responses import json_response
from api.services import Services
from schemas import Status


class PistonController(Controller):
    """Piston v2: ``/runtimes`` and ``/execute``."""

    path = "/api/v2"
    tags = ["piston"]
    exception_handlers = {CompatError: compat_error_handler}

    @get("/runtimes", summary="Runtimes (Piston)")
    async def runtimes(self, services: NamedDependency[Services]) -> list[PistonRuntimeView]:
        """Each language under its Piston name, with its version and aliases."""
        versions = await read_versions(services.engine)
        return [entry.view() for entry in piston_runtimes(services.runtimes.values(), versions)]

    @post(
        ["/execute", "/execute/"],
        status_code=200,
        summary="Run a program and wait for it (Piston)",
        security=KEY_SECURITY,
        opt=route_opt("submit"),
        responses=piston_errors(
            {
                400: "The request is invalid (the message names the field), or the runtime is unknown.",
                401: "EXECUTIONER_AUTH=keys: no key, or an unknown, revoked or expired one.",
                413: "A file or the whole program is over its size limit.",
                504: "The program did not finish within EXECUTIONER_COMPAT_WAIT_S; it still runs.",
            }
        ),
    )
    async def execute(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[PistonExecuteResult]:
        """200 with ``run`` (and ``compile``) once the submission finished; 504 when it has not within
        ``EXECUTIONER_COMPAT_WAIT_S`` (it still runs, as the submission the message names)."""
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise piston_error(f"the body is not valid JSON: {exc}") from None
        execute = parse_execute(data)
        versions = await read_versions(services.engine)
        entry = find_runtime(
            piston_runtimes(services.runtimes.values(), versions), execute.language, execute.version
        )
        if entry is None:
            raise piston_error(f"{execute.language}-{execute.version} runtime is unknown")
        try:
            job = await submit_native(
                services,
                native_request(execute, entry.runtime),
                route="POST /api/v2/execute",
                headers=request.headers,
            )
        except ApiError as exc:
            field = piston_field(exc.field)
            status = exc.status_code if exc.status_code in (413, 429) else 400
            raise piston_error(f"{field}: {exc.message}", status, exc.headers) from None
        row = await wait_for_result(
            engine=services.engine,
            broker=services.broker,
            source=services.source,
            submission_id=job.id,
            timeout_s=services.settings.compat_wait_s,
        )
        if row is None or row.status is not Status.FINISHED:
            raise piston_error(
                f"the program did not finish within {services.settings.compat_wait_s:g} s; "
                f"it is still queued or running as submission {job.id}",
                504,
            )
        return json_response(execute_view(row, entry))
