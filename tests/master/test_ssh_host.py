"""A Docker host reached over ``ssh://`` (master/docker_adapter.py's ``connect``): the master runs the
``ssh`` program as the docker CLI does, and talks to the engine through ``docker system dial-stdio`` at the
far end. Here a stand-in ``ssh`` runs that command on this machine, against the test engine, so the whole
path but the SSH session itself is real."""

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from master.docker_adapter import DockerAdapter, connect

pytestmark = pytest.mark.integration

STAND_IN_SSH = """#!/bin/sh
# Records its arguments, then runs the remote command here: what follows "--" and the host name.
echo "$@" >> "$SSH_CALLS"
while [ "$1" != "--" ]; do shift; done
shift 2
exec sh -c "$*"
"""


@pytest.fixture
def ssh_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the stand-in ``ssh`` first on PATH; the file it writes its arguments to."""
    program = tmp_path / "ssh"
    program.write_text(STAND_IN_SSH)
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    calls = tmp_path / "calls"
    monkeypatch.setenv("SSH_CALLS", str(calls))
    return calls


async def test_an_ssh_host_is_reached_through_the_ssh_program(
    ssh_calls: Path, docker_client: Any, cluster: str
) -> None:
    client = await asyncio.to_thread(connect, "ssh://ops@far.example:2222", 30)
    adapter = DockerAdapter(client, cluster, host="far")
    try:
        cpus, memory_mb = await adapter.host_resources()
        info = await asyncio.to_thread(docker_client.info)
        assert (cpus, memory_mb) == (float(info["NCPU"]), int(info["MemTotal"]) // (1024 * 1024))
        assert await adapter.observe() == []
    finally:
        await adapter.close()
    assert "-l ops -p 2222 -- far.example docker system dial-stdio" in await asyncio.to_thread(
        ssh_calls.read_text
    )
