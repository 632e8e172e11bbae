"""A small cluster of host processes for the grading tests: one API process (``python -m api``) and one
python worker process (``python -m worker``, ``EXECUTIONER_SANDBOX=none``), on the test Kafka and
MariaDB, with their own database and topic prefix. No Docker: nothing here builds or runs containers."""

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from httpx_sse import aconnect_sse

from tests.fixtures.cluster import free_port
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
WORKER_MAX_SOURCE_BYTES = 4096
"""The worker dead-letters larger sources (the API would accept them): how a test gets a job refused
by a worker."""


@dataclass(frozen=True)
class HostCluster:
    """Where the processes are."""

    api_url: str
    kafka_bootstrap: str
    topic_prefix: str
    logs: Path

    def topic(self, name: str) -> str:
        """A topic name with this cluster's prefix (``results``, ``jobs.python``...)."""
        return f"{self.topic_prefix}{name}"

    def cli_environment(self) -> dict[str, str]:
        """The environment of an ``executioner`` command aimed at this cluster."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")}
        env["EXECUTIONER_API_URL"] = self.api_url
        env["EXECUTIONER_KAFKA_BOOTSTRAP"] = self.kafka_bootstrap
        env["EXECUTIONER_TOPIC_PREFIX"] = self.topic_prefix
        return env


async def _start(name: str, env: dict[str, str], logs: Path) -> asyncio.subprocess.Process:
    with (logs / f"{name}.log").open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", name, cwd=REPO, env=env, stdout=log, stderr=log
        )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _tail(log: Path) -> str:
    """The end of a process's log, for a failure message."""
    return log.read_text(errors="replace")[-5000:]


async def _topics_exist(bootstrap: str, names: set[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def created() -> bool | None:
            return True if names <= set(await admin.list_topics()) else None

        await eventually(created, within_s=60)
    finally:
        await admin.close()


async def _warm_up(client: httpx.AsyncClient, worker_log: Path) -> None:
    """One submission all the way through (API, relay, worker, recorder, SSE): the cluster works."""
    reply = await client.post("/api/v1/submissions", json={"language": "python", "source": "print(1)"})
    assert reply.status_code == 202, reply.text
    events = f"/api/v1/submissions/{reply.json()['id']}/events"
    try:
        async with asyncio.timeout(90), aconnect_sse(client, "GET", events, timeout=None) as source:
            async for sse in source.aiter_sse():
                if sse.event == "result":
                    return
    except TimeoutError:
        pass
    raise AssertionError(f"the warm-up job got no result; worker log:\n{_tail(worker_log)}")


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def host_cluster(services: Services, logs: Path, scratch: Path) -> AsyncIterator[HostCluster]:
    """Start the API, wait until it is ready (its topics exist then), start the worker; stop both after."""
    database = f"executioner_grader_{secrets.token_hex(4)}"
    prefix = f"tgrade{secrets.token_hex(3)}."
    port = free_port()
    common = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")},
        "EXECUTIONER_DATABASE_URL": services.mysql.create_database(database),
        "EXECUTIONER_KAFKA_BOOTSTRAP": services.kafka_bootstrap,
        "EXECUTIONER_TOPIC_PREFIX": prefix,
        "EXECUTIONER_JOBS_PARTITIONS": "3",
        "EXECUTIONER_LOG_LEVEL": "INFO",
    }
    api_env = {**common, "EXECUTIONER_API_PORT": str(port), "EXECUTIONER_SSE_RECHECK_S": "2"}
    worker_env = {
        **common,
        "EXECUTIONER_RUNTIME_FILE": str(REPO / "runtimes" / "python" / "runtime.toml"),
        "EXECUTIONER_SANDBOX": "none",
        "EXECUTIONER_POOL_SIZE": "2",
        "EXECUTIONER_WORKER_ID": "grader-test-worker",
        "EXECUTIONER_SCRATCH_DIR": str(scratch),
        "EXECUTIONER_MAX_SOURCE_BYTES": str(WORKER_MAX_SOURCE_BYTES),
    }
    started: list[asyncio.subprocess.Process] = []
    try:
        api = await _start("api", api_env, logs)
        started.append(api)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:

            async def ready() -> bool | None:
                assert api.returncode is None, _tail(logs / "api.log")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return True
                return None

            await eventually(ready, within_s=90)
            started.append(await _start("worker", worker_env, logs))
            await _warm_up(client, logs / "worker.log")
        names = {f"{prefix}{name}" for name in ("results", "dead-letter", "jobs.python")}
        await _topics_exist(services.kafka_bootstrap, names)
        yield HostCluster(url, services.kafka_bootstrap, prefix, logs)
    finally:
        for process in reversed(started):
            await _stop(process)
        await _delete_topics(services.kafka_bootstrap, prefix)
        services.mysql.drop_database(database)
