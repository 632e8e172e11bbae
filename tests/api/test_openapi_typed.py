"""The OpenAPI document at ``/schema`` types every response body and declares who may call each route:
the admin token's scheme on every admin route, the submitter key's on every route the key guard
protects (pure: the app is built, not served)."""

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from api.admin.auth import require_admin
from api.app import create_app
from api.keys.guard import SCOPE
from api.lib.openapi import ADMIN_SCHEME, KEY_SCHEME
from api.settings import ApiSettings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(ApiSettings())


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def _untyped(schema: Any, components: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    """Every place under ``schema`` that says nothing of its value: ``{}``, or an object whose values
    may be anything (``additionalProperties: {}`` or ``true``, or no properties at all)."""
    if not isinstance(schema, dict) or not schema:
        yield where
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from _untyped(components[name], components, f"{where}->{name}", seen)
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for index, member in enumerate(schema.get(key, [])):
            yield from _untyped(member, components, f"{where}.{key}[{index}]", seen)
    if "items" in schema:
        yield from _untyped(schema["items"], components, f"{where}[]", seen)
    extra = schema.get("additionalProperties")
    if extra is True or extra == {}:
        yield f"{where} (additionalProperties: {extra})"
    elif isinstance(extra, dict):
        yield from _untyped(extra, components, f"{where}{{}}", seen)
    if schema.get("type") == "object" and not schema.get("properties") and extra is None:
        yield f"{where} (an object without properties)"
    for name, member in schema.get("properties", {}).items():
        yield from _untyped(member, components, f"{where}.{name}", seen)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method.upper(), operation


def test_every_response_body_is_typed(document: dict[str, Any]) -> None:
    components = document.get("components", {}).get("schemas", {})
    untyped = []
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            for media, content in (response.get("content") or {}).items():
                where = f"{method} {path} {status} {media}"
                untyped += list(_untyped(content.get("schema"), components, where, set()))
    assert untyped == [], "\n".join(untyped)


def test_the_security_schemes_are_declared_and_applied(app: Litestar, document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    for name in (ADMIN_SCHEME, KEY_SCHEME):
        assert (schemes[name]["type"], schemes[name]["scheme"]) == ("http", "bearer")
    wrong = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/static", "/schema")):
            continue
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                continue
            guards = [getattr(guard, "func", guard) for guard in handler.resolve_guards()]
            wanted = set()
            if require_admin in guards:
                wanted.add(ADMIN_SCHEME)
            if SCOPE in handler.opt:
                wanted |= {KEY_SCHEME, ADMIN_SCHEME}  # the admin token passes the key guard too
            declared = {name for requirement in handler.resolve_security() for name in requirement}
            if declared != wanted:
                wrong.append(
                    f"{sorted(handler.http_methods)} {route.path}: {sorted(declared)} != {sorted(wanted)}"
                )
    assert wrong == [], "\n".join(wrong)
