"""deploy/compose.yml describes the same cluster for an ordinary Docker host, and Compose accepts it."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yml"


def compose_command() -> list[str]:
    """`docker compose` (v2 plugin) where it exists, else the standalone `docker-compose`."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    standalone = shutil.which("docker-compose")
    assert standalone, "neither `docker compose` nor `docker-compose` is installed (devstack installs it)"
    return [standalone]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_compose_config_validates() -> None:
    result = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        env={
            "EXECUTIONER_ADMIN_TOKEN": "x" * 32,
            "EXECUTIONER_AUTH_SECRET": "y" * 32,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_mysql_8_kafka_api_and_master(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["kafka"]["image"].startswith("apache/kafka:")
    for name in ("api", "master"):
        assert (COMPOSE_FILE.parent.parent / services[name]["build"]["dockerfile"]).is_file()
    # Only the master holds the Docker socket.
    assert [n for n, s in services.items() if any("docker.sock" in v for v in s.get("volumes", []))] == [
        "master"
    ]


def test_the_admin_token_has_no_default(compose: dict[str, Any]) -> None:
    token = compose["services"]["api"]["environment"]["EXECUTIONER_ADMIN_TOKEN"]
    assert token.startswith("${EXECUTIONER_ADMIN_TOKEN:?")


def test_compose_turns_submitter_keys_on_and_needs_their_secret(compose: dict[str, Any]) -> None:
    environment = compose["services"]["api"]["environment"]
    assert environment["EXECUTIONER_AUTH"] == "${EXECUTIONER_AUTH:-keys}"
    assert environment["EXECUTIONER_AUTH_SECRET"].startswith("${EXECUTIONER_AUTH_SECRET:?")


def test_workers_get_a_read_only_database_account(compose: dict[str, Any]) -> None:
    mysql = compose["services"]["mysql"]
    assert "./mysql/initdb:/docker-entrypoint-initdb.d:ro" in mysql["volumes"]
    script = (COMPOSE_FILE.parent / "mysql" / "initdb" / "10-worker-account.sh").read_text()
    assert "GRANT SELECT ON" in script and "executioner_worker" in script
    worker_url = compose["services"]["master"]["environment"]["EXECUTIONER_WORKER_DATABASE_URL"]
    assert worker_url.startswith("mysql+asyncmy://executioner_worker:")
    assert worker_url != compose["services"]["api"]["environment"]["EXECUTIONER_DATABASE_URL"]
