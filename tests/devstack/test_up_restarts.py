"""``python -m devstack up`` keeps the stack running: a master killed with SIGKILL is restarted (and the
console says so), the API keeps answering, and SIGTERM then stops everything. The stack is a scratch
profile (own state directory, MariaDB, Kafka and ports), brought up by the very ``up`` that ``make up``
runs; it starts no worker containers (``EXECUTIONER_DEFAULT_REPLICAS=0``)."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import processes
from devstack.profile import Profile, repo_root
from devstack.stack import stop_services

# `make test-all`: the supervisor of `make up` under kills, 26 s of a whole dev stack.
pytestmark = pytest.mark.extended

UP_TIMEOUT_S = 300.0
RESTART_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 180.0

_UP = """
import sys
from pathlib import Path
from devstack.__main__ import up
from devstack.profile import Profile
name, state, mysql, kafka, controller, container, api = sys.argv[1:]
sys.exit(up(Profile(name, Path(state), int(mysql), int(kafka), int(controller), int(container), int(api))))
"""


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    return Profile(
        name=f"uptest{os.getpid()}",
        state_dir=tmp_path / "state",
        mysql_port=processes.free_port(),
        kafka_port=processes.free_port(),
        kafka_controller_port=processes.free_port(),
        kafka_container_port=processes.free_port(),
        api_port=processes.free_port(),
    )


@pytest.fixture
def up(profile: Profile, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``up`` of the scratch profile, running; its console output goes to the returned file."""
    console = tmp_path / "console.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")}
    env |= {"EXECUTIONER_DEFAULT_REPLICAS": "0", "EXECUTIONER_LOG_LEVEL": "INFO"}
    ports = [profile.mysql_port, profile.kafka_port, profile.kafka_controller_port]
    ports += [profile.kafka_container_port, profile.api_port or processes.free_port()]
    argv = [sys.executable, "-c", _UP, profile.name, str(profile.state_dir), *map(str, ports)]
    with console.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=repo_root())
    try:
        yield child, console
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
        stop_services(profile)  # whatever a failed run left


def _pid(profile: Profile, name: str) -> int | None:
    return processes.running_pid(profile.path("run", f"{name}.pid"))


def test_a_killed_master_is_restarted_and_only_sigterm_stops_the_stack(
    profile: Profile, up: tuple[subprocess.Popen[bytes], Path]
) -> None:
    child, console = up
    api = f"http://127.0.0.1:{profile.api_port}"
    alive = lambda: child.poll() is None  # noqa: E731
    processes.wait_until(
        lambda: "[devstack] ready in " in console.read_text(),
        timeout=UP_TIMEOUT_S,
        what="up",
        alive=alive,
        log_file=console,
    )
    first_master = _pid(profile, "master")
    assert first_master is not None

    os.kill(first_master, signal.SIGKILL)
    processes.wait_until(
        lambda: _pid(profile, "master") not in (None, first_master),
        timeout=RESTART_TIMEOUT_S,
        what="the master's restart",
        alive=alive,
        log_file=console,
    )
    said = console.read_text()
    assert f"master (pid {first_master}) exited after" in said
    assert "killed by SIGKILL (exit code -9)" in said
    assert "master: restarting in 1 s" in said
    new_master = _pid(profile, "master")
    assert new_master is not None
    assert b"/executioner-master\0" in Path(f"/proc/{new_master}/cmdline").read_bytes()
    assert processes.http_ok(f"{api}/readyz")
    assert child.poll() is None  # one crash is no outage: the stack still runs

    child.send_signal(signal.SIGTERM)
    assert child.wait(STOP_TIMEOUT_S) == 0
    for name in ("api", "master"):
        assert _pid(profile, name) is None, name
    assert processes.running_pid(profile.path("kafka", "server.pid")) is None
    assert processes.running_pid(profile.path("mariadb", "server.pid")) is None
    assert not processes.http_ok(f"{api}/readyz")
