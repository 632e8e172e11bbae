"""deploy/multi-host/compose.yml, on top of deploy/compose.yml: Compose accepts the pair, and what it hands
the master points workers on other machines at what the control plane publishes, with settings the master
has."""

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from master.settings import MasterSettings, parse_docker_hosts
from tests.deploy.test_compose import compose_command

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OVERRIDE = DEPLOY / "multi-host" / "compose.yml"
ENV = {
    "EXECUTIONER_ADMIN_TOKEN": "x" * 32,
    "EXECUTIONER_AUTH_SECRET": "s" * 32,
    "EXECUTIONER_CONTROL_ADDRESS": "10.0.0.10",
    "EXECUTIONER_DOCKER_HOSTS": "w1=tcp://10.0.0.11:2376,w2=ssh://deploy@10.0.0.12",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "-f", str(DEPLOY / "compose.yml"), "-f", str(OVERRIDE), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=DEPLOY,
        check=False,
    )


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    result = compose_config(ENV)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def published(service: dict[str, Any]) -> set[str]:
    """``address:port`` of each port a service publishes (Compose v1 and v2 print them differently)."""
    found = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.add(f"{port.get('host_ip', '0.0.0.0')}:{port['published']}")
        else:
            address, host_port, _ = str(port).rsplit(":", 2)
            found.add(f"{address}:{host_port}")
    return found


@pytest.mark.parametrize("missing", ["EXECUTIONER_CONTROL_ADDRESS", "EXECUTIONER_DOCKER_HOSTS"])
def test_the_addresses_have_no_default(missing: str) -> None:
    result = compose_config({k: v for k, v in ENV.items() if k != missing})
    assert result.returncode != 0 and missing in result.stderr


def test_workers_are_pointed_at_what_the_control_plane_publishes(merged: dict[str, Any]) -> None:
    services = merged["services"]
    master = services["master"]["environment"]
    kafka = services["kafka"]["environment"]
    assert master["EXECUTIONER_WORKER_KAFKA_BOOTSTRAP"] == "10.0.0.10:29092"
    assert "WORKERS://10.0.0.10:29092" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "WORKERS://:29092" in kafka["KAFKA_LISTENERS"].split(",")
    assert "10.0.0.10:29092" in published(services["kafka"])
    database = urlsplit(master["EXECUTIONER_WORKER_DATABASE_URL"])
    assert (database.username, database.hostname, database.port) == ("executioner_worker", "10.0.0.10", 3306)
    assert "10.0.0.10:3306" in published(services["mysql"])
    # Published on the private address only, never on every interface.
    assert all(
        p.startswith("10.0.0.10:") for p in published(services["kafka"]) | published(services["mysql"])
    )
    # The API and the master still use the compose network.
    assert master["EXECUTIONER_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_the_master_gets_the_hosts_and_their_credentials(merged: dict[str, Any]) -> None:
    master = merged["services"]["master"]
    environment = master["environment"]
    assert environment["EXECUTIONER_WORKER_NETWORK"] == "bridge"
    hosts = parse_docker_hosts(environment["EXECUTIONER_DOCKER_HOSTS"])
    assert hosts == {"w1": "tcp://10.0.0.11:2376", "w2": "ssh://deploy@10.0.0.12"}
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in master["volumes"]}
    assert environment["DOCKER_CERT_PATH"] in mounts and environment["DOCKER_TLS_VERIFY"] == "1"
    assert mounts["/root/.ssh"] == str(DEPLOY / "multi-host" / "ssh")
    assert mounts[environment["DOCKER_CERT_PATH"]] == str(DEPLOY / "multi-host" / "docker-tls")
    # Every EXECUTIONER_ setting the file adds is one the master has.
    override = yaml.safe_load(OVERRIDE.read_text())["services"]["master"]["environment"]
    fields = {f"EXECUTIONER_{name.upper()}" for name in MasterSettings.model_fields}
    assert {k for k in override if k.startswith("EXECUTIONER_")} <= fields
    # Keys and certificates are never committed.
    for folder in ("ssh", "docker-tls"):
        assert (DEPLOY / "multi-host" / folder / ".gitignore").read_text().splitlines()[1:] == [
            "*",
            "!.gitignore",
        ]


def test_the_master_image_has_the_ssh_program() -> None:
    assert "openssh-client" in (DEPLOY / "master.Dockerfile").read_text()
