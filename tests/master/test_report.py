"""pool_status(): the JSON the admin API reads from ``pool_status.observed``."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from master.model import Failure, ObservedContainer
from master.report import pool_status

pytestmark = pytest.mark.unit

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def running(id: str, state: str = "running", **fields: str) -> ObservedContainer:
    return ObservedContainer(
        id=id * 16,
        name=f"w-{id}",
        cluster="dev",
        language="python",
        state=state,
        created_at=NOW,
        started_at=NOW,
        **fields,  # type: ignore[arg-type]
    )


def test_report_shape_and_counts() -> None:
    status = pool_status(
        cluster="dev",
        image="executioner/worker-python:latest",
        image_id="sha256:abc",
        desired=3,
        containers=[running("b", host="vm", metrics_address="127.0.0.1:32768"), running("a"), running("c")],
        stopping={"c" * 16},
        failures=[Failure(language="python", at=NOW, container_name="w-x", exit_code=137, logs="bye\n")],
        backoff_until=None,
        now=NOW,
    )
    doc = json.loads(status.model_dump_json())
    assert doc == {
        "cluster": "dev",
        "image": "executioner/worker-python:latest",
        "image_id": "sha256:abc",
        "desired": 3,
        "running": 2,
        "containers": [
            {
                "id": "a" * 12,
                "name": "w-a",
                "state": "running",
                "started_at": "2025-01-01T12:00:00Z",
                "host": None,
                "metrics": None,
            },
            {
                "id": "b" * 12,
                "name": "w-b",
                "state": "running",
                "started_at": "2025-01-01T12:00:00Z",
                "host": "vm",
                "metrics": "127.0.0.1:32768",
            },
            {
                "id": "c" * 12,
                "name": "w-c",
                "state": "stopping",
                "started_at": "2025-01-01T12:00:00Z",
                "host": None,
                "metrics": None,
            },
        ],
        "problem": None,
        "backoff_until": None,
        "recent_failures": [
            {
                "at": "2025-01-01T12:00:00Z",
                "container": "w-x",
                "exit_code": 137,
                "oom_killed": False,
                "error": None,
                "logs": "bye\n",
            }
        ],
        "observed_at": "2025-01-01T12:00:00Z",
        "lag": None,
        "master": None,
    }


def test_a_missing_image_is_the_problem() -> None:
    status = pool_status(
        cluster="dev",
        image="executioner/worker-cpp:latest",
        image_id=None,
        desired=1,
        containers=[],
        stopping=(),
        failures=[],
        backoff_until=None,
        now=NOW,
    )
    assert status.problem == "image executioner/worker-cpp:latest not found"


def test_a_back_off_is_the_problem() -> None:
    until = NOW + timedelta(seconds=8)
    status = pool_status(
        cluster="dev",
        image="i",
        image_id="sha256:abc",
        desired=1,
        containers=[running("a", state="exited")],
        stopping=(),
        failures=[],
        backoff_until=until,
        now=NOW,
    )
    assert status.running == 0
    assert status.backoff_until == until
    assert status.problem == "workers keep failing: next start at 2025-01-01T12:00:08+00:00"
