"""The Docker engine: reach it (starting ``dockerd`` when we may), the bridge gateway address worker
containers use to reach the host, and the worker containers of one cluster."""

import ipaddress
import os
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container

from devstack import processes
from devstack.console import DevstackError
from devstack.system import find_command

DOCKERD_START_TIMEOUT_S = 60.0
CLUSTER_LABEL = "org.executioner.cluster"


def client(timeout: int = 120) -> docker.DockerClient | None:
    """A client of the engine ``DOCKER_HOST`` (or the default socket) names, if it answers a ping."""
    try:
        engine = docker.from_env(timeout=timeout)
        engine.ping()
    except DockerException:
        return None
    return engine


def ensure_engine(cache: Path) -> tuple[docker.DockerClient, bool]:
    """A client of a running engine, and whether we had to start ``dockerd`` for it.

    Starts ``dockerd`` (as root, logging to ``<cache>/dockerd.log``) only when none is running; a
    ``dockerd`` that is still starting is waited for, never doubled.
    """
    engine = client()
    if engine is not None:
        return engine, False
    if os.environ.get("DOCKER_HOST"):
        raise DevstackError(f"the Docker engine at DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer")
    if os.geteuid() != 0:
        state = "runs but does not answer you" if _dockerd_running() else "is not running"
        raise DevstackError(
            f"the Docker engine {state}: start it (sudo systemctl start docker) and make sure you may use "
            "it (sudo usermod -aG docker $USER, then log in again)"
        )
    started = False
    if not _dockerd_running():
        dockerd = find_command("dockerd")
        if dockerd is None:
            raise DevstackError("Docker is not installed (Debian/Ubuntu: sudo apt-get install docker.io)")
        processes.start_detached(
            [dockerd], pid_file=cache / "dockerd.pid", log_file=cache / "dockerd.log", env=os.environ
        )
        started = True
    holder: list[docker.DockerClient] = []

    def answers() -> bool:
        engine = client()
        if engine is not None:
            holder.append(engine)
        return engine is not None

    processes.wait_until(
        answers,
        timeout=DOCKERD_START_TIMEOUT_S,
        what="dockerd",
        alive=_dockerd_running,
        log_file=cache / "dockerd.log" if started else None,
    )
    return holder[0], started


def bridge_gateway(engine: docker.DockerClient) -> str:
    """The host's address on the default ``bridge`` network: containers reach host services there.

    Docker 20.10 leaves ``Gateway`` out of the IPAM config when it is the default, the subnet's first
    address, so that is the fallback.
    """
    configs = engine.networks.get("bridge").attrs.get("IPAM", {}).get("Config") or []
    for config in configs:
        if config.get("Gateway"):
            return str(config["Gateway"])
        if config.get("Subnet"):
            network = ipaddress.ip_network(config["Subnet"], strict=False)
            if network.version == 4:
                return str(network.network_address + 1)
    raise DevstackError("the Docker network 'bridge' has no IPv4 subnet; is the engine's bridge disabled?")


def remove_cluster_containers(engine: docker.DockerClient, cluster: str, *, grace_s: int = 10) -> int:
    """Stop (giving each ``grace_s`` to drain) and remove every container labelled with ``cluster``."""
    containers = engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{CLUSTER_LABEL}={cluster}"}
    )

    def remove(container: Container) -> None:
        try:
            container.stop(timeout=grace_s)
            container.remove(force=True)
        except NotFound:
            pass  # already gone (auto-removed, or the master removed it)
        except APIError as exc:
            if exc.status_code != HTTPStatus.CONFLICT:  # 409: someone else is removing it right now
                raise

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(remove, containers))
    return len(containers)


def dockerd_pids() -> list[int]:
    """The ``dockerd`` processes on this host (ours or the system's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "dockerd":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _dockerd_running() -> bool:
    return bool(dockerd_pids())
