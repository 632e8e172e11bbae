"""gVisor (``runsc``) as an optional Docker runtime (``EXECUTIONER_WORKER_RUNTIME=runsc``): registered with
the local ``dockerd`` through its ``daemon.json``, which ``dockerd`` re-reads on SIGHUP, so containers
that are running (other stacks' workers) are not disturbed.

The runtime runs gVisor on its ``ptrace`` platform (no KVM needed) with ``--network=host``: the container
still gets Docker's network namespace, but gVisor hands its sockets to the host kernel in that namespace.
gVisor's own network stack would isolate more, but the runsc of Debian 12 cannot use it on kernels from
6.11 on (it mistakes a container's network namespace for the host's); docs/security.md has the rest.
"""

import contextlib
import json
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import docker

from devstack import processes
from devstack.console import DevstackError
from devstack.docker_engine import dockerd_pids
from devstack.system import find_command

RUNTIME = "runsc"
RUNTIME_ARGS = ("--platform=ptrace", "--network=host")
DEFAULT_DAEMON_JSON = Path("/etc/docker/daemon.json")
RELOAD_TIMEOUT_S = 30.0


def runtime_entry(runsc: str) -> dict[str, Any]:
    """The ``daemon.json`` entry of the runtime, for the ``runsc`` binary at ``runsc``."""
    return {"path": runsc, "runtimeArgs": list(RUNTIME_ARGS)}


def merged_config(config: dict[str, Any], name: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    """``config`` (a ``daemon.json`` document) with runtime ``name`` added; None when it has a runtime of
    that name already, which is never replaced (it may be an administrator's). Other keys stay as they are."""
    runtimes = config.get("runtimes", {})
    if not isinstance(runtimes, dict):
        raise DevstackError(f"daemon.json: 'runtimes' is not an object: {runtimes!r}")
    if name in runtimes:
        return None
    return {**config, "runtimes": {**runtimes, name: entry}}


def config_file(dockerd_argv: Sequence[str]) -> Path:
    """The ``daemon.json`` a ``dockerd`` started with ``dockerd_argv`` reads."""
    for index, arg in enumerate(dockerd_argv):
        if arg.startswith("--config-file="):
            return Path(arg.partition("=")[2])
        if arg == "--config-file" and index + 1 < len(dockerd_argv):
            return Path(dockerd_argv[index + 1])
    return DEFAULT_DAEMON_JSON


def _engine_runtimes(engine: docker.DockerClient) -> set[str]:
    return set(engine.info().get("Runtimes") or {})


def _argv(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
    return []


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Replace ``path`` at once (a reload never reads half a file), keeping its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.executioner")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    if path.exists():
        os.chmod(temporary, path.stat().st_mode & 0o777)
    os.replace(temporary, path)


def register(engine: docker.DockerClient) -> str:
    """Make ``runsc`` a runtime of ``engine`` when runsc is installed and it is not one yet; returns what
    was done, for the console. Only a local ``dockerd`` we may signal (we are root) is changed."""
    runsc = find_command("runsc")
    if runsc is None:
        return "gVisor not installed"
    if RUNTIME in _engine_runtimes(engine):
        return f"gVisor available as runtime {RUNTIME}"
    pids = dockerd_pids()
    if os.environ.get("DOCKER_HOST") or os.geteuid() != 0 or len(pids) != 1:
        entry = json.dumps({"runtimes": {RUNTIME: runtime_entry(runsc)}})
        return f"gVisor not registered: add {entry} to dockerd's daemon.json and send dockerd SIGHUP"
    path = config_file(_argv(pids[0]))
    try:
        config = json.loads(path.read_text()) if path.exists() else {}
    except ValueError as exc:
        raise DevstackError(f"{path} is not valid JSON: {exc}") from exc
    merged = merged_config(config, RUNTIME, runtime_entry(runsc))
    if merged is not None:
        _write_json(path, merged)
    os.kill(pids[0], signal.SIGHUP)
    processes.wait_until(
        lambda: RUNTIME in _engine_runtimes(engine),
        timeout=RELOAD_TIMEOUT_S,
        what=f"dockerd reloading {path} (its log says why not)",
    )
    return f"registered gVisor as runtime {RUNTIME} in {path}"
