"""A scratch profile for the devstack tests: its own state directory and free ports, so starting and
stopping servers here never touches the dev or test stacks."""

import socket
from pathlib import Path

import pytest

from devstack.docker_engine import bridge_gateway, client
from devstack.profile import Profile


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def scratch_profile(tmp_path_factory: pytest.TempPathFactory) -> Profile:
    return Profile(
        name="scratch",
        state_dir=Path(tmp_path_factory.mktemp("devstack-state")),
        mysql_port=free_port(),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_container_port=free_port(),
        api_port=None,
    )


@pytest.fixture(scope="module")
def gateway() -> str:
    """The Docker bridge gateway: where containers reach the host's services."""
    engine = client()
    assert engine is not None, "the Docker engine must run (python -m devstack services starts it)"
    return bridge_gateway(engine)
