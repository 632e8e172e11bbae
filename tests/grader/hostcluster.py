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
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from httpx_sse import aconnect_sse

from devstack.processes import free_port
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
WORKER_MAX_SOURCE_BYTES = 4096
"""The worker dead-letters larger sources (the API would accept them): how a test gets a job refused
by a worker."""


async def _start(name: str, env: dict[str, str], logs: Path) -> asyncio.subprocess.Process:
    with (logs / f"{name}.log").open("ab") as log:  # an API restarted by a test appends
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


async def consumer_at_end(bootstrap: str, topics: list[str]) -> AIOKafkaConsumer:
    """A group-less consumer of every partition of ``topics``, positioned at their ends: it sees only
    what is produced from now on."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:  # the producer is only there for its metadata
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(await producer.partitions_for(t))]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    return consumer


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


class HostCluster:
    """The processes, and where they are."""

    def __init__(self, services: Services, logs: Path, scratch: Path) -> None:
        self.kafka_bootstrap = services.kafka_bootstrap
        self.topic_prefix = f"tgrade{secrets.token_hex(3)}."
        self.logs = logs
        self._services = services
        self._database = f"executioner_grader_{secrets.token_hex(4)}"
        self._port = free_port()
        self.api_url = f"http://127.0.0.1:{self._port}"
        common = {
            **{k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")},
            "EXECUTIONER_DATABASE_URL": services.mysql.create_database(self._database),
            "EXECUTIONER_KAFKA_BOOTSTRAP": services.kafka_bootstrap,
            "EXECUTIONER_TOPIC_PREFIX": self.topic_prefix,
            "EXECUTIONER_JOBS_PARTITIONS": "3",
            "EXECUTIONER_LOG_LEVEL": "INFO",
        }
        self._api_env = {
            **common,
            "EXECUTIONER_API_PORT": str(self._port),
            "EXECUTIONER_SSE_RECHECK_S": "2",
            "EXECUTIONER_SHUTDOWN_GRACE_S": "1",
        }
        self._worker_env = {
            **common,
            "EXECUTIONER_RUNTIME_FILE": str(REPO / "runtimes" / "python" / "runtime.toml"),
            "EXECUTIONER_SANDBOX": "none",
            "EXECUTIONER_POOL_SIZE": "2",
            "EXECUTIONER_WORKER_ID": "grader-test-worker",
            "EXECUTIONER_SCRATCH_DIR": str(scratch),
            "EXECUTIONER_MAX_SOURCE_BYTES": str(WORKER_MAX_SOURCE_BYTES),
        }
        self._api: asyncio.subprocess.Process | None = None
        self._worker: asyncio.subprocess.Process | None = None
        for name in ("api", "worker"):
            (logs / f"{name}.log").unlink(missing_ok=True)  # the last session's

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

    async def start(self) -> None:
        """The API (ready), then the worker, then one job all the way through."""
        await self.start_api()
        self._worker = await _start("worker", self._worker_env, self.logs)
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:
            await _warm_up(client, self.logs / "worker.log")
        names = {self.topic(name) for name in ("results", "dead-letter", "jobs.python")}
        await _topics_exist(self.kafka_bootstrap, names)

    async def start_api(self) -> None:
        """Start the API process and wait until it is ready."""
        api = self._api = await _start("api", self._api_env, self.logs)
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:

            async def ready() -> bool | None:
                assert api.returncode is None, _tail(self.logs / "api.log")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return True
                return None

            await eventually(ready, within_s=90)

    async def stop_api(self) -> None:
        """SIGTERM the API process (its event streams end) and wait until it has exited."""
        if self._api is not None:
            await _stop(self._api)

    async def stop(self) -> None:
        """Stop both processes; remove the topics and the database."""
        for process in (self._worker, self._api):
            if process is not None:
                await _stop(process)
        await _delete_topics(self.kafka_bootstrap, self.topic_prefix)
        self._services.mysql.drop_database(self._database)


@contextlib.asynccontextmanager
async def host_cluster(services: Services, logs: Path, scratch: Path) -> AsyncIterator[HostCluster]:
    """A started cluster, stopped afterwards."""
    cluster = HostCluster(services, logs, scratch)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()
