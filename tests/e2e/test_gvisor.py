"""gVisor as the workers' runtime (``EXECUTIONER_WORKER_RUNTIME=runsc``): the test services registered it
with Docker (devstack/gvisor.py), the master's switch reaches Docker, a container confined exactly like a
worker runs on gVisor's kernel and still reaches Kafka, a whole cluster with gVisor workers runs jobs
submitted over HTTP, and the bench's floor runs Python and C jobs in it (the isolation scenario's gVisor
figures). The hostile corpus on gVisor: tests/sandbox/test_hostile_corpus_gvisor.py.
"""

import asyncio
import contextlib
import json
import platform
import secrets
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from docker.errors import NotFound

from bench.floor import Phase, measure_floor
from bench.workload import SHORT_C, SHORT_PYTHON
from common.runtimes import default_runtimes_dir, load_runtimes
from master.containers import create_container
from master.settings import MasterSettings
from master.spec import worker_run_args
from tests.e2e.sse import read_events
from tests.fixtures.cluster import cluster_of_its_own
from tests.fixtures.services import Services

pytestmark = pytest.mark.e2e

RUNTIME = "runsc"
GVISOR_RELEASE = "4.19.0-gvisor"
"""The Linux version gVisor's kernel reports, whatever the host runs."""
IMAGE = "executioner/worker-{language}:latest"
TIMEOUT_S = 120

# What a hostile job would look at first: which kernel it talks to, and whether the network is there.
PROBE = """
import json, os, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
try:
    socket.create_connection((host, int(port)), timeout=10).close()
    kafka = "reached"
except OSError as exc:
    kafka = str(exc)
print(json.dumps({"release": os.uname().release, "version": open("/proc/version").read(), "kafka": kafka}))
"""


def probe(services: Services, runtime: str | None) -> tuple[dict[str, Any], str]:
    """Run :data:`PROBE` in a python worker container made by ``worker_run_args`` under ``runtime``;
    its report and the runtime Docker used."""
    cluster = f"gvisor-{secrets.token_hex(3)}"
    settings = MasterSettings(cluster=cluster, worker_runtime=runtime, worker_image=IMAGE)
    args = worker_run_args(settings, "python", f"executioner-{cluster}-python")
    args.update(entrypoint=["python3", "-c", PROBE, services.kafka_container_bootstrap], command=None)
    engine = docker.from_env(timeout=TIMEOUT_S)
    try:
        container = create_container(engine, args)
        try:
            container.start()
            status = container.wait(timeout=TIMEOUT_S)
            output = container.logs(stdout=True, stderr=True).decode()
            assert status["StatusCode"] == 0, output
            container.reload()
            used = str(container.attrs["HostConfig"]["Runtime"])
        finally:
            with contextlib.suppress(NotFound):
                container.remove(force=True)
    finally:
        engine.close()
    return json.loads(output.strip().splitlines()[-1]), used


def test_the_test_services_registered_gvisor_with_docker(services: Services) -> None:
    engine = docker.from_env()
    try:
        runtimes = engine.info().get("Runtimes") or {}
    finally:
        engine.close()
    assert RUNTIME in runtimes, "install Go; the test services then build runsc and register it"


def test_a_worker_container_under_gvisor_sees_gvisors_kernel_and_reaches_kafka(services: Services) -> None:
    gvisor, used = probe(services, RUNTIME)
    assert used == RUNTIME
    assert gvisor["release"] == GVISOR_RELEASE != platform.release()
    assert gvisor["kafka"] == "reached"  # the worker's own network works (its jobs' must not: bubblewrap)

    runc, used = probe(services, None)  # the switch off: Docker's default runtime, the host's kernel
    assert used == "runc"
    assert runc["release"] == platform.release()
    assert runc["version"] != gvisor["version"]


async def test_the_floor_runs_python_and_c_jobs_under_gvisor(services: Services) -> None:
    runtimes = load_runtimes(default_runtimes_dir())
    for workload in (SHORT_PYTHON, SHORT_C):
        measured = await measure_floor(
            runtime=runtimes[workload.language],
            program=workload.program,
            phases=[Phase("gvisor", 3, 1, sandbox=False), Phase("gvisor_bwrap", 3, 1, sandbox=True)],
            image=IMAGE.format(language=workload.language),
            cluster=f"gvisor-{secrets.token_hex(3)}",
            cpus=1.0,
            settings={"EXECUTIONER_WORKER_RUNTIME": RUNTIME},
            timeout_s=300,
        )
        for phase in ("gvisor", "gvisor_bwrap"):
            result = measured[phase]
            assert (result.jobs, result.failures) == (3, 0), result.first_failure


async def test_a_cluster_with_gvisor_workers_runs_jobs_submitted_over_http(
    services: Services, artifacts: Path
) -> None:
    settings = {"EXECUTIONER_LANGUAGES": '["python"]', "EXECUTIONER_WORKER_RUNTIME": RUNTIME}
    async with (
        cluster_of_its_own(services, artifacts, "gvisor", settings) as cluster,
        httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client,
    ):
        source = "import os, socket\nprint(os.uname().release, socket.if_nameindex()[0][1], input())"
        reply = await client.post(
            "/api/v1/submissions", json={"language": "python", "source": source, "stdin": "hi\n"}
        )
        assert reply.status_code == 202, reply.text
        events = await asyncio.wait_for(read_events(client, reply.json()["events"]), 300)
    result = events[-1].data
    assert (result["status"], result["verdict"]) == ("finished", "accepted"), result
    assert result["stdout"] == f"{GVISOR_RELEASE} lo hi\n"  # gVisor's kernel; loopback only
