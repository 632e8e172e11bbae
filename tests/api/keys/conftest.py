"""Fixtures of the submitter-key tests: an API with ``EXECUTIONER_AUTH=keys`` in a database of its own,
and keys made through the admin API (the way an operator makes them)."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.app import create_app
from api.settings import ApiSettings
from tests.api.support import eventually, make_settings, serve

ADMIN = "keys-test-admin-token"
AUTH_SECRET = "keys-test-secret-0123456789abcdef0123456789"
KEYS = "/api/v1/admin/keys"
GENEROUS = {"submissions_per_minute": 10_000, "active_jobs": 10_000, "cpu_seconds_per_day": 100_000}


@dataclass(frozen=True)
class KeysApi:
    """An API with keys on: its URL, settings and database."""

    url: str
    settings: ApiSettings
    engine: AsyncEngine

    def client(self, token: str | None = None, header: str = "Authorization") -> httpx.AsyncClient:
        """An HTTP client of this API presenting ``token`` (as a bearer, or in ``header``)."""
        headers = {}
        if token is not None:
            headers[header] = f"Bearer {token}" if header == "Authorization" else token
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@dataclass(frozen=True)
class Key:
    """A key as created: its id and its token."""

    id: str
    token: str


StartKeysApi = Callable[..., contextlib.AbstractAsyncContextManager[KeysApi]]
NewKey = Callable[..., Awaitable[Key]]


def keys_settings(database_url: str, topic_prefix: str, **overrides: Any) -> ApiSettings:
    """Settings of an API with keys on."""
    values = {"admin_token": ADMIN, "auth": "keys", "auth_secret": AUTH_SECRET} | overrides
    return make_settings(database_url, topic_prefix, **values)


@pytest.fixture(scope="session")
def start_keys_api(
    new_database: Callable[[], Awaitable[str]], new_topic_prefix: Callable[[], str]
) -> StartKeysApi:
    """Starts an API with keys on (and ``overrides``) in a fresh database; ready when yielded."""

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[KeysApi]:
        settings = keys_settings(await new_database(), new_topic_prefix(), **overrides)
        engine = create_async_engine(settings.database_url)
        try:
            async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:

                async def ready() -> bool | None:
                    return True if (await http.get("/readyz")).status_code == 200 else None

                await eventually(ready, within_s=90)
                yield KeysApi(url, settings, engine)
        finally:
            await engine.dispose()

    return start


@pytest.fixture(scope="module")
async def keys_api(start_keys_api: StartKeysApi) -> AsyncIterator[KeysApi]:
    """The module's API with keys on; limits high enough that only a key's own limits are reached."""
    async with start_keys_api(limits=GENEROUS) as api:
        yield api


async def make_key(
    url: str,
    scopes: list[str],
    *,
    name: str = "test",
    expires_at: datetime | None = None,
    **limits: int,
) -> Key:
    """Create a key through the admin API."""
    body: dict[str, Any] = {"name": name, "scopes": scopes}
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    if limits:
        body["limits"] = limits
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
        reply = await http.post(KEYS, json=body)
    assert reply.status_code == 201, reply.text
    created = reply.json()
    return Key(created["id"], created["token"])


@pytest.fixture
def new_key(keys_api: KeysApi) -> NewKey:
    """Creates keys on the module's API."""

    async def create(scopes: list[str] | None = None, **options: Any) -> Key:
        return await make_key(keys_api.url, scopes or ["submit", "read"], **options)

    return create
