"""``/api/v1/problems``: stored problems. Reading them needs the ``read`` scope (with keys on); creating,
editing, deleting and rejudging need the admin token."""

import asyncio
import tempfile
import zipfile
from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin.auth import require_admin
from api.keys.guard import route_opt
from api.lib.errors import ApiError, documented_errors, not_found
from api.lib.openapi import ADMIN_SECURITY, KEY_SECURITY
from api.lib.responses import json_response
from api.problems.archive import open_archive, refused
from api.problems.model import MAX_PROBLEM_BYTES, ProblemBody, RejudgeBody, foreign_judge, parse_body
from api.problems.rejudges import RejudgeFilter, rejudge_progress, start_rejudge
from api.problems.repository import (
    create_problem,
    delete_problem,
    fetch_problem,
    list_problems,
    replace_tests,
    update_problem,
)
from api.problems.views import ProblemList, ProblemView, RejudgeProgress, problem_view, progress_view
from api.services import Services

_ADMIN_ERRORS = {401: "No admin token.", 403: "Wrong admin token.", 503: "No admin token is configured."}
_WRITE_ERRORS = documented_errors(
    {
        **_ADMIN_ERRORS,
        400: "Not JSON.",
        404: "No such problem.",
        413: "Tests over 1 GiB.",
        422: "A bad field (named).",
    }
)


MAX_ARCHIVE_OVERHEAD = 64 * 1024 * 1024
"""Room for the archive's own headers beyond the test bytes it holds."""


async def require_zip_body(request: Request[Any, Any, Any]) -> None:
    """The upload's ``before_request`` (instead of the API's JSON rule, :mod:`api.lib.json_bodies`): a
    zip body. A browser may send one to another origin without a preflight, but not with the admin
    token's ``Authorization`` header, which this route needs."""
    media_type, _ = request.content_type
    if media_type.lower() not in ("application/zip", "application/x-zip-compressed"):
        raise ApiError(
            415, "unsupported_media_type", "the body must be a zip archive (application/zip)", "content-type"
        )


def _refuse_foreign_judges(body: ProblemBody, services: Services) -> None:
    """422 for a checker or interactor in a language this cluster does not run."""
    if (foreign := foreign_judge(body, services.runtimes)) is not None:
        field, language = foreign
        raise ApiError(422, "validation_error", f"{language!r} is not a language of this cluster", field)


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ApiError(400, "invalid_request", "version must be a positive integer", "version")
    return int(text)


async def _shown(
    services: Services, slug: str, request: Request[Any, Any, Any], *, admin: bool
) -> ProblemView:
    """The view of problem ``slug`` at the request's ``?version`` (default: its current one), or 404."""
    problem = await fetch_problem(services.engine, slug, _version(request.query_params.get("version")))
    if problem is None:
        raise not_found("problem")
    return await problem_view(services.engine, problem, admin=admin)


