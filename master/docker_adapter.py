"""A thin asynchronous adapter over the (synchronous) docker SDK: the few operations the master needs.

Every call runs on the adapter's own thread pool rather than asyncio's default one: stopping a worker
blocks a thread for up to the grace period, and a dozen of those must not starve the reconcile loop.
"""

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import docker
from docker.errors import ImageNotFound, NotFound

from master.containers import create_container
from master.model import ObservedContainer
from master.spec import (
    LABEL_CLUSTER,
    LABEL_LANGUAGE,
    LABEL_METRICS_PORT,
    LABEL_ROLE,
    ROLE_VERSION_PROBE,
    cluster_filter,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

VERSION_TIMEOUT_S = 60
LOG_TAIL_LINES = 20


class VersionCommandFailed(RuntimeError):
    """A runtime's ``version`` command did not succeed in its image."""


def connect(docker_url: str | None, timeout: float = 60) -> Any:
    """A Docker client for ``docker_url``, or configured from the environment like the docker CLI
    (``DOCKER_HOST``...). Blocking: it asks the daemon for its API version. ``timeout``: of each call."""
    if docker_url and docker_url.startswith("ssh://"):
        # The ssh program, as the docker CLI uses it (the SDK's other way needs paramiko): ~/.ssh/config,
        # known_hosts and agents apply, and the remote end runs `docker system dial-stdio`.
        return docker.DockerClient(base_url=docker_url, timeout=timeout, use_ssh_client=True)
    if docker_url:
        # TLS as the docker CLI configures it (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), for tcp:// hosts.
        options = docker.utils.kwargs_from_env()
        options["base_url"] = docker_url
        return docker.DockerClient(timeout=timeout, **options)
    return docker.from_env(timeout=timeout)


def parse_time(value: str | None) -> datetime | None:
    """A Docker timestamp (RFC 3339, nanoseconds) as an aware datetime; None for Docker's zero time."""
    if not value or value.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def published_metrics(attrs: dict[str, Any]) -> str | None:
    """``address:port`` where Docker published the container's metrics port (named by its label), or None
    (no metrics port, or not published: the container is not running)."""
    port = (attrs["Config"].get("Labels") or {}).get(LABEL_METRICS_PORT)
    ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
    bindings = ports.get(f"{port}/tcp") if port else None
    if not bindings:
        return None
    binding = bindings[0]
    return f"{binding['HostIp'] or '127.0.0.1'}:{binding['HostPort']}"


def observed_from_attrs(attrs: dict[str, Any]) -> ObservedContainer:
    """An :class:`ObservedContainer` from Docker's ``inspect`` document."""
    state = attrs["State"]
    labels = attrs["Config"].get("Labels") or {}
    status = state["Status"]
    created = parse_time(attrs["Created"])
    assert created is not None  # every container has a creation time
    return ObservedContainer(
        id=attrs["Id"],
        name=attrs["Name"].lstrip("/"),
        cluster=labels.get(LABEL_CLUSTER, ""),
        language=labels.get(LABEL_LANGUAGE, ""),
        state=status,
        created_at=created,
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        exit_code=state.get("ExitCode") if status in ("exited", "dead") else None,
        oom_killed=bool(state.get("OOMKilled")),
        error=state.get("Error") or None,
        metrics_address=published_metrics(attrs),
    )


class DockerAdapter:
    """The master's view of one Docker daemon, limited to one cluster's containers."""

    def __init__(self, client: Any, cluster: str, threads: int = 16, host: str = "") -> None:
        self._client = client
        self._cluster = cluster
        self.host = host
        """The name of the host this engine is; every container observed here carries it."""
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="docker")

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def observe(self) -> list[ObservedContainer]:
        """Every worker container of this cluster, whatever its state."""
        containers = await self._call(
            self._client.containers.list, all=True, filters=cluster_filter(self._cluster), ignore_removed=True
        )
        return [dataclasses.replace(observed_from_attrs(c.attrs), host=self.host) for c in containers]

    async def image_id(self, image: str) -> str | None:
        """The id of ``image``, or None when it does not exist locally."""
        try:
            found = await self._call(self._client.images.get, image)
        except ImageNotFound:
            return None
        return str(found.id)

    async def host_memory_mb(self) -> int:
        """The Docker host's total memory, MiB."""
        return (await self.host_resources())[1]

    async def host_resources(self) -> tuple[float, int]:
        """The Docker host's CPUs and total memory (MiB), as its engine reports them."""
        info = await self._call(self._client.info)
        return float(info["NCPU"]), int(info["MemTotal"]) // (1024 * 1024)

    async def ship_image(self, image: str, to: "DockerAdapter") -> None:
        """Copy ``image`` (with its tag) from this engine to ``to``'s: ``docker save | docker load``,
        streamed, so no registry is needed and nothing is written to disk on the way."""
        await self._call(self._ship_sync, image, to._client)

    def _ship_sync(self, image: str, target: Any) -> None:
        stream = self._client.api.get_image(image)
        try:
            for line in target.api.load_image(stream):
                if isinstance(line, dict) and line.get("error"):
                    raise RuntimeError(str(line["error"]))
        finally:
            closer = getattr(stream, "close", None)
            if closer is not None:
                closer()

    async def start(self, run_args: dict[str, Any]) -> str:
        """Create and start a container (``containers.run`` arguments); returns its id.

        A container that was created but could not start is removed again, so the failure is reported
        once, as the error raised here.
        """
        return await self._call(self._start_sync, run_args)

    def _start_sync(self, run_args: dict[str, Any]) -> str:
        container = create_container(self._client, run_args)
        try:
            container.start()
        except Exception:
            container.remove(force=True)
            raise
        return str(container.id)

    async def stop_and_remove(self, container_id: str, grace_s: float) -> None:
        """SIGTERM, up to ``grace_s`` to exit (then SIGKILL), remove. A vanished container is fine."""
        await self._call(self._stop_and_remove_sync, container_id, grace_s)

    def _stop_and_remove_sync(self, container_id: str, grace_s: float) -> None:
        try:
            container = self._client.containers.get(container_id)
            container.stop(timeout=round(grace_s))
            container.remove(force=True)
        except NotFound:
            log.debug("container %s was already gone", container_id[:12])

    async def remove_dead(self, container_id: str) -> str:
        """Remove an ended container; returns its last log lines (kept for the report)."""
        return await self._call(self._remove_dead_sync, container_id)

    def _remove_dead_sync(self, container_id: str) -> str:
        try:
            container = self._client.containers.get(container_id)
        except NotFound:
            return ""
        logs = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES)
        with contextlib.suppress(NotFound):
            container.remove(force=True)
        return bytes(logs).decode(errors="replace")

    async def run_version(self, image_id: str, command: Sequence[str]) -> str:
        """The first line a runtime's ``version`` command prints in ``image_id``, run without network."""
        return await self._call(self._run_version_sync, image_id, list(command))

    def _run_version_sync(self, image_id: str, command: list[str]) -> str:
        container = self._client.containers.create(
            image_id,
            entrypoint=command[:1],
            command=command[1:],
            network_mode="none",
            labels={LABEL_CLUSTER: self._cluster, LABEL_ROLE: ROLE_VERSION_PROBE},
        )
        try:
            container.start()
            status = container.wait(timeout=VERSION_TIMEOUT_S)
            output = bytes(container.logs(stdout=True, stderr=True)).decode(errors="replace")
        finally:
            container.remove(force=True)
        if status.get("StatusCode") != 0:
            raise VersionCommandFailed(f"{command} exited with {status.get('StatusCode')}: {output[-500:]}")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        if not lines:
            raise VersionCommandFailed(f"{command} printed nothing")
        return lines[0][:255]

    async def close(self) -> None:
        """Wait for calls in flight, then close the client."""
        await asyncio.to_thread(self._pool.shutdown, wait=True)
        self._client.close()
