"""The admin routes' guard: ``Authorization: Bearer <EXECUTIONER_ADMIN_TOKEN>``."""

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.lib.errors import ApiError
from api.services import Services

SCHEME = "bearer"


def require_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """401 without a bearer token, 403 with a wrong one, 503 when the API has no admin token at all
    (the admin routes are then disabled rather than open)."""
    services: Services = connection.app.state.services
    configured = services.settings.admin_token
    if configured is None or not configured.get_secret_value():
        raise ApiError(
            503, "admin_disabled", "the admin API is disabled: EXECUTIONER_ADMIN_TOKEN is not set on this API"
        )
    scheme, _space, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != SCHEME or not given.strip():
        raise NotAuthorizedException(
            "an admin token is required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="executioner-admin"'},
        )
    # Constant time: how much of a guess matched must not show in the response time.
    if not hmac.compare_digest(given.strip().encode(), configured.get_secret_value().encode()):
        raise PermissionDeniedException("the admin token is wrong")
