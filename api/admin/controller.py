"""``GET /api/v1/admin/pools`` and ``PUT /api/v1/admin/pools/{language}``: worker pools per language."""

from typing import Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin.auth import require_admin
from api.admin.repository import read_pools, store_pool_size
from api.admin.requests import parse_pool_size
from api.admin.views import PoolsView, PoolView, master_view, pool_view, pools_view
from api.lib.errors import ApiError, documented_errors
from api.services import Services

_AUTH_ERRORS = {
    401: "No admin token (Authorization: Bearer <token>).",
    403: "Wrong admin token.",
    503: "The admin API is disabled: no admin token is configured.",
}


class AdminController(Controller):
    """Sizing the worker pools. Every route needs the admin token."""

    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [require_admin]

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
