"""Detached processes: recorded in a pid file, recognised only while the very same process runs, and
stopped with their whole process group."""

import json
import socket
from pathlib import Path

import pytest

from devstack import processes
from devstack.console import DevstackError

pytestmark = pytest.mark.unit


def test_start_record_and_stop_a_process_group(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "run" / "sleeper.pid", tmp_path / "logs" / "sleeper.log"
    # The shell's child `sleep` is in the same process group: stop() must end both.
    pid = processes.start_detached(
        ["sh", "-c", "echo started; sleep 300 & wait"], pid_file=pid_file, log_file=log_file
    )
    assert processes.running_pid(pid_file) == pid
    processes.wait_until(lambda: "started" in log_file.read_text(), timeout=10, what="sleeper")

    assert processes.stop(pid_file, timeout=10) is True
    assert processes.running_pid(pid_file) is None
    assert not pid_file.exists()
    assert processes.stop(pid_file) is False  # idempotent


def test_a_reused_pid_is_not_taken_for_our_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "other.pid"
    pid = processes.start_detached(["sleep", "300"], pid_file=pid_file, log_file=tmp_path / "other.log")
    try:
        record = json.loads(pid_file.read_text())
        pid_file.write_text(json.dumps({**record, "start_time": record["start_time"] - 1}))
        assert processes.running_pid(pid_file) is None
    finally:
        pid_file.write_text(json.dumps(record))
        processes.stop(pid_file, timeout=10)
    assert processes.running_pid(pid_file) is None and pid > 0


def test_a_process_that_dies_while_awaited_fails_with_its_log(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "dies.pid", tmp_path / "dies.log"
    processes.start_detached(
        ["sh", "-c", "echo cannot start >&2; exit 3"], pid_file=pid_file, log_file=log_file
    )
    with pytest.raises(DevstackError, match=r"(?s)exited.*cannot start"):
        processes.wait_until(
            lambda: False,
            timeout=30,
            what="dies",
            alive=lambda: processes.running_pid(pid_file) is not None,
            log_file=log_file,
        )


def test_a_busy_port_is_reported_with_the_variable_to_change() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(
            DevstackError, match=rf"127\.0\.0\.1:{port} is already in use.*EXECUTIONER_X_PORT"
        ):
            processes.require_free_port("127.0.0.1", port, owner="x", variable="EXECUTIONER_X_PORT")
