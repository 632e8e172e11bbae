"""The pure parts of the metrics: bounded label values, the fan-out delay, the master's pool gauges."""

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from api.metrics.instruments import counted_stream, dead_letter_kind, fanout_delay_s, sse_streams_open
from master.metrics import PoolCollector, workers_by_state
from master.settings import MasterSettings
from master.spec import worker_run_args
from schemas.pools import ContainerReport, PoolStatus
from worker.settings import WorkerSettings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_dead_letter_kinds_are_a_closed_set() -> None:
    assert dead_letter_kind(result_published=True, decodable=True) == "max_deliveries"
    assert dead_letter_kind(result_published=True, decodable=False) == "max_deliveries"
    assert dead_letter_kind(result_published=False, decodable=True) == "rejected"
    assert dead_letter_kind(result_published=False, decodable=False) == "undecodable"


def test_fanout_delay_is_seconds_since_the_record_and_never_negative() -> None:
    assert fanout_delay_s(10_000, 12.5) == 2.5
    assert fanout_delay_s(13_000, 12.5) == 0.0  # the producer's clock ran ahead


def pool(
    states: list[str], *, desired: int = 2, lag: int | None = 3, hosts: list[str] | None = None
) -> PoolStatus:
    containers = [
        ContainerReport(
            id=f"{i:012x}",
            name=f"w{i}",
            state=state,
            started_at=None,
            host=hosts[i] if hosts else None,
            metrics=f"127.0.0.1:{32000 + i}" if state == "running" else None,
        )
        for i, state in enumerate(states)
    ]
    return PoolStatus(
        cluster="dev",
        image="executioner/worker-python:latest",
        image_id="sha256:0",
        desired=desired,
        running=states.count("running"),
        containers=containers,
        problem=None,
        backoff_until=None,
        recent_failures=[],
        observed_at=NOW,
        lag=lag,
    )


def test_docker_states_fold_into_running_starting_stopping() -> None:
    status = pool(["running", "created", "restarting", "stopping", "exited", "dead"])
    assert workers_by_state(status) == {("", "running"): 1, ("", "starting"): 2, ("", "stopping"): 1}


def test_workers_are_counted_per_host() -> None:
    status = pool(["running", "running", "created"], hosts=["a", "b", "b"])
    assert workers_by_state(status) == {
        ("a", "running"): 1,
        ("a", "starting"): 0,
        ("a", "stopping"): 0,
        ("b", "running"): 1,
        ("b", "starting"): 1,
        ("b", "stopping"): 0,
    }


Key = tuple[str, tuple[tuple[str, str], ...]]


def collected(statuses: dict[str, PoolStatus], *, active: bool) -> dict[Key, float]:
    registry = CollectorRegistry()
    registry.register(PoolCollector(lambda: statuses, lambda: active))
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


def test_the_active_master_reports_each_pool() -> None:
    samples = collected({"python": pool(["running", "created"]), "c": pool([], lag=None)}, active=True)
    assert samples[("executioner_master_leader", ())] == 1
    assert samples[("executioner_master_workers_desired", (("language", "python"),))] == 2
    python_running = (("host", ""), ("language", "python"), ("state", "running"))
    assert samples[("executioner_master_workers", python_running)] == 1
    python_starting = (("host", ""), ("language", "python"), ("state", "starting"))
    assert samples[("executioner_master_workers", python_starting)] == 1
    assert (
        samples[("executioner_master_workers", (("host", ""), ("language", "c"), ("state", "running")))] == 0
    )
    assert samples[("executioner_master_queue_lag", (("language", "python"),))] == 3
    assert ("executioner_master_queue_lag", (("language", "c"),)) not in samples  # unknown, not 0


def test_a_standby_master_reports_no_pools() -> None:
    samples = collected({"python": pool(["running"])}, active=False)
    assert samples == {("executioner_master_leader", ()): 0}


async def test_a_stream_is_counted_while_it_is_iterated() -> None:
    seen: list[float] = []

    async def events() -> AsyncIterator[int]:
        for i in range(2):
            seen.append(sse_streams_open._value.get())
            yield i

    before = sse_streams_open._value.get()
    stream = counted_stream(events())
    assert [item async for item in stream] == [0, 1]
    assert seen == [before + 1, before + 1]
    assert sse_streams_open._value.get() == before

    abandoned = counted_stream(events())
    assert isinstance(abandoned, AsyncGenerator)
    assert await abandoned.__anext__() == 0
    await abandoned.aclose()  # a client that went away
    assert sse_streams_open._value.get() == before


def test_worker_metrics_are_published_on_the_hosts_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = MasterSettings(database_url="mysql+asyncmy://u:p@h/d", worker_metrics_port=9400)
    args = worker_run_args(settings, "python", "w")
    assert args["ports"] == {"9400/tcp": ("127.0.0.1", None)}
    # The worker reads the port from the environment the master gives its container.
    monkeypatch.setenv("EXECUTIONER_METRICS_PORT", args["environment"]["EXECUTIONER_METRICS_PORT"])
    worker = WorkerSettings()
    assert (worker.metrics_host, worker.metrics_port) == ("0.0.0.0", 9400)


def test_without_a_port_workers_serve_no_metrics() -> None:
    args = worker_run_args(MasterSettings(database_url="mysql+asyncmy://u:p@h/d"), "python", "w")
    assert "EXECUTIONER_METRICS_PORT" not in args["environment"]
    assert args["ports"] == {}
