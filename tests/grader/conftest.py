"""Fixtures of the grading tests: one cluster of host processes (API + python worker, no Docker) for the
whole session, shared by the contract test and the client's end-to-end tests (every job has its own id)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.services import Services
from tests.grader.hostcluster import HostCluster, host_cluster


@pytest.fixture(scope="session")
async def cluster_on_host(
    services: Services, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[HostCluster]:
    """The API and a python worker (pool of 2) as processes on this host; logs in test-artifacts/."""
    logs = artifacts / "grader-logs"
    logs.mkdir(exist_ok=True)
    async with host_cluster(services, logs, tmp_path_factory.mktemp("scratch")) as cluster:
        yield cluster
