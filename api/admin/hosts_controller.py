"""``/api/v1/admin/hosts``: the Docker engines the workers run on: list, add, drain or put back, remove."""

from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin.auth import require_admin
from api.admin.host_requests import check_name, parse_host_state, parse_new_host
from api.admin.hosts import HostView, add_host, delete_host, list_hosts, set_host_state
from api.admin.repository import read_pools
from api.admin.views import master_view
from api.lib.errors import documented_errors
from api.lib.openapi import ADMIN_SECURITY
from api.services import Services

_AUTH_ERRORS = {
    401: "No admin token (Authorization: Bearer <token>).",
    403: "Wrong admin token.",
    503: "The admin API is disabled: no admin token is configured.",
}
_BODY_ERRORS = {
    400: "The body is not JSON.",
    415: "The body is not declared JSON (content-type application/json).",
}


class HostsController(Controller):
    """The cluster's Docker hosts. Every route needs the admin token (as the pools' do)."""

    path = "/api/v1/admin/hosts"
    tags = ["admin"]
    guards = [require_admin]
    security = ADMIN_SECURITY

    @get("/", summary="The Docker hosts", responses=documented_errors(_AUTH_ERRORS))
    async def list(self, services: NamedDependency[Services]) -> list[HostView]:
        """Each host: its URL, state (``up``, ``draining``, ``down``), the CPUs and memory its engine
        reports, live workers per language, whether it has every worker image, and what is wrong."""
        return await list_hosts(services.engine)

    @post(
        "/",
        summary="Add a Docker host",
        responses=documented_errors(
            {
                **_AUTH_ERRORS,
                **_BODY_ERRORS,
                409: "The name is taken.",
                422: "A bad name or url, or an engine the active master cannot reach.",
            }
        ),
    )
    async def add(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> HostView:
        """``{"name": "b", "url": "ssh://ops@b"}``. The API never connects to engines itself: it waits up
        to ``EXECUTIONER_HOST_CHECK_S`` for the active master's first try, and refuses (422, ``url``) an
        engine the master cannot reach. Without an active master the host is added unchecked."""
        new_host = parse_new_host(await request.body())
        master = master_view(await read_pools(services.engine))
        check_s = services.settings.host_check_s if master is not None and master["active"] else 0.0
        return await add_host(services.engine, new_host, check_s)

    @put(
        "/{name:str}",
        summary="Drain a host, or put it back",
        responses=documented_errors(
            {**_AUTH_ERRORS, **_BODY_ERRORS, 404: "No such host.", 422: "A state other than up or draining."}
        ),
    )
    async def set_state(
        self, name: FromPath[str], request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> HostView:
        """``{"state": "draining"}``: its workers are replaced on the other hosts, each stopped only once
        its replacement runs (a stopping worker finishes its jobs first); ``{"state": "up"}``: it takes
        workers again."""
        return await set_host_state(services.engine, name, parse_host_state(await request.body()))

    @delete(
        "/{name:str}",
        summary="Remove an empty host",
        responses=documented_errors(
            {
                **_AUTH_ERRORS,
                400: "Invalid request.",
                404: "No such host.",
                409: "The host still has workers.",
            }
        ),
    )
    async def remove(self, name: FromPath[str], services: NamedDependency[Services]) -> None:
        """Only a host the master reports without workers (drain it first)."""
        await delete_host(services.engine, check_name(name))
