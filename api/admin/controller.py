"""``GET /api/v1/admin/pools`` and ``PUT /api/v1/admin/pools/{language}``: worker pools per language;
``GET /api/v1/admin/dead-letters``: messages the workers rejected."""

from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.admin.auth import require_admin
from api.admin.dead_letters import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    DeadLettersView,
    parse_dead_letter_query,
    read_dead_letters,
)
from api.admin.repository import read_pools, store_pool_size
from api.admin.requests import parse_pool_size
from api.admin.views import PoolsView, PoolView, master_view, pool_view, pools_view
from api.lib.errors import ApiError, documented_errors
from api.lib.openapi import ADMIN_SECURITY
from api.services import Services

_AUTH_ERRORS = {
    401: "No admin token (Authorization: Bearer <token>).",
    403: "Wrong admin token.",
    503: "The admin API is disabled: no admin token is configured.",
}


class AdminController(Controller):
    """Sizing the worker pools, reading dead letters. Every route needs the admin token."""

    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [require_admin]
    security = ADMIN_SECURITY

    @get("/pools", summary="Worker pools per language", responses=documented_errors(_AUTH_ERRORS))
    async def list_pools(self, services: NamedDependency[Services]) -> PoolsView:
        """Each language's desired and running workers, autoscaling bounds, queue lag, workers (with the
        jobs each finished) and, when the pool is short, why; plus the master that reported them."""
        snapshot = await read_pools(services.engine)
        return pools_view(set(services.runtimes) | set(snapshot.rows), snapshot)

    @put(
        "/pools/{language:str}",
        summary="Size a language's worker pool",
        responses=documented_errors(
            {
                **_AUTH_ERRORS,
                400: "The body is not JSON.",
                404: "No such language.",
                415: "The body is not declared JSON (content-type application/json).",
                422: 'Not exactly one of {"replicas": n} or {"min": a, "max": b}, or a bad count.',
            }
        ),
    )
    async def size_pool(
        self, language: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> PoolView:
        """``{"replicas": n}`` keeps n workers (autoscaling off); ``{"min": a, "max": b}`` lets the master
        size the pool from its queue's lag. The active master acts within about a second; the answer is
        the pool as stored, with the master's last report."""
        if language not in services.runtimes:
            raise ApiError(404, "not_found", f"no language {language!r}; see GET /api/v1/languages")
        size = parse_pool_size(await request.body(), services.settings.jobs_partitions)
        await store_pool_size(services.engine, language, size)
        snapshot = await read_pools(services.engine, [language])
        master = master_view(snapshot)
        return pool_view(language, snapshot, master_active=master is not None and master["active"])

    @get(
        "/dead-letters",
        summary="Messages the workers rejected, newest first",
        responses=documented_errors(
            {
                **_AUTH_ERRORS,
                400: "Invalid request.",
                422: "An unknown language, a limit out of range, or an unknown parameter.",
            }
        ),
    )
    async def list_dead_letters(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        # Read as text and checked by parse_dead_letter_query: errors are then 422s naming the field.
        language: Annotated[str | None, Parameter(description="Only this language's dead letters.")] = None,
        limit: Annotated[
            str | None, Parameter(description=f"How many, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).")
        ] = None,
    ) -> DeadLettersView:
        """The newest dead letters (of ``language``, or all) with the reason, the worker that rejected
        them, the source record's position and a preview of the value; plus how many there are in all."""
        query = parse_dead_letter_query(request.query_params, services.runtimes)
        return await read_dead_letters(services.engine, query)
