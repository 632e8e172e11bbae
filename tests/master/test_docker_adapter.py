"""The pure parts of the Docker adapter and the event watcher: reading Docker's documents."""

from datetime import UTC, datetime
from typing import Any

import pytest

from master.docker_adapter import observed_from_attrs, parse_time
from master.events import describe

pytestmark = pytest.mark.unit


def inspect(state: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "Id": "f" * 64,
        "Name": "/executioner-dev-python-1a2b3c",
        "Created": "2025-01-01T11:59:59.123456789Z",
        "State": state,
        "Config": {"Labels": labels},
    }


def test_a_running_container() -> None:
    attrs = inspect(
        {
            "Status": "running",
            "StartedAt": "2025-01-01T12:00:00.5Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "ExitCode": 0,
            "OOMKilled": False,
            "Error": "",
        },
        {"org.executioner.cluster": "dev", "org.executioner.language": "python"},
    )
    observed = observed_from_attrs(attrs)
    assert (observed.name, observed.cluster, observed.language, observed.state) == (
        "executioner-dev-python-1a2b3c",
        "dev",
        "python",
        "running",
    )
    assert observed.created_at == datetime(2025, 1, 1, 11, 59, 59, 123456, tzinfo=UTC)
    assert observed.started_at == datetime(2025, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert (observed.finished_at, observed.exit_code, observed.error) == (None, None, None)
    assert observed.live and not observed.dead


def test_a_dead_container_keeps_its_exit() -> None:
    attrs = inspect(
        {
            "Status": "exited",
            "StartedAt": "2025-01-01T12:00:00Z",
            "FinishedAt": "2025-01-01T12:01:00Z",
            "ExitCode": 137,
            "OOMKilled": True,
            "Error": "",
        },
        {"org.executioner.cluster": "dev", "org.executioner.language": "python"},
    )
    observed = observed_from_attrs(attrs)
    assert (observed.exit_code, observed.oom_killed) == (137, True)
    assert observed.finished_at == datetime(2025, 1, 1, 12, 1, tzinfo=UTC)
    assert observed.dead and not observed.live


def test_a_container_that_never_started() -> None:
    attrs = inspect(
        {
            "Status": "created",
            "StartedAt": "0001-01-01T00:00:00Z",
            "ExitCode": 128,
            "Error": 'exec: "nope": executable file not found',
        }
    )
    observed = observed_from_attrs(attrs)
    assert (observed.cluster, observed.language, observed.started_at) == ("", "", None)
    assert observed.error == 'exec: "nope": executable file not found'
    assert observed.dead


def test_docker_time_stamps() -> None:
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time(None) is None
    assert parse_time("2025-01-01T13:00:00+01:00") == datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_event_descriptions() -> None:
    event = {"Action": "die", "id": "abc", "Actor": {"Attributes": {"name": "w-1", "exitCode": "137"}}}
    assert describe(event) == "die w-1 exitCode=137"
    assert describe({"status": "start", "id": "abc"}) == "start abc"
