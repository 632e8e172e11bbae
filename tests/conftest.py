"""Real services for the suite, started only when a collected test needs them: after collection (and
after ``-m`` has deselected what it deselects), unless every test left is marked ``unit``, the test
profile's Docker engine, MariaDB, Kafka and worker images are started (or reused) by devstack, exactly as
`make up` starts the dev profile's. So ``make test-unit`` (``-m unit``) and ``--collect-only`` start
nothing.

Their addresses are exported as ``EXECUTIONER_DATABASE_URL`` / ``EXECUTIONER_KAFKA_BOOTSTRAP`` /
``EXECUTIONER_WORKER_KAFKA_BOOTSTRAP`` for every test (never read at import: modules are collected before
the services run). A service that cannot start aborts the run with devstack's message; nothing is
skipped. ``EXECUTIONER_TEST_KEEP_SERVICES=1`` leaves Kafka and MariaDB running afterwards (faster local
re-runs); by default they are stopped at the end.

Markers: a test module that needs no service says ``pytestmark = pytest.mark.unit``; every other test is
marked ``integration`` here, and ``browser`` when it uses the browser; a module whose tests drive a
whole cluster says ``e2e``, and ``slow`` or ``chaos`` when they are.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from devstack.console import DevstackError
from devstack.profile import load_profile
from devstack.stack import start_services, stop_services
from tests.fixtures.cluster import Cluster, cluster_of_its_own
from tests.fixtures.services import Services, attach

_started: dict[str, Services] = {}  # filled by pytest_collection_finish


BROWSER_FIXTURES = frozenset({"browser"})
"""The session's Chromium (every page fixture uses it): a test using it is ``browser``."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test not marked ``unit`` is an ``integration`` test: it talks to real services; one that
    uses the browser is ``browser`` too."""
    for item in items:
        if item.get_closest_marker("unit") is not None:
            continue
        item.add_marker(pytest.mark.integration)
        if set(getattr(item, "fixturenames", ())) & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the services before the first test when a test that will run needs them."""
    if session.config.option.collectonly or not any(
        item.get_closest_marker("unit") is None for item in session.items
    ):
        return
    profile = load_profile("test")
    try:
        started = start_services(profile)
    except DevstackError as exc:
        raise pytest.UsageError(f"the test services could not start: {exc}") from exc
    _started["services"] = attach(profile, started)
    os.environ.update(started.environment())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop Kafka and MariaDB unless asked to keep them (the Docker engine and images stay)."""
    if "services" in _started and os.environ.get("EXECUTIONER_TEST_KEEP_SERVICES") != "1":
        stop_services(_started["services"].profile)


@pytest.fixture(scope="session")
def services() -> Services:
    """The running test services."""
    return _started["services"]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave logs and screenshots for a person to look at (kept after the run)."""
    path = Path(__file__).resolve().parents[1] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
async def cluster(services: Services, artifacts: Path) -> AsyncIterator[Cluster]:
    """A running API + master (with its worker containers) on the test services, in a fresh database
    with its own topic prefix, container label and log folder (``test-artifacts/cluster-logs/e2e-*``)."""
    async with cluster_of_its_own(services, artifacts, "e2e", {}) as running:
        yield running


@pytest.fixture
async def client(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the cluster's API."""
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as http:
        yield http
