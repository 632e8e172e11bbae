"""A scratch profile for the devstack tests: its own state directory and free ports, so starting and
stopping servers here never touches the dev or test stacks."""

from pathlib import Path

import pytest

from devstack import processes
from devstack.docker_engine import bridge_gateway, client
from devstack.profile import Profile


@pytest.fixture(scope="module")
def scratch_profile(tmp_path_factory: pytest.TempPathFactory) -> Profile:
    return Profile(
        name="scratch",
        state_dir=Path(tmp_path_factory.mktemp("devstack-state")),
        mysql_port=processes.free_port(),
        kafka_port=processes.free_port(),
        kafka_controller_port=processes.free_port(),
        kafka_container_port=processes.free_port(),
        api_port=None,
    )


@pytest.fixture(scope="module")
def gateway() -> str:
    """The Docker bridge gateway: where containers reach the host's services."""
    engine = client()
    assert engine is not None, "the Docker engine must run (python -m devstack services starts it)"
    return bridge_gateway(engine)
