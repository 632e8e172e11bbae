"""The cluster under test: one API and one master process (this checkout's code) on the shared services,
with their own database, topic prefix and worker-container label, and the admin calls that size its pools.

Lifecycle: :meth:`BenchCluster.start` (database, API, master), the scenarios, :meth:`BenchCluster.stop`
(master first, which removes its workers; then the API; then the database). Logs stay in ``logs``.
"""

import asyncio
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import httpx

from bench.options import BenchOptions
from bench.progress import say
from bench.services import ServiceAddresses, create_database, drop_database
from devstack import docker_engine, processes
from schemas import Topics

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
SCALE_TIMEOUT_S = 180.0
POLL_S = 0.25
"""Pool sizes are rows the master acts on: there is no event to await, so the admin API is polled."""


@dataclass
class BenchCluster:
    """One API and one master of this run; ``languages`` are the pools the master manages."""

    options: BenchOptions
    services: ServiceAddresses
    languages: list[str]
    logs: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    api_port: int = field(default_factory=processes.free_port)
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    database_url: str = ""
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def database(self) -> str:
        """The run's own database."""
        return f"executioner_bench_{self.tag}"

    @property
    def name(self) -> str:
        """The ``org.executioner.cluster`` label of this run's workers."""
        return f"bench-{self.tag}"

    @property
    def topics(self) -> Topics:
        """The run's topic names."""
        return Topics(f"bench{self.tag}.")

    @property
    def api_url(self) -> str:
        """The API's base URL."""
        return f"http://127.0.0.1:{self.api_port}"

    def environment(self) -> dict[str, str]:
        """What the API and the master get: this process's environment minus its ``EXECUTIONER_*``
        variables, plus the cluster's settings and the ``--set`` ones."""
        options = self.options
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")},
            "EXECUTIONER_DATABASE_URL": self.database_url,
            "EXECUTIONER_KAFKA_BOOTSTRAP": self.services.kafka_bootstrap,
            "EXECUTIONER_WORKER_KAFKA_BOOTSTRAP": self.services.worker_kafka_bootstrap,
            "EXECUTIONER_WORKER_IMAGE": self.services.worker_image,
            "EXECUTIONER_TOPIC_PREFIX": self.topics.prefix,
            "EXECUTIONER_CLUSTER": self.name,
            "EXECUTIONER_LANGUAGES": json.dumps(self.languages),
            "EXECUTIONER_DEFAULT_REPLICAS": "0",  # each scenario sizes the pools it needs
            "EXECUTIONER_WORKER_POOL_SIZE": str(options.pool_size),
            "EXECUTIONER_WORKER_CPUS": str(options.worker_cpus),
            "EXECUTIONER_STOP_WORKERS_ON_EXIT": "true",
            "EXECUTIONER_ADMIN_TOKEN": self.admin_token,
            "EXECUTIONER_API_HOST": "127.0.0.1",
            "EXECUTIONER_API_PORT": str(self.api_port),
            **options.settings,
        }

    def _pid_file(self, name: str) -> Path:
        return self.logs / f"{name}.pid"

    async def start(self) -> None:
        """Create the database, start the API (it migrates and creates the topics), then the master."""
        server_url = self.services.database_url
        self.database_url = await create_database(server_url, self.database)
        for name in ("api", "master"):
            await self._start(name, self.environment())
            if name == "api":
                await asyncio.to_thread(
                    processes.wait_http_ok,
                    f"{self.api_url}/readyz",
                    READY_TIMEOUT_S,
                    alive=lambda: processes.running_pid(self._pid_file("api")) is not None,
                    log_file=self.logs / "api.log",
                )
        api, master = self.pids["api"], self.pids["master"]
        say(f"cluster {self.name}: API {self.api_url} (pid {api}), master pid {master}")

    async def _start(self, name: str, env: dict[str, str]) -> None:
        self.pids[name] = await asyncio.to_thread(
            processes.start_detached,
            [sys.executable, "-m", name],
            pid_file=self._pid_file(name),
            log_file=self.logs / f"{name}.log",
            env=env,
            cwd=REPO,
        )

    async def restart_master(self, **settings: str) -> None:
        """Stop the master (it removes its workers) and start it again with ``settings`` (``NAME=value``,
        without the ``EXECUTIONER_`` prefix) over the run's own: what a master-wide setting such as the
        pool size needs. No call: the run's settings again."""
        await asyncio.to_thread(processes.stop, self._pid_file("master"), timeout=STOP_TIMEOUT_S)
        extra = {f"EXECUTIONER_{name.upper()}": value for name, value in settings.items()}
        await self._start("master", {**self.environment(), **extra})
        say(f"cluster {self.name}: master restarted (pid {self.pids['master']}), {extra or 'run settings'}")

    async def stop(self) -> None:
        """Stop the master (it removes its workers), the API, any leftover worker, and drop the database."""
        for name in ("master", "api"):
            await asyncio.to_thread(processes.stop, self._pid_file(name), timeout=STOP_TIMEOUT_S)
        engine = docker.from_env(timeout=60)
        try:
            await asyncio.to_thread(docker_engine.remove_cluster_containers, engine, self.name)
        finally:
            engine.close()
        if self.database_url:
            await drop_database(self.services.database_url, self.database)

    def admin(self) -> httpx.AsyncClient:
        """A client of the admin API (the caller closes it)."""
        return httpx.AsyncClient(
            base_url=self.api_url, headers={"authorization": f"Bearer {self.admin_token}"}, timeout=30
        )

    async def scale(self, language: str, replicas: int, *, timeout_s: float = SCALE_TIMEOUT_S) -> None:
        """Set ``language``'s pool to ``replicas`` workers and wait until exactly that many run (for 0:
        until no container of the pool is left, draining ones included)."""
        async with self.admin() as admin:
            reply = await admin.put(f"/api/v1/admin/pools/{language}", json={"replicas": replicas})
            reply.raise_for_status()
            started = time.monotonic()
            last: dict[str, Any] = {}
            while time.monotonic() - started < timeout_s:
                reply = await admin.get("/api/v1/admin/pools")
                reply.raise_for_status()
                last = next(p for p in reply.json()["pools"] if p["language"] == language)
                live = [w for w in last["workers"] if w["state"] == "running"]
                if last["running"] == replicas == len(live) == len(last["workers"]):
                    return
                await asyncio.sleep(POLL_S)
        raise TimeoutError(
            f"pool {language} did not reach {replicas} workers in {timeout_s:.0f} s; last report: "
            f"running={last.get('running')} problem={last.get('problem')!r}"
        )

    def rss_kib(self, name: str) -> int | None:
        """Resident memory of the API or master process, KiB (None once it is gone)."""
        return rss_kib(self.pids[name])

    def alive(self) -> bool:
        """Whether both processes still run."""
        return all(processes.running_pid(self._pid_file(name)) is not None for name in ("api", "master"))


def rss_kib(pid: int) -> int | None:
    """``VmRSS`` of process ``pid`` from ``/proc``, KiB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
