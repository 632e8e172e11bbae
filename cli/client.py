"""The admin endpoints of the API, over HTTP, with failures turned into one error type that says what
went wrong in a sentence."""

from types import TracebackType
from typing import Any, Self

import httpx

from cli.settings import CliSettings


class CliError(Exception):
    """A command that could not be done; ``exit_code`` is the process's exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


EXIT_REFUSED = 1
"""The API answered with an error (bad request, wrong token...)."""
EXIT_UNREACHABLE = 3
"""The API did not answer."""
EXIT_CONFIG = 4
"""The command line is not configured (no token)."""
HOST_CHECK_S = 15.0
"""What ``POST /api/v1/admin/hosts`` may spend waiting for the master (the API's default
``EXECUTIONER_HOST_CHECK_S``), on top of the usual timeout."""


class AdminClient:
    """``GET /api/v1/admin/pools`` and ``PUT /api/v1/admin/pools/{language}``."""

    def __init__(self, settings: CliSettings) -> None:
        if settings.admin_token is None or not settings.admin_token.get_secret_value():
            raise CliError(
                "set EXECUTIONER_ADMIN_TOKEN to the API's admin token (`make up` prints it)", EXIT_CONFIG
            )
        self._base = settings.api_url.rstrip("/")
        self._timeout = settings.timeout_s
        self._http = httpx.Client(
            base_url=self._base,
            timeout=settings.timeout_s,
            headers={"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._http.close()

    def pools(self) -> dict[str, Any]:
        """Every pool, and the master that reported them."""
        return self._request("GET", "/api/v1/admin/pools")

    def size_pool(self, language: str, body: dict[str, int]) -> dict[str, Any]:
        """Set a pool's size (``{"replicas": n}``) or autoscaling bounds (``{"min": a, "max": b}``)."""
        return self._request("PUT", f"/api/v1/admin/pools/{language}", json=body)

    def hosts(self) -> list[dict[str, Any]]:
        """Every Docker host of the cluster."""
        return list(self._send("GET", "/api/v1/admin/hosts"))

    def add_host(self, name: str, url: str) -> dict[str, Any]:
        """Add a Docker host."""
        body = {"name": name, "url": url}
        return self._request("POST", "/api/v1/admin/hosts", json=body, timeout=self._timeout + HOST_CHECK_S)

    def set_host_state(self, name: str, state: str) -> dict[str, Any]:
        """Drain a host (``draining``) or put it back (``up``)."""
        return self._request("PUT", f"/api/v1/admin/hosts/{name}", json={"state": state})

    def create_key(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a submitter key; the answer holds its token (shown this once)."""
        return self._request("POST", "/api/v1/admin/keys", json=body)

    def keys(self) -> list[dict[str, Any]]:
        """Every submitter key, without tokens."""
        return list(self._request("GET", "/api/v1/admin/keys")["keys"])

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        """Revoke a submitter key."""
        return self._request("DELETE", f"/api/v1/admin/keys/{key_id}")

    def rejudge(self, slug: str, which: dict[str, Any]) -> dict[str, Any]:
        """Start a rejudge of problem ``slug``'s submissions (``which``: ``version``, ``verdict``); its
        progress."""
        return self._request("POST", f"/api/v1/problems/{slug}/rejudge", json=which)

    def rejudge_progress(self, slug: str, rejudge_id: str) -> dict[str, Any]:
        """How far rejudge ``rejudge_id`` of ``slug`` is."""
        return self._request("GET", f"/api/v1/problems/{slug}/rejudges/{rejudge_id}")

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self._send(method, path, **kwargs)
        if isinstance(body, dict):
            return body
        raise CliError(f"unexpected answer from {path}: {str(body)[:200]}", EXIT_REFUSED)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the API at {self._base}: {exc}", EXIT_UNREACHABLE) from None
        try:
            body = reply.json()
        except ValueError:
            body = None
        if reply.is_success and isinstance(body, dict | list):
            return body
        raise CliError(_explain(reply, body), EXIT_REFUSED)


def _explain(reply: httpx.Response, body: Any) -> str:
    """The API's error message (its ``{"error": {...}}`` shape), else the HTTP status."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        field = f" (field {error['field']})" if error.get("field") else ""
        return f"{reply.status_code} {error.get('code', '')}: {error['message']}{field}"
    return f"{reply.status_code} {reply.reason_phrase} from {reply.request.url}"
