"""The OpenAPI security schemes: who may call a route, as ``/schema`` declares it.

Two bearer tokens (``Authorization: Bearer <token>``): the admin token (``EXECUTIONER_ADMIN_TOKEN``,
api.admin.auth) for the admin routes, and a submitter key (``EXECUTIONER_AUTH=keys``, api.keys.guard) for
the submission routes; the admin token is accepted there too.
"""

from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

ADMIN_SCHEME = "adminToken"
KEY_SCHEME = "submitterKey"

SECURITY_SCHEMES = Components(
    security_schemes={
        ADMIN_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="The deployment's EXECUTIONER_ADMIN_TOKEN (the admin routes are disabled, 503, "
            "without one).",
        ),
        KEY_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="A submitter key (POST /api/v1/admin/keys), needed when the API runs with "
            "EXECUTIONER_AUTH=keys; the admin token passes too. Judge0 clients may send it as "
            "X-Auth-Token. A share link's ?share= token opens the reads of its one submission.",
        ),
    }
)

ADMIN_SECURITY: list[SecurityRequirement] = [{ADMIN_SCHEME: []}]
"""The ``security`` of an admin route."""
KEY_SECURITY: list[SecurityRequirement] = [{KEY_SCHEME: []}, {ADMIN_SCHEME: []}]
"""The ``security`` of a route the submitter-key guard protects: a key, or the admin token."""
