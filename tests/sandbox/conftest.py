"""Fixtures of the sandbox tests: the real Docker engine, Kafka (tests/conftest.py exports both
addresses) and a harness that runs worker containers of a cluster label of their own."""

import os
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from master.spec import LABEL_CLUSTER
from tests.sandbox.harness import WorkerHarness


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """The Docker engine the worker containers run on."""
    client = docker.from_env(timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def container_bootstrap() -> str:
    """Kafka as worker containers reach it: ``<host's bridge address>:<port>``."""
    return os.environ["EXECUTIONER_WORKER_KAFKA_BOOTSTRAP"]


@pytest.fixture(scope="session")
def harness(docker_client: Any, container_bootstrap: str) -> Iterator[WorkerHarness]:
    """Runs worker containers; whatever is left of them is removed at the end of the session."""
    harness = WorkerHarness(docker_client, os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"], container_bootstrap)
    yield harness
    for container in docker_client.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{LABEL_CLUSTER}={harness.cluster}"}
    ):
        container.remove(force=True)