class ProblemsController(Controller):
    """Stored problems and their versions."""

    path = "/api/v1/problems"
    tags = ["problems"]

    @post(
        "/",
        status_code=201,
        summary="Create a problem",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=_WRITE_ERRORS,
    )
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[ProblemView]:
        """A problem (``slug`` required) at version 1; its tests go into the test store (docs/problems.md)."""
        body = parse_body(await request.body(), ProblemBody)
        if body.slug is None:
            raise ApiError(422, "validation_error", "slug is required", "slug")
        _refuse_foreign_judges(body, services)
        problem = await create_problem(services.engine, body.slug, body)
        return json_response(await problem_view(services.engine, problem, admin=True), 201)

    @get("/", summary="Every problem", opt=route_opt("read"), security=KEY_SECURITY)
    async def list_all(self, services: NamedDependency[Services]) -> ProblemList:
        """Every problem (not the deleted ones): slug, title, current version."""
        rows = await list_problems(services.engine)
        return {"problems": [{"slug": s, "title": t, "version": v} for s, t, v in rows]}

    @get(
        "/{slug:str}",
        summary="A problem",
        opt=route_opt("read"),
        security=KEY_SECURITY,
        responses=documented_errors({400: "A bad version.", 404: "No such problem."}),
    )
    async def read(
        self, slug: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> ProblemView:
        """Its statement, limits, samples and stub templates (``?version=N``: an older version's)."""
        return await _shown(services, slug, request, admin=False)

    @get(
        "/{slug:str}/judging",
        summary="A problem with its judging",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=_WRITE_ERRORS,
    )
    async def read_judging(
        self, slug: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> ProblemView:
        """The admin's view: every test by hash and size (what a batch grader puts in a job), points,
        groups, checker, interactor, stub drivers."""
        return await _shown(services, slug, request, admin=True)

    @put(
        "/{slug:str}/tests",
        summary="Replace a problem's tests with a zip archive",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        before_request=require_zip_body,
        request_max_body_size=MAX_PROBLEM_BYTES + MAX_ARCHIVE_OVERHEAD,
        responses=_WRITE_ERRORS,
    )
    async def upload_tests(
        self, slug: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> ProblemView:
        """``content-type: application/zip``: ``01.in``/``01.out`` ... and an optional ``problem.json``
        (samples, points, groups, checker, interactor; docs/problems.md). A new version when the tests
        changed. A bad entry is a 422 naming it; more than 64 MiB in a file or 1 GiB in all is a 413."""
        with tempfile.TemporaryFile() as spool:
            async for chunk in request.stream():
                await asyncio.to_thread(spool.write, chunk)
            try:
                archive = zipfile.ZipFile(spool)
            except zipfile.BadZipFile:
                raise refused("the body is not a zip archive") from None
            with archive:
                problem = await replace_tests(services.engine, slug, open_archive(archive))
        return await problem_view(services.engine, problem, admin=True)

    @put(
        "/{slug:str}",
        summary="Edit a problem",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=_WRITE_ERRORS,
    )
    async def update(
        self, slug: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> ProblemView:
        """Replace its definition. A change to what judges (tests, limits, compare, checker, interactor,
        stubs) makes a new version; old versions stay judgeable. Title and statement keep the version."""
        body = parse_body(await request.body(), ProblemBody)
        if body.slug not in (None, slug):
            raise ApiError(422, "validation_error", "slug cannot change", "slug")
        _refuse_foreign_judges(body, services)
        problem = await update_problem(services.engine, slug, body)
        return await problem_view(services.engine, problem, admin=True)

    @delete(
        "/{slug:str}",
        status_code=204,
        summary="Delete a problem",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=_WRITE_ERRORS,
    )
    async def remove(self, slug: FromPath[str], services: NamedDependency[Services]) -> None:
        """No longer listed or submittable; its versions stay for queued jobs and old submissions."""
        if not await delete_problem(services.engine, slug):
            raise not_found("problem")

    @post(
        "/{slug:str}/rejudge",
        status_code=202,
        summary="Rejudge submissions",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=_WRITE_ERRORS,
    )
    async def rejudge(
        self, slug: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> RejudgeProgress:
        """Judge the problem's finished submissions again against its current version, through Kafka:
        ``{}`` all of them, ``{"version": N}`` those judged against version N, ``{"verdict": "..."}``
        those with that verdict. Progress: ``GET /api/v1/problems/{slug}/rejudges/{id}``."""
        body = parse_body(await request.body() or b"{}", RejudgeBody)
        wanted = RejudgeFilter(body.version, body.verdict)
        progress = await start_rejudge(services.engine, slug, wanted, services.settings.topics.jobs)
        if progress is None:
            raise not_found("problem")
        services.relay.publish_soon()
        return progress_view(progress)

    @get(
        "/{slug:str}/rejudges/{rejudge_id:str}",
        summary="A rejudge's progress",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=_WRITE_ERRORS,
    )
    async def rejudge_status(
        self, slug: FromPath[str], rejudge_id: FromPath[str], services: NamedDependency[Services]
    ) -> RejudgeProgress:
        """How many of the rejudge's submissions finished."""
        progress = await rejudge_progress(services.engine, slug, rejudge_id)
        if progress is None:
            raise not_found("rejudge")
        return progress_view(progress)
