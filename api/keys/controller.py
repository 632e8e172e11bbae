"""``/api/v1/admin/keys``: submitter keys, created, listed and revoked by admins."""

from typing import Any, TypedDict

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin.auth import require_admin
from api.keys.repository import KeyRow, NewKey, create_key, list_keys, revoke_key
from api.keys.requests import parse_key_request
from api.lib.clock import iso
from api.lib.errors import ApiError, documented_errors, not_found
from api.lib.openapi import ADMIN_SECURITY
from api.lib.responses import json_response
from api.services import Services

_AUTH_ERRORS = {
    401: "No admin token (Authorization: Bearer <token>).",
    403: "Wrong admin token.",
    503: "The admin API is disabled: no admin token is configured.",
}


class KeyView(TypedDict):
    """A submitter key as the admin API shows it (never its token, except once when created)."""

    id: str
    name: str
    scopes: list[str]
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    limits: dict[str, int]
    """The key's own limits, replacing the language defaults (``EXECUTIONER_LIMITS``)."""


class CreatedKey(KeyView):
    """A key just created: with its ``token``, shown this once."""

    token: str


def key_view(key: KeyRow) -> KeyView:
    """``key`` as JSON."""
    return {
        "id": key.id,
        "name": key.name,
        "scopes": sorted(key.scopes),
        "created_at": iso(key.created_at),
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
        "limits": key.overrides.model_dump(exclude_none=True),
    }


class KeysController(Controller):
    """Submitter keys. Every route needs the admin token."""

    path = "/api/v1/admin/keys"
    tags = ["admin"]
    guards = [require_admin]
    security = ADMIN_SECURITY

    @post(
        "/",
        status_code=201,
        summary="Create a submitter key",
        responses=documented_errors({**_AUTH_ERRORS, 400: "Not JSON.", 422: "A bad field (named)."}),
    )
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[CreatedKey]:
        """``{"name", "scopes": ["submit", "read"], "expires_at"?: ISO 8601, "limits"?: {...}}`` → the key
        and its ``token``, shown this once (only a keyed hash of it is stored)."""
        settings = services.settings
        if settings.auth_secret is None:
            raise ApiError(
                409, "auth_secret_missing", "EXECUTIONER_AUTH_SECRET is not set: keys cannot be stored"
            )
        wanted = parse_key_request(await request.body())
        key, token = await create_key(
            services.engine,
            NewKey(wanted.name, wanted.scopes, wanted.expires_at, wanted.limits),
            settings.auth_secret.get_secret_value(),
        )
        return json_response({**key_view(key), "token": token}, 201)

    @get("/", summary="Every submitter key", responses=documented_errors(_AUTH_ERRORS))
    async def list_all(self, services: NamedDependency[Services]) -> dict[str, list[KeyView]]:
        """Every key, revoked and expired ones included, oldest first; never their tokens."""
        return {"keys": [key_view(key) for key in await list_keys(services.engine)]}

    @delete(
        "/{key_id:str}",
        status_code=200,
        summary="Revoke a submitter key",
        responses=documented_errors({**_AUTH_ERRORS, 400: "Invalid request.", 404: "No such key."}),
    )
    async def revoke(self, key_id: FromPath[str], services: NamedDependency[Services]) -> KeyView:
        """Refuse the key from now on (every API replica: keys are looked up on each request). Its
        submissions stay, visible to admins."""
        key = await revoke_key(services.engine, key_id)
        if key is None:
            raise not_found("key")
        return key_view(key)
