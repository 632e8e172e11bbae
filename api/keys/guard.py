"""The submitter-key guard of every submission route (``EXECUTIONER_AUTH=keys``).

A route opts in through its ``opt``: ``{"scope": "read", "owned": "submission_id"}`` needs a key with
the ``read`` scope, and the submission its path parameter ``submission_id`` names must be the key's own
(else 404, as if it did not exist: a key learns nothing of others' submissions). ``owned_query`` names a
query parameter listing submission ids (Judge0's batch read). A share link's ``?share=`` token stands
for a key on the routes that say ``shared`` (reading the one submission it was signed for: its JSON,
stream and page). The admin token passes
everything. With ``EXECUTIONER_AUTH=off`` every request is let through, as anyone.
"""

import hmac
from datetime import UTC, datetime
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.keys.principal import ADMIN, ANYONE, Principal, set_current_principal
from api.keys.repository import find_key, submission_owners
from api.keys.tokens import presented_token, share_token_valid
from api.lib.clock import utcnow
from api.lib.errors import ApiError, not_found
from api.services import Services

SCOPE = "scope"
OWNED = "owned"
OWNED_QUERY = "owned_query"
SHARED = "shared"
SHARE_PARAM = "share"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="executioner"'}


def route_opt(
    scope: str, owned: str | None = None, owned_query: str | None = None, *, shared: bool = False
) -> dict[str, str]:
    """The ``opt`` of a route the guard protects (see the module's docstring); ``shared``: a share link
    of the submission ``owned`` names opens it too."""
    opt = {SCOPE: scope}
    if shared:
        opt[SHARED] = "yes"
    if owned is not None:
        opt[OWNED] = owned
    if owned_query is not None:
        opt[OWNED_QUERY] = owned_query
    return opt


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers=CHALLENGE)


async def require_key(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Authenticate the caller of a protected route and check its scope and ownership; records the
    caller (:func:`~api.keys.principal.current_principal`) for the handler."""
    scope = handler.opt.get(SCOPE)
    if scope is None:
        return
    services: Services = connection.app.state.services
    settings = services.settings
    if settings.auth == "off":
        set_current_principal(ANYONE)
        return
    secret = settings.auth_secret.get_secret_value() if settings.auth_secret else ""
    owned = handler.opt.get(OWNED)
    share = connection.query_params.get(SHARE_PARAM)
    if share is not None and handler.opt.get(SHARED) and owned is not None:
        sid = _submission_id(connection.path_params.get(owned))
        if sid is None or not share_token_valid(secret, sid, share, datetime.now(UTC)):
            raise ApiError(403, "invalid_share_link", "the share link is invalid or has expired", SHARE_PARAM)
        set_current_principal(ANYONE)
        return
    principal = await _authenticate(connection, services, secret, scope)
    set_current_principal(principal)
    ids: list[str] = []
    if owned is not None:
        ids = [str(connection.path_params.get(owned, ""))]
    if (query := handler.opt.get(OWNED_QUERY)) is not None:
        ids = [part.strip() for part in (connection.query_params.get(query) or "").split(",")]
    await _check_owner(services, principal, ids)


async def _authenticate(
    connection: ASGIConnection,  # type: ignore[type-arg]
    services: Services,
    secret: str,
    scope: str,
) -> Principal:
    token = presented_token(connection.headers)
    if token is None:
        raise _unauthorized("unauthorized", "a submitter key is required: Authorization: Bearer <key>")
    admin = services.settings.admin_token.get_secret_value() if services.settings.admin_token else ""
    # Constant time: how much of a guess matched must not show in the response time.
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return ADMIN
    key = await find_key(services.engine, token, secret)
    if key is None:
        raise _unauthorized("invalid_key", "the key is not valid")
    refusal = key.refusal(utcnow())
    if refusal is not None:
        raise _unauthorized("invalid_key", refusal)
    if scope not in key.scopes:
        raise ApiError(403, "insufficient_scope", f"key {key.id} lacks the {scope!r} scope")
    return Principal(key_id=key.id, sees_all=False, overrides=key.overrides)


def _submission_id(text: object) -> UUID | None:
    try:
        return UUID(str(text))
    except ValueError:
        return None


async def _check_owner(services: Services, principal: Principal, ids: list[str]) -> None:
    """404 when one of ``ids`` names a submission the caller may not see. Malformed or unknown ids are
    left to the handler, which answers them as it always does."""
    if principal.sees_all:
        return
    wanted = [str(sid) for text in ids if (sid := _submission_id(text)) is not None]
    if not wanted:
        return
    owners = await submission_owners(services.engine, wanted)
    if any(not principal.sees(owner) for owner in owners.values()):
        raise not_found("submission")
