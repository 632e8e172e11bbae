"""Turn the bodies of ``POST /api/v1/admin/hosts`` and ``PUT /api/v1/admin/hosts/{name}`` into a host or
a state, or refuse them with an :class:`~api.lib.errors.ApiError` naming the offending field."""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from api.lib.errors import ApiError
from common.tables import HOST_STATES

HOST_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}")
URL_SCHEMES = frozenset({"unix", "tcp", "ssh", "http", "https"})
"""What the docker SDK connects to: a socket, TCP (TLS from the master's DOCKER_TLS_VERIFY and
DOCKER_CERT_PATH), or SSH."""


@dataclass(frozen=True, slots=True)
class NewHost:
    """A Docker engine to add: its name and URL."""

    name: str
    url: str


def _invalid(field: str | None, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, field)


def _object(raw: bytes, fields: frozenset[str]) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _invalid(None, f"the body must be a JSON object with {', '.join(sorted(fields))}")
    for name in data:
        if name not in fields:
            raise _invalid(name, f"unknown field {name!r}")
    for name in sorted(fields):
        if not isinstance(data.get(name), str):
            raise _invalid(name, f"{name} is required, as a string")
    return data


def check_name(name: str) -> str:
    """A host name as the master names containers' hosts: letters, digits, ``_.-``, at most 64."""
    if not HOST_NAME.fullmatch(name):
        raise _invalid("name", "name: 1-64 letters, digits, '_', '.', '-', starting with a letter or digit")
    return name


def check_url(url: str) -> str:
    """A Docker engine URL: ``unix:///path``, ``tcp://host:port``, ``ssh://user@host``..."""
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise _invalid("url", f"url must start with one of {', '.join(sorted(URL_SCHEMES))}://")
    if parts.scheme == "unix" and not parts.path.startswith("/"):
        raise _invalid("url", "a unix url needs an absolute socket path: unix:///run/docker.sock")
    if parts.scheme != "unix" and not parts.hostname:
        raise _invalid("url", f"a {parts.scheme} url needs a host: {parts.scheme}://host:port")
    if len(url) > 512 or any(c.isspace() or ord(c) < 32 for c in url):
        raise _invalid("url", "url must be at most 512 characters, without spaces or control characters")
    return url


def parse_new_host(raw: bytes) -> NewHost:
    """``{"name": ..., "url": ...}``."""
    data = _object(raw, frozenset({"name", "url"}))
    return NewHost(check_name(data["name"]), check_url(data["url"]))


def parse_host_state(raw: bytes) -> str:
    """``{"state": "draining"}`` or ``{"state": "up"}``."""
    state = str(_object(raw, frozenset({"state"}))["state"])
    if state not in HOST_STATES:
        raise _invalid("state", f"state must be one of {', '.join(HOST_STATES)} (down is observed, not set)")
    return state
