"""Fixtures of the admin tests, all on the real test services (tests/conftest.py starts them):

* ``admin_api``: an in-process API with an admin token, in a fresh database (no master): HTTP contract.
* ``start_cluster``: whole clusters (API and master processes, python worker containers) with their own
  settings, for what only Docker can show: scaling, draining, autoscaling, standby masters. A module
  that defines a ``cluster`` fixture gets ``cluster_admin`` (its API with the admin token), and
  tests/conftest.py's ``client`` then talks to that cluster.
"""

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.app import create_app
from api.settings import ApiSettings
from tests.fixtures.cluster import Cluster, cluster_of_its_own
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

ADMIN_TOKEN = "admin-test-token"
"""The token of ``admin_api``; ``Cluster`` processes use ``CLUSTER_TOKEN``."""
CLUSTER_TOKEN = "test-admin-token"  # what tests/fixtures/cluster.py gives its API


@dataclass(frozen=True)
class AdminApi:
    """An API process's address, settings and database."""

    url: str
    settings: ApiSettings
    engine: AsyncEngine


@contextlib.asynccontextmanager
async def _database(services: Services) -> AsyncIterator[str]:
    name = f"executioner_admin_{secrets.token_hex(4)}"
    url = services.mysql.create_database(name)
    try:
        yield url
    finally:
        services.mysql.drop_database(name)


@contextlib.asynccontextmanager
async def _api(services: Services, **overrides: Any) -> AsyncIterator[AdminApi]:
    # Imported here: the module reads the service addresses, which exist only once the session started.
    from tests.api.support import make_settings, serve

    async with _database(services) as database_url:
        settings = make_settings(database_url, f"tadm{secrets.token_hex(3)}.", **overrides)
        engine = create_async_engine(database_url)
        try:
            async with serve(create_app(settings)) as url:
                yield AdminApi(url, settings, engine)
        finally:
            await engine.dispose()


@pytest.fixture(scope="session")
async def admin_api(services: Services) -> AsyncIterator[AdminApi]:
    """An API with the admin token ``ADMIN_TOKEN`` and ``jobs_partitions`` 2."""
    async with _api(services, admin_token=ADMIN_TOKEN) as api:
        yield api


@pytest.fixture(scope="session")
async def api_without_token(services: Services) -> AsyncIterator[AdminApi]:
    """An API with no admin token configured."""
    async with _api(services) as api:
        yield api


@pytest.fixture
async def admin(admin_api: AdminApi) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``admin_api`` that sends the right token."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=admin_api.url, headers=headers, timeout=30) as http:
        yield http


StartCluster = Callable[[dict[str, str]], Awaitable[Cluster]]


@pytest.fixture(scope="module")
async def start_cluster(services: Services, artifacts: Path) -> AsyncIterator[StartCluster]:
    """Starts clusters with extra settings (their logs go to ``test-artifacts/cluster-logs``); stops and
    removes them, and their databases, at the end of the module."""
    async with contextlib.AsyncExitStack() as running:

        async def start(overrides: dict[str, str]) -> Cluster:
            # Only python: the other languages' workers would take the host capacity budget these tests size.
            settings = {"EXECUTIONER_LANGUAGES": '["python"]', **overrides}
            return await running.enter_async_context(
                cluster_of_its_own(services, artifacts, "admin", settings)
            )

        yield start


def admin_client(cluster: Cluster) -> httpx.AsyncClient:
    """A client of the cluster's API with its admin token."""
    headers = {"Authorization": f"Bearer {CLUSTER_TOKEN}"}
    return httpx.AsyncClient(base_url=cluster.api_url, headers=headers, timeout=60)


@pytest.fixture
async def cluster_admin(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the module's ``cluster`` API with its admin token."""
    async with admin_client(cluster) as http:
        yield http


async def scale(client: httpx.AsyncClient, replicas: int, language: str = "python") -> None:
    """Ask for ``replicas`` workers of ``language`` (``PUT /api/v1/admin/pools/{language}``)."""
    reply = await client.put(f"/api/v1/admin/pools/{language}", json={"replicas": replicas})
    assert reply.status_code == 200, reply.text


async def pool(client: httpx.AsyncClient, language: str = "python") -> dict[str, Any]:
    """``language``'s pool from ``GET /api/v1/admin/pools``."""
    reply = await client.get("/api/v1/admin/pools")
    assert reply.status_code == 200, reply.text
    (found,) = [p for p in reply.json()["pools"] if p["language"] == language]
    return dict(found)


async def pool_settles(
    client: httpx.AsyncClient, count: int, *, language: str = "python", within_s: float = 120
) -> dict[str, Any]:
    """Wait until the master reports exactly ``count`` workers of ``language``, all running."""

    async def settled() -> dict[str, Any] | None:
        found = await pool(client, language)
        states = [w["state"] for w in found["workers"]]
        return found if found["running"] == count and states == ["running"] * count else None

    return await eventually(settled, within_s=within_s)
